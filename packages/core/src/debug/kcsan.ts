/**
 * KCSAN-style data-race detection on shared typed arrays (after Documentation/dev-tools/kcsan.rst):
 * an instrumented array is a Proxy whose element reads and writes are checked against the soft
 * watchpoints in machine memory; one access in RATE sets a watchpoint on its address itself and
 * stalls its CPU for STALL_US microseconds, so another CPU's access to that address (at least one
 * of the two a write) hits it: a data race, reported with both sides. A value that changed across
 * the stall with no hit is a race at unknown origin. Atomics on an instrumented array only check
 * the watchpoints (they never race). Which accesses are watched derives from the machine's seed.
 *
 * Cost: an array that is not instrumented is the plain typed array (nothing added). With KCSAN on,
 * the global Atomics is wrapped on that CPU to see through the Proxies.
 */
import { KCSAN, WATCHPOINT, WATCHPOINT_BYTES, WATCHPOINT_SLOTS, WATCHPOINT_TEXT, HEADER, HF_KCSAN } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { this_cpu } from '../sched/cpu.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_trace } from '../arch/stack.ts';
import { decision_hash } from '../arch/hash.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Proxy -> its typed array. */
const targets = new WeakMap<object, ArrayBufferView>();
const reported = new Set<string>();

/** Another instrumenting Proxy (the controlled scheduler's) registers its target, for unwrap and Atomics. */
export function register_target(proxy: object, ta: ArrayBufferView): void {
  targets.set(proxy, ta);
}

export function unwrap<T>(x: T): T {
  return ((x && typeof x === 'object' && targets.get(x as object)) as T) || x;
}

/**
 * Is this access watched? A hash of (seed, pid, the thread's count of instrumented accesses):
 * the same seed watches the same accesses of each thread, however the CPUs interleave.
 */
