/**
 * Shared arrays under the controlled scheduler: every element read and write of a shared typed
 * array, and every Atomics op on one, is followed by a scheduling point, so a plain
 * `x[0] = x[0] + 1` can be preempted between its load and its store, and a point's description
 * (the interleaving table) is the access that just happened, with its value. The array is a Proxy (as KCSAN's are), registered
 * with KCSAN's table so Atomics and unwrap see through it.
 *
 * With KCSAN on for the array the race check is exact here: an access of another CPU to the same
 * bytes at the step just before this one, one of the two a write and not both atomic, is a data
 * race between two steps adjacent in the schedule, reported with both sides.
 */
import { CONTROL, KCSAN, WATCHPOINT, WATCHPOINT_BYTES, WATCHPOINT_TEXT } from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import {
  control_pending_point, control_point, control_progress, control_read, control_wait_deadline, last_detail, post_pending,
} from '../sched/control.ts';
import { call_trace } from '../arch/stack.ts';
import { now } from '../arch/clock.ts';
import { kernel_report } from '../printk/printk.ts';
import { element_index, register_target, set_atomic_hook } from './kcsan.ts';
import { kcsan_first_report } from './kcsan-report.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const names = new WeakMap<ArrayBufferView, string>();
const kcsanOn = new WeakSet<ArrayBufferView>();
/** Proxy -> its name and KCSAN flag, so an array sent to another CPU is instrumented the same there. */
const proxies = new WeakMap<object, { name: string; kcsan: boolean }>();

export function shared_array_name(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null ? proxies.get(v)?.name : undefined;
}
export function shared_array_kcsan(v: unknown): boolean {
  return typeof v === 'object' && v !== null ? proxies.get(v)?.kcsan === true : false;
}
let hooked = false;

const W_WRITE = 1;
const W_ATOMIC = 2;

