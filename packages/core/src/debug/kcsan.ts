/**
 * KCSAN-style data-race detection on shared typed arrays (after Documentation/dev-tools/kcsan.rst):
 * an instrumented array is a Proxy whose element reads and writes are checked against the soft
 * watchpoints in machine memory; one access in RATE sets a watchpoint on its address itself and
 * stalls its CPU for STALL_US microseconds, so another CPU's access to that address (at least one
 * of the two a write) hits it: a data race, reported with both sides. A value that changed across
 * the stall with no hit is a race at unknown origin. Atomics on an instrumented array only check
 * the watchpoints (they never race). Which accesses are watched derives from the machine's seed.
 *
 * Cost: an array that is not instrumented is the plain typed array (nothing added). An unwatched
 * access of an instrumented one is the Proxy trap, a digit scan of the key, one load of ACTIVE
 * (the watchpoint scan only while some CPU has one set) and a compare with the thread's next
 * watched access: no hash, no allocation, no closure. With KCSAN on, the global Atomics is
 * wrapped on that CPU to see through the Proxies; this file keeps the unwrapped ones for itself.
 */
import { KCSAN, WATCHPOINT, WATCHPOINT_BYTES, WATCHPOINT_SLOTS, WATCHPOINT_TEXT, HEADER, HF_KCSAN } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { this_cpu } from '../sched/cpu.ts';
import type { Task } from '../sched/task.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_trace } from '../arch/stack.ts';
import { decision_hash } from '../arch/hash.ts';
import { kcsan_first_report, kcsan_value_hex } from './kcsan-report.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Proxy -> its typed array; a tagged array -> itself. */
const targets = new WeakMap<object, ArrayBufferView>();
/** The tag of an instrumented plain typed array: its traps (see instrument). */
const KCSAN_TAG = Symbol('kcsan');

// The Atomics this file uses itself: taken before patch_atomics wraps the global ones.
const atomic_load = Atomics.load;
const atomic_store = Atomics.store;
const atomic_add = Atomics.add;
const atomic_sub = Atomics.sub;
const atomic_cas = Atomics.compareExchange;

/** Another instrumenting Proxy (the controlled scheduler's) registers its target, for unwrap and Atomics. */
export function register_target(proxy: object, ta: ArrayBufferView): void {
  targets.set(proxy, ta);
}

export function unwrap<T>(x: T): T {
  return ((x && typeof x === 'object' && targets.get(x as object)) as T) || x;
}

/*
 * Sampling. A thread's instrumented accesses are numbered 1, 2, ... (Task.kcsanAccesses counts
 * them); they fall in blocks of RATE consecutive accesses, and in block b exactly one is watched,
 * number b * RATE + 1 + decision_hash(seed, pid, b) % RATE. So which accesses are watched is a
 * function of (seed, pid, count), the same however the CPUs interleave, one in RATE on average;
 * and the next watched number follows from the count alone, so a CPU keeps it for the thread it
 * last saw (s_task) and recomputes it only when another thread makes an instrumented access.
 */
let s_task: Task | null = null;
/** The number of s_task's next watched access. */
let s_next = 0;

/** The number of the first watched access of thread `pid` after its access number `count`, at 1 in `rate`. */
export function next_watched(seed: number, pid: number, rate: number, count: number): number {
  let b = Math.floor(count / rate);
  let n = b * rate + 1 + (decision_hash(seed, pid, b, 5) % rate);
  if (n <= count) {
    b++;
    n = b * rate + 1 + (decision_hash(seed, pid, b, 5) % rate);
  }
  return n;
}

function next_watched_of(t: Task): number {
  const w = this_cpu.mem.i32;
  return next_watched(w[HEADER.SEED], t.pid, w[(this_cpu.mem.layout.kcsanBase >> 2) + KCSAN.RATE] || 50, t.kcsanAccesses);
}

