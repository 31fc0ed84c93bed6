/**
 * lockdep (after Linux Documentation/locking/lockdep-design.rst): every lock belongs to a class
 * (one per declared lock, kept in the lock's header); every thread keeps the stack of classes it
 * holds; taking class B while holding class A records the dependency A -> B in one graph in
 * machine memory, so all CPUs' acquisitions feed it. When a new edge A -> B closes a cycle (B
 * already reaches A), the possible deadlock is reported at once, the first time, whether or not
 * the two paths ever actually collide.
 *
 * Invariants: edges are only added, under LOCKDEP.LOCK; an edge's site is the call trace of the
 * acquisition that first created it. A lock's class word goes once from 0 to its final value
 * (under LOCKDEP.LOCK) and memory is never reused, so a plain read that sees it non-zero is
 * exact. The hot path (an acquisition whose edges all exist) reads the class word and one bit
 * per held lock, with plain loads: it takes no lock, makes no atomic read-modify-write and
 * allocates nothing. The acquisitions count of an exclusive lock (lockdep_hold, then
 * lockdep_acquired once it is taken) is a plain add serialised by that lock itself.
 *
 * A held-lock entry is its class, or'd with HELD.READ for a read hold (the scenario's rlock()).
 * When the class table (MAX_LOCK_CLASSES) or the edge table (MAX_LOCK_EDGES) is full, the CPU
 * that finds it so sets LOCKDEP.OFF under the lockdep lock and reports it, once; from then on no
 * edge is added and nothing is reported (Linux's debug_locks_off()), though held-lock stacks are
 * still kept for the other reports' "locks held" lines.
 */
import {
  LOCKDEP, LOCK_STAT, LOCK_CLASS_NAME, MAX_LOCK_CLASSES, MAX_LOCK_EDGES,
} from '../memory/layout.ts';
import { type Memory } from '../memory/memory.ts';
import { now } from '../arch/clock.ts';
import { OBJ } from '../memory/arena.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import { this_cpu, type Cpu } from '../sched/cpu.ts';
import type { Task } from '../sched/task.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';
import { LOGLEVEL_WARNING } from '../printk/levels.ts';
import { add_site, edge_site, edge_slot_set } from './lockdep-sites.ts';

const MAX_LOCK_DEPTH = 48;
/** A held-lock entry: the class in the low bits (MAX_LOCK_CLASSES <= CLASS_MASK + 1), READ for a read hold. */
enum HELD { CLASS_MASK = 0xffff, READ = 1 << 16 }

/** The class of the lock at `addr` (registered on first use); -1 when the class table is full. */
function lock_class(mem: Memory, addr: number, name: string): number {
  const c = mem.i32[(addr >> 2) + OBJ.CLASS]; // final once non-zero; a 0 is re-read under the lock
  return c !== 0 ? c - 1 : register_class(mem, addr, name); // class + 1, or -1 for "no class" (the table was full)
}

/** The first acquisition of the lock at `addr` (as far as this CPU has seen): its class, under the lockdep lock. */
function register_class(mem: Memory, addr: number, name: string): number {
  const w = mem.i32;
  const i = (addr >> 2) + OBJ.CLASS;
  const ld = mem.layout.lockdepBase >> 2;
  raw_spin_lock(w, ld + LOCKDEP.LOCK);
  let cls = Atomics.load(w, i) - 1;
  let full = false;
  if (cls === -1) {
    if (w[ld + LOCKDEP.NCLASSES] < MAX_LOCK_CLASSES) {
      cls = w[ld + LOCKDEP.NCLASSES]++;
      mem.writeString(mem.layout.classNames + cls * LOCK_CLASS_NAME, LOCK_CLASS_NAME, name);
    } else {
      cls = -2; // the class table is full: this lock stays out of lockdep, remembered as such
      full = lockdep_off(mem);
    }
    Atomics.store(w, i, cls + 1);
  }
  raw_spin_unlock(w, ld + LOCKDEP.LOCK);
  if (full) {
    report_off('BUG: MAX_LOCKDEP_KEYS too low!', 'max_lockdep_keys', [
      ` lock: ${name}: the class table is full (${MAX_LOCK_CLASSES} classes, one per lock)`,
    ], { lock: name, max: MAX_LOCK_CLASSES });
  }
  return cls;
}