function elem_size(ta: ArrayBufferView): number {
  return (ta as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}

function text(v: unknown): string {
  return String(v);
}

/** The instrumented view of shared array `name` under the controlled scheduler. */
export function instrument_controlled<A extends ArrayBufferView & ArrayLike<number | bigint>>(ta: A, name: string, kcsan: boolean): A {
  if (!hooked) {
    hooked = true;
    set_atomic_hook(atomic_point);
  }
  names.set(ta, name);
  if (kcsan) kcsanOn.add(ta);
  const proxy = new Proxy(ta, {
    get(target, key) {
      const i = element_index(key);
      if (i < 0 || i >= target.length) {
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? method(target, key, v as (...a: unknown[]) => unknown, name, kcsan) : v;
      }
      if (post_pending) control_pending_point(this_cpu.current);
      if (kcsan) race_check(target, i, 0);
      const v = target[i];
      control_read(this_cpu.current, 'read', name, i, target.byteOffset + i * elem_size(target), v);
      if (last_detail !== null) last_detail.value = text(v);
      return v;
    },
    set(target, key, value) {
      const i = element_index(key);
      if (i < 0 || i >= target.length) return Reflect.set(target, key, value, target);
      if (post_pending) control_pending_point(this_cpu.current);
      if (kcsan) race_check(target, i, W_WRITE);
      const a = target as unknown as Record<number, unknown>;
      const before = a[i];
      a[i] = value;
      const after = a[i];
      if (after !== before) control_progress();
      control_point(this_cpu.current, 'write', name, false, i);
      if (last_detail !== null) last_detail.value = text(after);
      return true;
    },
  });
  register_target(proxy, ta);
  proxies.set(proxy, { name, kcsan });
  return proxy;
}

/** Methods that make a new view of the same memory: the view is instrumented too. */
const VIEWS = new Set<string | symbol>(['subarray']);
/** Methods that only read the array's shape or make a copy of nothing shared. */
const PLAIN = new Set<string | symbol>(['toString', 'toLocaleString', 'valueOf']);

/**
 * A method of an instrumented array (fill, set, reduce, for...of, ...) runs on the array itself,
 * in one step: a point after it (kind 'call', `name.method`). A new view (subarray) is instrumented.
 */
function method(target: ArrayBufferView, key: string | symbol, fn: (...a: unknown[]) => unknown, name: string, kcsan: boolean): unknown {
  if (PLAIN.has(key)) return fn.bind(target);
  const label = `${name}.${String(key).replace(/^Symbol\((.*)\)$/, '[$1]')}`;
  if (VIEWS.has(key)) {
    return (...a: unknown[]) => instrument_controlled(fn.apply(target, a) as ArrayBufferView & ArrayLike<number>, name, kcsan);
  }
  return (...a: unknown[]) => {
    const r = fn.apply(target, a);
    control_progress(); // it may have written: not a livelock
    control_point(this_cpu.current, 'call', label);
    return r;
  };
}

const WRITES = new Set(['add', 'and', 'exchange', 'or', 'store', 'sub', 'xor']);

/** An Atomics op on an instrumented array: a point, then the op (a wait spins on points in virtual time). */
function atomic_point(name: string, op: (...a: unknown[]) => unknown, ta: ArrayBufferView, i: number, rest: unknown[]): unknown {
  const t = this_cpu.current;
  const label = names.get(ta) ?? 'shared';
  if (name === 'wait' || name === 'waitAsync') return atomic_wait(name, op, ta, i, rest, label);
  if (post_pending) control_pending_point(t);
  if (kcsanOn.has(ta) && name !== 'notify') race_check(ta, i, (WRITES.has(name) || name === 'compareExchange' ? W_WRITE : 0) | W_ATOMIC);
  const r = op.call(Atomics, ta, i, ...rest);
  if (WRITES.has(name) || (name === 'compareExchange' && r === rest[0])) control_progress();
  if (name === 'load') control_read(t, 'atomic', `Atomics.load ${label}`, i, ta.byteOffset + i * elem_size(ta), r);
  else control_point(t, 'atomic', `Atomics.${name} ${label}`, false, i);
  if (last_detail !== null) last_detail.value = text(r);
  return r;
}

/**
 * Atomics.wait on a shared array under control: the CPU may not block (the thread that would
 * notify cannot run meanwhile), so it spins on points until the value differs, or the virtual
 * timeout passes ('timed-out'); a notify is only a point. waitAsync answers at once, as resolved.
 */
function atomic_wait(name: string, op: (...a: unknown[]) => unknown, ta: ArrayBufferView, i: number, rest: unknown[], label: string): unknown {
  const t = this_cpu.current;
  const arr = ta as unknown as ArrayLike<number | bigint>;
  const timeout = rest[1] === undefined ? Infinity : Number(rest[1]);
  void op;
  const end = virtual_now() + timeout;
  control_wait_deadline(end); // the timeout is a timer of this CPU's: time may jump to it
  try {
    for (;;) {
      if (arr[i] !== rest[0]) return name === 'wait' ? 'not-equal' : { async: false, value: 'not-equal' };
      if (virtual_now() >= end) return name === 'wait' ? 'timed-out' : { async: false, value: 'timed-out' };
      control_point(t, 'spin', `Atomics.${name} ${label}`, true, i);
    }
  } finally {
    control_wait_deadline(Infinity);
  }
}

function virtual_now(): number {
  return now();
}

/**
 * Exact race check (KCSAN on for the array): the access just before this one in the schedule (no
 * point between them but its own), if it was another CPU's access to the same bytes (kept in the first watchpoint slot with its step number), one of
 * the two a write and not both atomic, is a data race: nothing ordered the two (any kernel call
 * between them, a lock taken or released, is a point of its own, so they would not be adjacent).
 */
function race_check(ta: ArrayBufferView, i: number, how: number): void {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const w = mem.i32;
  const size = elem_size(ta);
  const addr = ta.byteOffset + i * size;
  const step = w[mem.layout.controlWord + CONTROL.STEP]; // the point that follows this access
  const b = (mem.layout.kcsanBase + KCSAN.WORDS * 4) >> 2; // watchpoint slot 0: the previous access
  const pa = w[b + WATCHPOINT.ADDR];
  const prevHow = w[b + WATCHPOINT.WRITE];
  const mine = describe(how, addr, size, names.get(ta) ?? 'shared', i);
  if (pa !== 0 && w[b + WATCHPOINT.HIT] === step - 1 && w[b + WATCHPOINT.CPU] !== cpu.id &&
    pa < addr + size && addr < pa + w[b + WATCHPOINT.SIZE] && ((how | prevHow) & W_WRITE) !== 0 && (how & prevHow & W_ATOMIC) === 0) {
    const other = decoder.decode(mem.u8.slice(b * 4 + WATCHPOINT.WORDS * 4, b * 4 + WATCHPOINT_BYTES)).replace(/\0+$/, '');
    report(mine, other, addr, size, w[b + WATCHPOINT.HIT_CPU], w[b + WATCHPOINT.HIT_PID]);
  }
  w[b + WATCHPOINT.ADDR] = addr;
  w[b + WATCHPOINT.SIZE] = size;
  w[b + WATCHPOINT.WRITE] = how;
  w[b + WATCHPOINT.CPU] = cpu.id;
  w[b + WATCHPOINT.HIT] = step;
  w[b + WATCHPOINT.HIT_CPU] = cpu.id;
  w[b + WATCHPOINT.HIT_PID] = cpu.current.pid;
  const bytes = encoder.encode(mine).subarray(0, WATCHPOINT_TEXT - 1);
  mem.u8.fill(0, b * 4 + WATCHPOINT.WORDS * 4, b * 4 + WATCHPOINT_BYTES);
  mem.u8.set(bytes, b * 4 + WATCHPOINT.WORDS * 4);
}

function describe(how: number, addr: number, size: number, name: string, i: number): string {
  const cpu = this_cpu;
  const t = cpu.current;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  const kind = `${how & W_ATOMIC ? 'atomic ' : ''}${how & W_WRITE ? 'write' : 'read'}`;
  return `${kind} to 0x${addr.toString(16)} (${name}[${i}]) of ${size} bytes by task ${t.pid} (${comm}) on cpu ${cpu.id}:\n` +
    call_trace().slice(0, 3).map((f) => ` ${f.slice(3)}`).join('\n');
}

function report(mine: string, other: string, addr: number, size: number, otherCpu: number, otherPid: number): void {
  const fn = (s: string) => s.split('\n')[1]?.trim().split(' ')[0] ?? '?';
  const pair = [fn(mine), fn(other)].sort(); // Linux's consistent title (kcsan/report.c sorts the names)
  if (!kcsan_first_report(pair[0], pair[1])) return; // once a pair on the whole machine, as the parallel mode
  const bar = '==================================================================';
  kernel_report('kcsan', [bar, `BUG: KCSAN: data-race in ${pair[0]} / ${pair[1]}`, '', mine, '', other, '',
    'the two accesses are adjacent steps of the controlled schedule', bar], {
    bug: 'data_race', addr, size, other_cpu: otherCpu, other_pid: otherPid, unknown_origin: false, exact: true,
  });
}

/** An atomic_t operation under control (sync/atomic.ts): the point after it; a read may be a spin. */
export function atomic_t_point(name: string, word: number, op: string, value: number, wrote: boolean): void {
  const t = this_cpu.current;
  if (wrote) control_progress();
  if (wrote) control_point(t, 'atomic', `${op} ${name}`);
  else control_read(t, 'atomic', `${op} ${name}`, -1, word * 4, value);
  if (last_detail !== null) last_detail.value = String(value);
}

/** A kernel query on a word (mutex_is_locked, completion_done, ...) under control: the point after it; asking again unchanged is a spin. */
export function kernel_read_point<T>(what: string, addr: number, value: T): T {
  if (this_cpu.controlled) control_read(this_cpu.current, 'call', what, -1, addr, value);
  return value;
}