function sample(): boolean {
  const cpu = this_cpu;
  const t = cpu.current;
  const rate = cpu.mem.i32[(cpu.mem.layout.kcsanBase >> 2) + KCSAN.RATE] || 50;
  return decision_hash(cpu.mem.i32[HEADER.SEED], t.pid, ++t.kcsanAccesses, 5) % rate === 0;
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

/** Every instrumented access: does it hit another CPU's watchpoint? */
function check(addr: number, size: number, write: boolean): void {
  const cpu = this_cpu;
  const w = cpu.mem.i32;
  if (Atomics.load(w, (cpu.mem.layout.kcsanBase >> 2) + KCSAN.ACTIVE) === 0) return;
  for (let s = 0; s < WATCHPOINT_SLOTS; s++) {
    const b = slot_word(s);
    const a = Atomics.load(w, b + WATCHPOINT.ADDR);
    if (a === 0 || a >= addr + size || addr >= a + w[b + WATCHPOINT.SIZE]) continue;
    if (w[b + WATCHPOINT.CPU] === cpu.id || !(write || w[b + WATCHPOINT.WRITE])) continue;
    if (Atomics.compareExchange(w, b + WATCHPOINT.HIT, 0, 1) !== 0) continue;
    const text = encoder.encode(describe(write, addr, size)).subarray(0, WATCHPOINT_TEXT - 1);
    cpu.mem.u8.fill(0, b * 4 + WATCHPOINT.WORDS * 4, b * 4 + WATCHPOINT_BYTES);
    cpu.mem.u8.set(text, b * 4 + WATCHPOINT.WORDS * 4);
    w[b + WATCHPOINT.HIT_PID] = cpu.current.pid;
    w[b + WATCHPOINT.HIT_CPU] = cpu.id;
    Atomics.store(w, b + WATCHPOINT.HIT_WRITE, write ? 1 : 2);
  }
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
    if (Atomics.compareExchange(w, slot_word(s) + WATCHPOINT.ADDR, 0, -1) === 0) slot = s;
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
  Atomics.store(w, b + WATCHPOINT.ADDR, addr);
  Atomics.add(w, kc + KCSAN.ACTIVE, 1);
  const before = ta[i];
  const until = now() + (w[kc + KCSAN.STALL_US] || 80) / 1000;
  while (now() < until) { /* stall on this CPU so the others run into the watchpoint */ }
  const after = ta[i];
  let hit = Atomics.load(w, b + WATCHPOINT.HIT) === 1;
  // A hitter fills in its side before it sets HIT_WRITE: wait for it (it is running right now).
  for (let n = 0; hit && Atomics.load(w, b + WATCHPOINT.HIT_WRITE) === 0; n++) if (n > 1e6) hit = false;
  const other = hit ? decoder.decode(mem.u8.slice(b * 4 + WATCHPOINT.WORDS * 4, b * 4 + WATCHPOINT_BYTES)).replace(/\0+$/, '') : '';
  const other_cpu = w[b + WATCHPOINT.HIT_CPU];
  const other_pid = w[b + WATCHPOINT.HIT_PID];
  Atomics.store(w, b + WATCHPOINT.ADDR, 0); // only now: the slot may be claimed again at once
  Atomics.sub(w, kc + KCSAN.ACTIVE, 1);
  if (!hit && before === after) return;
  const mine = describe(write, addr, size);
  const fn = (s: string) => s.split('\n')[1]?.trim().split(' ')[0] ?? '?';
  const key = `${fn(mine)}|${hit ? fn(other) : '?'}`;
  if (reported.has(key)) return; // one report per pair of functions, as KCSAN rate-limits
  reported.add(key);
  const bar = '==================================================================';
  const lines = hit
    ? [bar, `BUG: KCSAN: data-race in ${fn(mine)} / ${fn(other)}`, '', mine, '', other]
    : [bar, `BUG: KCSAN: data-race in ${fn(mine)}`, '', `race at unknown origin, with ${mine}`];
  if (before !== after) lines.push('', `value changed: 0x${hex(before)} -> 0x${hex(after)}`);
  lines.push(bar);
  kernel_report('kcsan', lines, {
    bug: 'data_race', addr, size, value_before: String(before), value_after: String(after),
    other_cpu: hit ? other_cpu : null, other_pid: hit ? other_pid : null, unknown_origin: !hit,
  });
}

function hex(v: number | bigint): string {
  return (typeof v === 'bigint' ? BigInt.asUintN(64, v) : v >>> 0).toString(16).padStart(8, '0');
}

function index(key: string | symbol): number {
  if (typeof key !== 'string') return -1;
  const i = Number(key);
  return Number.isInteger(i) && i >= 0 && String(i) === key ? i : -1;
}

/** An instrumented view of a shared typed array. */
export function instrument<A extends ArrayBufferView & ArrayLike<number | bigint>>(ta: A): A {
  patch_atomics();
  const proxy = new Proxy(ta, {
    get(target, key) {
      const i = index(key);
      if (i < 0 || i >= target.length) {
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      }
      const size = (target as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      check(target.byteOffset + i * size, size, false);
      if (sample()) watch(target, i, false);
      return target[i];
    },
    set(target, key, value) {
      const i = index(key);
      if (i < 0 || i >= target.length) return Reflect.set(target, key, value, target);
      const size = (target as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      check(target.byteOffset + i * size, size, true);
      if (sample()) watch(target, i, true);
      (target as unknown as Record<number, unknown>)[i] = value;
      return true;
    },
  });
  targets.set(proxy, ta);
  return proxy;
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

/** Let Atomics see through instrumented arrays (and check the watchpoints as atomic accesses). */
export function patch_atomics(): void {
  if (patched) return;
  patched = true;
  const A = Atomics as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['add', 'and', 'compareExchange', 'exchange', 'load', 'or', 'store', 'sub', 'xor', 'wait', 'notify', 'waitAsync']) {
    const orig = A[name];
    if (typeof orig !== 'function') continue;
    const write = ATOMIC_WRITES.has(name);
    A[name] = function (ta: unknown, i: unknown, ...rest: unknown[]) {
      const t = targets.get(ta as object);
      if (!t) return orig.call(Atomics, ta, i, ...rest);
      const size = (t as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      // An atomic access sets no watchpoint; it hits those of plain accesses (a plain write racing
      // an atomic read is a data race too).
      if (atomic_hook !== null) return atomic_hook(name, orig, t, Number(i), rest);
      if (name !== 'notify') check(t.byteOffset + Number(i) * size, size, write);
      return orig.call(Atomics, t, i, ...rest);
    };
  }
}

/** Is every shared array instrumented (kmodel run --kcsan)? */
export function kcsan_global(): boolean {
  return (this_cpu.mem.i32[HEADER.FLAGS] & HF_KCSAN) !== 0;
}