/** Under the lockdep lock: turn lockdep off. True for the one caller that turned it off (it reports). */
function lockdep_off(mem: Memory): boolean {
  const w = mem.i32;
  const ld = mem.layout.lockdepBase >> 2;
  if (w[ld + LOCKDEP.OFF] !== 0) return false;
  Atomics.store(w, ld + LOCKDEP.OFF, 1);
  return true;
}

/** Is lockdep off (a table filled up)? Plain load: the flag only goes from 0 to 1. */
function is_off(mem: Memory): boolean {
  return mem.i32[(mem.layout.lockdepBase >> 2) + LOCKDEP.OFF] !== 0;
}

/** Linux's print_lockdep_off() and dump_stack(): a table is full, lockdep turns itself off. */
function report_off(msg: string, bug: string, detail: string[], fields: object): void {
  const cpu = this_cpu;
  const t = cpu.current;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  kernel_report('lockdep', [
    msg, 'turning off the locking correctness validator.', ...detail,
    ' lockdep checks nothing more in this run: no lock order or recursion is reported from here on',
    `CPU: ${cpu.id} PID: ${t.pid} Comm: ${comm}`, ...trace_lines(call_trace()),
  ], { bug, ...fields });
}

function class_name(mem: Memory, cls: number): string {
  return mem.readString(mem.layout.classNames + cls * LOCK_CLASS_NAME, LOCK_CLASS_NAME);
}

function has_edge(mem: Memory, a: number, b: number): boolean {
  return edge_bit(mem.i32, mem.layout.depGraph >> 2, a, b);
}

/** The a -> b bit of the dependency graph at word `g` (one row of MAX_LOCK_CLASSES bits per class). */
function edge_bit(w: Int32Array, g: number, a: number, b: number): boolean {
  const bit = a * MAX_LOCK_CLASSES + b;
  return (w[g + (bit >> 5)] & (1 << (bit & 31))) !== 0;
}

function stats(mem: Memory, cls: number): number {
  return (mem.layout.classStats >> 2) + cls * LOCK_STAT.WORDS;
}

/**
 * A thread is about to take the lock at `addr` (before it waits for it: a deadlock is reported
 * before it happens). A trylock cannot deadlock: it records the hold but adds no dependency.
 */
export function lockdep_acquire(t: Task, addr: number, name: string, trylock: boolean, read = false): void {
  const b = lockdep_hold(t, addr, name, trylock, read);
  if (b >= 0) Atomics.add(this_cpu.mem.i32, stats(this_cpu.mem, b) + LOCK_STAT.ACQUISITIONS, 1);
}

/**
 * lockdep_acquire without the count: the dependency checks and the hold. Returns the lock's
 * class, -1 when it has none (the class table is full); the caller counts the acquisition with
 * lockdep_acquired once it holds the lock exclusively.
 *
 * The fast path is the common case, a registered lock whose edges from every held class already
 * exist, pushed on a stack the thread already has, without lock_stat: the class word, one bit per
 * held lock, one store. Anything else (a first acquisition, a new edge, recursion, a full or
 * missing stack, lock_stat's clock) goes to lockdep_hold_slow, which does it all.
 */
export function lockdep_hold(t: Task, addr: number, name: string, trylock: boolean, read = false, cpu: Cpu = this_cpu): number {
  const w = cpu.w;
  const c = w[(addr >> 2) + OBJ.CLASS];
  const n = t.nheld;
  const held = t.held;
  if (c <= 0 || n >= held.length || cpu.lockStat === true) return lockdep_hold_slow(t, addr, name, trylock, read);
  const b = c - 1;
  if (!trylock && n !== 0) {
    const g = cpu.mem.layout.depGraph >> 2;
    for (let k = 0; k < n; k++) {
      if (!edge_bit(w, g, held[k] & HELD.CLASS_MASK, b)) return lockdep_hold_slow(t, addr, name, trylock, read);
    }
  }
  held[n] = read ? b | HELD.READ : b;
  t.nheld = n + 1;
  return b;
}