/** Count this instrumented access of the running thread: is it watched? */
function sample(): boolean {
  const t = this_cpu.current;
  if (t !== s_task) {
    s_task = t;
    s_next = next_watched_of(t);
  }
  if (++t.kcsanAccesses !== s_next) return false;
  s_next = next_watched_of(t);
  return true;
}

function slot_word(s: number): number {
  return (this_cpu.mem.layout.kcsanBase + KCSAN.WORDS * 4 + s * WATCHPOINT_BYTES) >> 2;
}

/** Describe this access for the other side of a race (written into the watchpoint it hit). */
function describe(write: boolean, addr: number, size: number): string {
  const cpu = this_cpu;
  const t = cpu.current;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  const frames = call_trace();
  return `${write ? 'write' : 'read'} to 0x${addr.toString(16)} of ${size} bytes by task ${t.pid} (${comm}) on cpu ${cpu.id}:\n` +
    frames.slice(0, 3).map((f) => ` ${f.slice(3)}`).join('\n');
}

/** The watchpoint scan of an instrumented access, while some CPU has one set (ACTIVE > 0): does it hit one? */
function check(addr: number, size: number, write: boolean): void {
  const cpu = this_cpu;
  const w = cpu.mem.i32;
  for (let s = 0; s < WATCHPOINT_SLOTS; s++) {
    const b = slot_word(s);
    const a = atomic_load(w, b + WATCHPOINT.ADDR);
    if (a === 0 || a >= addr + size || addr >= a + w[b + WATCHPOINT.SIZE]) continue;
    if (w[b + WATCHPOINT.CPU] === cpu.id || !(write || w[b + WATCHPOINT.WRITE])) continue;
    if (atomic_cas(w, b + WATCHPOINT.HIT, 0, 1) !== 0) continue;
    const text = encoder.encode(describe(write, addr, size)).subarray(0, WATCHPOINT_TEXT - 1);
    cpu.mem.u8.fill(0, b * 4 + WATCHPOINT.WORDS * 4, b * 4 + WATCHPOINT_BYTES);
    cpu.mem.u8.set(text, b * 4 + WATCHPOINT.WORDS * 4);
    w[b + WATCHPOINT.HIT_PID] = cpu.current.pid;
    w[b + WATCHPOINT.HIT_CPU] = cpu.id;
    atomic_store(w, b + WATCHPOINT.HIT_WRITE, write ? 1 : 2);
  }
}

/** Word index of KCSAN.ACTIVE (this CPU's machine memory: the same for every array). */
function active_word(): number {
  return (this_cpu.mem.layout.kcsanBase >> 2) + KCSAN.ACTIVE;
}