/** lockdep_hold in full: registers the class, adds and checks new edges, reports recursion, keeps lock_stat's time. */
function lockdep_hold_slow(t: Task, addr: number, name: string, trylock: boolean, read: boolean): number {
  const mem = this_cpu.mem;
  const b = lock_class(mem, addr, name);
  if (b < 0) return -1; // -2: no class (table full)
  if (!trylock) {
    for (let k = 0; k < t.nheld; k++) {
      const a = t.held[k] & HELD.CLASS_MASK;
      if (a === b) {
        // A read lock too: readers wait behind a waiting writer (Linux's queued rwlock in process
        // context, Tru64's complex locks), so taking it again can deadlock (read_lock_is_recursive() is false).
        report_recursion(mem, t, b);
      } else if (!has_edge(mem, a, b)) add_edge(mem, t, a, b, (t.held[k] & HELD.READ) !== 0, read);
    }
  }
  const n = t.nheld;
  if (n < MAX_LOCK_DEPTH) {
    const held = t.take_held_stack();
    if (this_cpu.lockStat) t.heldAt[n] = now();
    held[n] = read ? b | HELD.READ : b;
    t.nheld = n + 1;
  }
  return b;
}

/**
 * Count an acquisition of class `cls` (from lockdep_hold, >= 0) for /proc/lock_stat. Only while
 * holding that class's one lock exclusively: every other acquirer is serialised by the lock, so
 * a plain add loses nothing, and the lock word's atomics publish it.
 */
export function lockdep_acquired(cls: number, cpu: Cpu = this_cpu): void {
  cpu.w[stats(cpu.mem, cls) + LOCK_STAT.ACQUISITIONS]++;
}

/** The thread released the lock at `addr` (in any order). The fast path: the last lock taken, without lock_stat. */
export function lockdep_release(t: Task, addr: number, cpu: Cpu = this_cpu): void {
  const n = t.nheld;
  if (n === 0) return;
  const c = cpu.w[(addr >> 2) + OBJ.CLASS] - 1; // set (and seen) by this thread's acquisition
  if ((t.held[n - 1] & HELD.CLASS_MASK) === c && cpu.lockStat !== true) {
    t.nheld = n - 1;
    return;
  }
  lockdep_release_slow(t, c, n);
}

function lockdep_release_slow(t: Task, c: number, n: number): void {
  const held = t.held;
  for (let k = n - 1; k >= 0; k--) {
    if ((held[k] & HELD.CLASS_MASK) !== c) continue;
    if (this_cpu.lockStat) {
      add_time(this_cpu.mem, c, LOCK_STAT.HOLD_F64, LOCK_STAT.HOLD_MAX_F64, now() - t.heldAt[k]);
      for (let j = k + 1; j < n; j++) t.heldAt[j - 1] = t.heldAt[j];
    }
    for (let j = k + 1; j < n; j++) held[j - 1] = held[j];
    t.nheld = n - 1;
    return;
  }
}

/** The classes of the locks `t` holds, in acquisition order (its held-lock stack), by name. */
export function lockdep_held_names(t: Task): string[] {
  const mem = this_cpu.mem;
  const names: string[] = [];
  for (let k = 0; k < t.nheld; k++) names.push(class_name(mem, t.held[k] & HELD.CLASS_MASK));
  return names;
}

/** A thread had to wait `ms` for the lock at `addr` (/proc/lock_stat). */
export function lockdep_contended(addr: number, ms: number): void {
  const mem = this_cpu.mem;
  const c = Atomics.load(mem.i32, (addr >> 2) + OBJ.CLASS) - 1;
  if (c < 0) return;
  Atomics.add(mem.i32, stats(mem, c) + LOCK_STAT.CONTENTIONS, 1);
  add_time(mem, c, LOCK_STAT.WAIT_F64, LOCK_STAT.WAIT_MAX_F64, ms);
}

/** Add to a class's total and max of a time (ms): float64s, so under the lockdep lock. */
function add_time(mem: Memory, cls: number, total: number, max: number, ms: number): void {
  const s = stats(mem, cls);
  const ld = mem.layout.lockdepBase >> 2;
  raw_spin_lock(mem.i32, ld + LOCKDEP.LOCK);
  mem.f64[(s + total) >> 1] += ms;
  if (ms > mem.f64[(s + max) >> 1]) mem.f64[(s + max) >> 1] = ms;
  raw_spin_unlock(mem.i32, ld + LOCKDEP.LOCK);
}

/**
 * A new edge a -> b (b taken while a held; `aRead`: a is read-held, `bRead`: b is taken for
 * reading): recorded with its site, and reported if it closes a cycle. Nothing once lockdep is off.
 */
function add_edge(mem: Memory, t: Task, a: number, b: number, aRead: boolean, bRead: boolean): void {
  if (is_off(mem)) return;
  const w = mem.i32;
  const ld = mem.layout.lockdepBase >> 2;
  const frames = call_trace();
  raw_spin_lock(w, ld + LOCKDEP.LOCK);
  if (has_edge(mem, a, b) || is_off(mem)) {
    raw_spin_unlock(w, ld + LOCKDEP.LOCK);
    return;
  }
  if (w[ld + LOCKDEP.NEDGES] >= MAX_LOCK_EDGES) {
    const first = lockdep_off(mem);
    raw_spin_unlock(w, ld + LOCKDEP.LOCK);
    if (first) {
      report_off('BUG: MAX_LOCKDEP_ENTRIES too low!', 'max_lockdep_entries', [
        ` the dependency table is full (${MAX_LOCK_EDGES} lock orders) at ${class_name(mem, a)} -> ${class_name(mem, b)}`,
      ], { holding: class_name(mem, a), acquiring: class_name(mem, b), max: MAX_LOCK_EDGES });
    }
    return;
  }
  const cycle = find_path(mem, b, a); // b ->* a: with a -> b, a cycle
  const bit = a * MAX_LOCK_CLASSES + b;
  w[(mem.layout.depGraph >> 2) + (bit >> 5)] |= 1 << (bit & 31);
  const site = add_site(mem, frames.slice(0, 4).join('\n'));
  edge_slot_set(mem, bit + 1, site + 1);
  w[ld + LOCKDEP.NEDGES]++;
  raw_spin_unlock(w, ld + LOCKDEP.LOCK);
  if (cycle) report_cycle(mem, t, a, b, cycle, frames, aRead, bRead);
}

/**
 * A path from -> ... -> to in the dependency graph (class ids), or null: a breadth-first search
 * that reads each visited class's row of the bitmap a word at a time (zero words skipped).
 */
function find_path(mem: Memory, from: number, to: number): number[] | null {
  const n = mem.i32[(mem.layout.lockdepBase >> 2) + LOCKDEP.NCLASSES];
  const words = (n + 31) >> 5;
  const g = mem.layout.depGraph >> 2;
  const w = mem.i32;
  const prev = new Int16Array(n).fill(-1);
  const queue = new Int16Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = from;
  prev[from] = from;
  while (head < tail) {
    const x = queue[head++];
    if (x === to) {
      const path = [to];
      for (let y = to; y !== from; y = prev[y]) path.unshift(prev[y]);
      return path;
    }
    const row = g + x * (MAX_LOCK_CLASSES >> 5);
    for (let k = 0; k < words; k++) {
      let bits = w[row + k];
      while (bits !== 0) {
        const low = bits & -bits;
        const y = (k << 5) + 31 - Math.clz32(low);
        bits ^= low;
        if (prev[y] < 0) {
          prev[y] = x;
          queue[tail++] = y;
        }
      }
    }
  }
  return null;
}