/** The sampled access: watch its address across a stall, then report what the stall revealed. */
function watch(ta: ArrayBufferView & ArrayLike<number | bigint>, i: number, write: boolean): void {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const w = mem.i32;
  const size = (ta as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const addr = ta.byteOffset + i * size;
  let slot = -1;
  for (let s = 0; s < WATCHPOINT_SLOTS && slot < 0; s++) {
    if (atomic_cas(w, slot_word(s) + WATCHPOINT.ADDR, 0, -1) === 0) slot = s;
  }
  if (slot < 0) return; // all watchpoints busy: skip this one
  const b = slot_word(slot);
  w[b + WATCHPOINT.SIZE] = size;
  // (HIT, HIT_WRITE and the text are reset before ADDR is published below)
  w[b + WATCHPOINT.WRITE] = write ? 1 : 0;
  w[b + WATCHPOINT.CPU] = cpu.id;
  w[b + WATCHPOINT.HIT] = 0;
  w[b + WATCHPOINT.HIT_WRITE] = 0;
  const kc = mem.layout.kcsanBase >> 2;
  atomic_store(w, b + WATCHPOINT.ADDR, addr);
  atomic_add(w, kc + KCSAN.ACTIVE, 1);
  const before = ta[i];
  const until = now() + (w[kc + KCSAN.STALL_US] || 80) / 1000;
  while (now() < until) { /* stall on this CPU so the others run into the watchpoint */ }
  const after = ta[i];
  let hit = atomic_load(w, b + WATCHPOINT.HIT) === 1;
  // A hitter fills in its side before it sets HIT_WRITE: wait for it (it is running right now).
  for (let n = 0; hit && atomic_load(w, b + WATCHPOINT.HIT_WRITE) === 0; n++) if (n > 1e6) hit = false;
  const other = hit ? decoder.decode(mem.u8.slice(b * 4 + WATCHPOINT.WORDS * 4, b * 4 + WATCHPOINT_BYTES)).replace(/\0+$/, '') : '';
  const other_cpu = w[b + WATCHPOINT.HIT_CPU];
  const other_pid = w[b + WATCHPOINT.HIT_PID];
  atomic_store(w, b + WATCHPOINT.ADDR, 0); // only now: the slot may be claimed again at once
  atomic_sub(w, kc + KCSAN.ACTIVE, 1);
  if (!hit && before === after) return;
  const mine = describe(write, addr, size);
  const fn = (s: string) => s.split('\n')[1]?.trim().split(' ')[0] ?? '?';
  // Linux sorts the two functions' names for a consistent title (kcsan/report.c): one per pair, either way round.
  const pair = hit ? [fn(mine), fn(other)].sort() : [fn(mine)];
  if (!kcsan_first_report(pair[0], pair[1] ?? null)) return; // one report per pair of functions, machine-wide
  const bar = '==================================================================';
  const lines = hit
    ? [bar, `BUG: KCSAN: data-race in ${pair[0]} / ${pair[1]}`, '', mine, '', other]
    : [bar, `BUG: KCSAN: data-race in ${fn(mine)}`, '', `race at unknown origin, with ${mine}`];
  if (before !== after) lines.push('', `value changed: 0x${kcsan_value_hex(ta, before)} -> 0x${kcsan_value_hex(ta, after)}`);
  lines.push(bar);
  kernel_report('kcsan', lines, {
    bug: 'data_race', addr, size, value_before: String(before), value_after: String(after),
    other_cpu: hit ? other_cpu : null, other_pid: hit ? other_pid : null, unknown_origin: !hit,
  });
}

/**
 * The element index a property key names, or -1: a canonical array index ("0", "17", not "017",
 * "-1", "1.5"), read digit by digit up to 9 digits (no number-string round trip); longer keys go
 * the slow way. A key that is not an index reaches the typed array itself (Reflect).
 */
export function element_index(key: string | symbol): number {
  if (typeof key !== 'string') return -1;
  const n = key.length;
  if (n === 0 || n > 9) return n > 9 ? long_index(key) : -1;
  let i = key.charCodeAt(0) - 48;
  if (i < 0 || i > 9 || (i === 0 && n > 1)) return -1;
  for (let k = 1; k < n; k++) {
    const d = key.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    i = i * 10 + d;
  }
  return i;
}

function long_index(key: string): number {
  const i = Number(key);
  return Number.isInteger(i) && i >= 0 && String(i) === key ? i : -1;
}

type Instrumentable = ArrayBufferView & ArrayLike<number | bigint>;

/**
 * The traps of one instrumented array, with what they need of it fixed at instrument time (a
 * typed array over a SharedArrayBuffer never changes length or offset). One object per array,
 * its methods shared: an access allocates nothing.
 */
class KcsanTraps implements ProxyHandler<Instrumentable> {
  readonly length: number;
  readonly size: number;
  readonly offset: number;
  readonly words: Int32Array;
  readonly active: number;

  constructor(ta: Instrumentable) {
    this.length = ta.length;
    this.size = (ta as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    this.offset = ta.byteOffset;
    this.words = this_cpu.mem.i32;
    this.active = active_word();
  }

  get(target: Instrumentable, key: string | symbol): unknown {
    const i = element_index(key);
    if (i < 0 || i >= this.length) {
      if (key === 'length') return this.length;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    }
    return this.read(target, i);
  }

  set(target: Instrumentable, key: string | symbol, value: unknown): boolean {
    const i = element_index(key);
    if (i < 0 || i >= this.length) return Reflect.set(target, key, value, target);
    this.write(target, i, value);
    return true;
  }

  /** The checked read of element `i` (0 <= i < length). */
  read(target: Instrumentable, i: number): number | bigint {
    if (atomic_load(this.words, this.active) !== 0) check(this.offset + i * this.size, this.size, false);
    if (sample()) watch(target, i, false);
    return target[i];
  }

  /** The checked write of element `i` (0 <= i < length). */
  write(target: Instrumentable, i: number, value: unknown): void {
    if (atomic_load(this.words, this.active) !== 0) check(this.offset + i * this.size, this.size, true);
    if (sample()) watch(target, i, true);
    (target as unknown as Record<number, unknown>)[i] = value;
  }
}

/**
 * An instrumented view of a shared typed array. With KCSAN on for the whole machine (and the
 * parallel scheduler) a module's own code is instrumented when it is built (kcsan-instrument.ts):
 * the array itself is returned, tagged, and the compiled accesses check it (kcsan_r, kcsan_w,
 * kcsan_rmw, kcsan_inc below). Otherwise it is a Proxy, which checks every access, from any code.
 */
export function instrument<A extends Instrumentable>(ta: A): A {
  patch_atomics();
  const traps = new KcsanTraps(ta);
  if (kcsan_global() && !this_cpu.controlled) {
    Object.defineProperty(ta, KCSAN_TAG, { value: traps });
    targets.set(ta, ta);
    return ta;
  }
  const proxy = new Proxy(ta, traps as ProxyHandler<A>);
  targets.set(proxy, ta);
  return proxy;
}

/** Is `x` an instrumented array: a Proxy of this file's or of the controlled scheduler's, or a tagged array? */
export function is_instrumented(x: unknown): boolean {
  return typeof x === 'object' && x !== null && targets.has(x);
}

/*
 * The compile-time instrumentation's entry points: a module built with KCSAN on calls these in
 * place of its element accesses. Each is exactly the access it replaces on anything but a tagged
 * array (a Proxy's traps are never run for the tag: ArrayBuffer.isView is false for a Proxy), and
 * on a tagged one the checked access of an element in range (an index out of range or not an
 * integer is the plain access: it touches no element).
 */

/** The traps of `a` if it is a tagged array and `i` one of its elements, else undefined. */
function tagged(a: unknown, i: unknown): KcsanTraps | undefined {
  if (!ArrayBuffer.isView(a)) return undefined;
  const k = (a as unknown as { [KCSAN_TAG]?: KcsanTraps })[KCSAN_TAG];
  return k !== undefined && typeof i === 'number' && i >= 0 && i < k.length && (i | 0) === i ? k : undefined;
}

type Indexable = Record<PropertyKey, any>;

/** `a[i]` in a read. */
export function kcsan_r(a: any, i: any): unknown {
  const k = tagged(a, i);
  return k === undefined ? a[i] : k.read(a, i);
}

/** `a[i] = v`. */
export function kcsan_w(a: any, i: any, v: unknown): unknown {
  const k = tagged(a, i);
  if (k === undefined) return (a[i] = v);
  k.write(a, i, v);
  return v;
}

/** `++a[i]`, `--a[i]` (post false) and `a[i]++`, `a[i]--` (post true); d is 1 or -1. */
export function kcsan_inc(a: any, i: any, d: number, post: boolean): unknown {
  const k = tagged(a, i);
  if (k === undefined) return post ? (d > 0 ? (a as Indexable)[i]++ : (a as Indexable)[i]--) : d > 0 ? ++(a as Indexable)[i] : --(a as Indexable)[i];
  const old = k.read(a, i);
  const v = typeof old === 'bigint' ? old + BigInt(d) : old + d;
  k.write(a, i, v);
  return post ? old : v;
}

/** The compound assignment operators kcsan_rmw takes, by number. */
export const RMW_OPS = ['+', '-', '*', '/', '%', '**', '<<', '>>', '>>>', '&', '|', '^'] as const;

function rmw_op(op: number, x: any, v: any): any {
  switch (op) {
    case 0: return x + v;
    case 1: return x - v;
    case 2: return x * v;
    case 3: return x / v;
    case 4: return x % v;
    case 5: return x ** v;
    case 6: return x << v;
    case 7: return x >> v;
    case 8: return x >>> v;
    case 9: return x & v;
    case 10: return x | v;
    default: return x ^ v;
  }
}

/** `a[i] op= v` with v already evaluated (the compiler passes only a v whose evaluation has no effects). */
export function kcsan_rmw(a: any, i: any, op: number, v: unknown): unknown {
  const k = tagged(a, i);
  if (k === undefined) return ((a as Indexable)[i] = rmw_op(op, (a as Indexable)[i], v));
  const x = rmw_op(op, k.read(a, i), v);
  k.write(a, i, x);
  return x;
}

/** An Atomics op on an instrumented array, run by a hook in its stead: `op` does the op itself. */
export type AtomicHook = (name: string, op: (...a: unknown[]) => unknown, ta: ArrayBufferView, i: number, rest: unknown[]) => unknown;
/** Controlled mode: the Atomics wrapper hands every op on an instrumented array to this (a scheduling point). */
let atomic_hook: AtomicHook | null = null;
export function set_atomic_hook(fn: AtomicHook): void {
  atomic_hook = fn;
  patch_atomics();
}

let patched = false;
const ATOMIC_WRITES = new Set(['add', 'and', 'compareExchange', 'exchange', 'or', 'store', 'sub', 'xor']);

/** The arguments after (ta, i) as the hook takes them; an undefined one means to Atomics what a missing one does. */
function rest_of(a: unknown, b: unknown): unknown[] {
  return b !== undefined ? [a, b] : a !== undefined ? [a] : [];
}

/**
 * Let Atomics see through instrumented arrays (and check the watchpoints as atomic accesses).
 * Every Atomics op takes at most four arguments, and passing undefined for a missing one changes
 * nothing (a missing count or timeout is undefined too), so the wrapper has fixed parameters and
 * a call on an array that is not instrumented costs one WeakMap lookup, no rest array.
 */
export function patch_atomics(): void {
  if (patched) return;
  patched = true;
  const A = Atomics as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['add', 'and', 'compareExchange', 'exchange', 'load', 'or', 'store', 'sub', 'xor', 'wait', 'notify', 'waitAsync']) {
    const orig = A[name];
    if (typeof orig !== 'function') continue;
    const write = ATOMIC_WRITES.has(name);
    const checks = name !== 'notify';
    A[name] = function (ta: unknown, i: unknown, a: unknown, b: unknown) {
      const t = targets.get(ta as object);
      if (t === undefined) return orig(ta, i, a, b);
      // An atomic access sets no watchpoint; it hits those of plain accesses (a plain write racing
      // an atomic read is a data race too).
      if (atomic_hook !== null) return atomic_hook(name, orig, t, Number(i), rest_of(a, b));
      if (checks && atomic_load(this_cpu.mem.i32, active_word()) !== 0) {
        const size = (t as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
        check(t.byteOffset + Number(i) * size, size, write);
      }
      return orig(t, i, a, b);
    };
  }
}

/** Is every shared array instrumented (kmodel run --kcsan)? */
export function kcsan_global(): boolean {
  return (this_cpu.mem.i32[HEADER.FLAGS] & HF_KCSAN) !== 0;
}