/** Linux's "possible recursive locking detected" report: the same class taken twice. */
function report_recursion(mem: Memory, t: Task, cls: number): void {
  if (is_off(mem)) return;
  const cpu = this_cpu;
  const comm = t.slot >= 0 ? mem.comm(t.slot) : cpu.idleComm;
  const B = class_name(mem, cls);
  const frames = call_trace();
  kernel_report('lockdep', [
    '============================================', 'WARNING: possible recursive locking detected',
    '--------------------------------------------', `${comm}/${t.pid} is trying to acquire lock:`,
    `  (${B}), at: ${frames[0]?.slice(3) ?? '?'}`, '', 'but task is already holding lock:', `  (${B})`, '',
    'other info that might help us debug this:', ' Possible unsafe locking scenario:', '',
    '       CPU0', '       ----', `  lock(${B});`, `  lock(${B});`, '', ' *** DEADLOCK ***', '',
    ' May be due to missing lock nesting notation', '', ...held_lines(t, comm), ...backtrace(frames),
  ], { bug: 'recursive_locking', acquiring: B, holding: B }, LOGLEVEL_WARNING);
}

/** Linux's lockdep_print_held_locks(): the locks `t` holds, after a report's scenario. */
function held_lines(t: Task, comm: string): string[] {
  const held = lockdep_held_names(t);
  return [`${held.length} lock${held.length === 1 ? '' : 's'} held by ${comm}/${t.pid}:`, ...held.map((n, i) => ` #${i}: (${n})`), ''];
}

/** The report's "stack backtrace:", the module's frames. */
function backtrace(frames: string[]): string[] {
  return frames.length ? ['stack backtrace:', ...frames.slice(0, 8).map((f) => `  ${f.trim()}`)] : [];
}

/**
 * Linux's "possible circular locking dependency detected" report. `path`: wanted = p0 -> ... ->
 * pk = held, closed by the new edge held -> wanted; `heldRead` / `wantedRead`: the scenario's
 * rlock() (print_circular_lock_scenario's tgt->read and src->read).
 */
function report_cycle(
  mem: Memory, t: Task, held: number, wanted: number, path: number[], frames: string[], heldRead: boolean, wantedRead: boolean,
): void {
  const cpu = this_cpu;
  const comm = t.slot >= 0 ? mem.comm(t.slot) : cpu.idleComm;
  const A = class_name(mem, held);
  const B = class_name(mem, wanted);
  const bar = '======================================================';
  const lines = [
    bar, 'WARNING: possible circular locking dependency detected', '------------------------------------------------------',
    `${comm}/${t.pid} is trying to acquire lock:`, `  (${B}), at: ${frames[0]?.slice(3) ?? '?'}`, '',
    'but task is already holding lock:', `  (${A})`, '',
    'which lock already depends on the new lock.', '', '',
    'the existing dependency chain (in reverse order) is:',
  ];
  // path: wanted = p0 -> p1 -> ... -> pk = held, plus the new edge held -> wanted
  for (let i = path.length - 1; i >= 1; i--) {
    lines.push('', `-> #${i} (${class_name(mem, path[i])}):`, ...edge_site(mem, path[i - 1], path[i]).map((f) => `       ${f}`));
  }
  lines.push('', `-> #0 (${B}):`, ...frames.slice(0, 4).map((f) => `       ${f}`), '', 'other info that might help us debug this:', '');
  const other = class_name(mem, path[path.length - 2]); // the parent: what CPU1 holds while it wants A
  // As Linux: source --> parent --> target, only when the parent is not the source (a longer chain).
  if (path.length > 2) lines.push('Chain exists of:', `  ${B} --> ${other} --> ${A}`, '');
  lines.push(
    ' Possible unsafe locking scenario:', '',
    '       CPU0                    CPU1', '       ----                    ----',
    `  ${heldRead ? 'rlock' : 'lock'}(${A});`, `                               lock(${other});`, `                               lock(${A});`,
    `  ${wantedRead ? 'rlock' : 'lock'}(${B});`, '', ' *** DEADLOCK ***', '', ...held_lines(t, comm), ...backtrace(frames),
  );
  kernel_report('lockdep', lines, {
    bug: 'circular_locking_dependency', acquiring: B, holding: A, chain: path.map((c) => class_name(mem, c)),
  }, LOGLEVEL_WARNING);
}
