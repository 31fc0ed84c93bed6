/**
 * The scheduler's invariants, checked (Linux's CONFIG_SCHED_DEBUG SCHED_WARN_ON, xv6's panics in
 * sched()): what the headers of cpu.ts, runqueue.ts, sleepqueue.ts and wake.ts state is asserted
 * where those structures change, by checks that live beside the statement they check.
 *
 * On with HF_DEBUG_CHECKS (Machine.boot({ debugChecks }), default KMODEL_DEBUG_CHECKS=1; on in
 * every test). Each CPU reads the flag once at boot into `debug_checks`, so with it off a checked
 * path costs one boolean test. The coordinator never checks.
 *
 * A check runs under the lock of what it reads (RQ_LOCK, a bucket LOCK) and only marks the
 * invariant broken; the CPU prints the BUG (report_broken) at its next switch, where it holds no
 * raw lock: printk may wait for room in the log ring, and the coordinator takes RQ_LOCKs and
 * bucket locks too (Linux's printk_deferred). Each invariant is reported at most once per CPU.
 */
import { H, HF_DEBUG_CHECKS, T } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { kernel_report } from '../printk/printk.ts';

/** What a check found broken, in the words of the header that states the invariant. */
interface Invariant {
  /** fields.invariant of the report. */
  name: string;
  structure: string;
  file: string;
  broken: string;
}

const INVARIANTS: readonly Invariant[] = [
  { name: 'current', structure: 'scheduler', file: 'cpu.ts', broken: 'CURRENT is not the running thread' },
  { name: 'running_queued', structure: 'scheduler', file: 'cpu.ts', broken: 'the running thread is on a run-queue list' },
  { name: 'running_on_rq', structure: 'scheduler', file: 'cpu.ts', broken: 'the running thread has ON_RQ = 0' },
  {
    name: 'picked', structure: 'scheduler', file: 'cpu.ts',
    broken: 'the picked thread is not ON_RQ = 1, TASK_RUNNING and of this CPU',
  },
  { name: 'rq_bitmap', structure: 'run-queue', file: 'runqueue.ts', broken: 'bit p of BITMAP is set but HEAD[p] is NIL, or clear with threads at p' },
  { name: 'rq_list', structure: 'run-queue', file: 'runqueue.ts', broken: 'a list does not end, or holds a thread twice' },
  { name: 'rq_tail', structure: 'run-queue', file: 'runqueue.ts', broken: 'TAIL[p] is not the last thread of list p' },
  {
    name: 'rq_member', structure: 'run-queue', file: 'runqueue.ts',
    broken: 'a thread on list p is not runnable here (ON_RQ = 1, TASK_RUNNING, this CPU, PRIO = p)',
  },
  { name: 'rq_nr_running', structure: 'run-queue', file: 'runqueue.ts', broken: 'NR_RUNNING does not count the threads on the lists' },
  { name: 'sq_list', structure: 'sleep-queue', file: 'sleepqueue.ts', broken: 'a bucket list does not end, or holds a thread twice' },
  {
    name: 'sq_wchan', structure: 'sleep-queue', file: 'sleepqueue.ts',
    broken: "a thread on a bucket list has WCHAN = 0 or a WCHAN of another bucket",
  },
  {
    name: 'sq_order', structure: 'sleep-queue', file: 'sleepqueue.ts',
    broken: 'a non-exclusive waiter is behind an exclusive one',
  },
  { name: 'sq_tail', structure: 'sleep-queue', file: 'sleepqueue.ts', broken: "TAIL is not the bucket list's last thread" },
  { name: 'woken_queued', structure: 'wakeup', file: 'wake.ts', broken: 'a thread with ON_RQ = 0 is on a run-queue list' },
];

export const INV_CURRENT = 0;
export const INV_RUNNING_QUEUED = 1;
export const INV_RUNNING_ON_RQ = 2;
export const INV_PICKED = 3;
export const INV_RQ_BITMAP = 4;
export const INV_RQ_LIST = 5;
export const INV_RQ_TAIL = 6;
export const INV_RQ_MEMBER = 7;
export const INV_RQ_NR_RUNNING = 8;
export const INV_SQ_LIST = 9;
export const INV_SQ_WCHAN = 10;
export const INV_SQ_ORDER = 11;
export const INV_SQ_TAIL = 12;
export const INV_WOKEN_QUEUED = 13;

/** HF_DEBUG_CHECKS as this CPU read it at boot. */
export let debug_checks = false;

/** Invariants found broken and not reported yet; and those this CPU already reported. */
let pending = 0;
let reported = 0;
/** The first violation of each pending invariant, in words (which slot, which list). */
const details: string[] = [];
/** The CPU whose structure the first violation was found in. */
const where: number[] = [];

/** Read HF_DEBUG_CHECKS (once per CPU, at boot). */
export function debug_checks_init(mem: Memory): void {
  debug_checks = (mem.i32[H.FLAGS] & HF_DEBUG_CHECKS) !== 0;
  pending = 0;
  reported = 0;
}

/** Invariant `inv` does not hold in CPU `cpu`'s structure (-1: a sleep queue, no CPU's). */
export function invariant_broken(inv: number, cpu: number, detail: string): void {
  const bit = 1 << inv;
  if ((pending | reported) & bit) return;
  pending |= bit;
  details[inv] = detail;
  where[inv] = cpu;
}

/** Print a BUG for each invariant found broken since the last call. No raw lock may be held. */
export function report_broken(): void {
  while (pending !== 0) {
    const inv = 31 - Math.clz32(pending & -pending);
    pending &= ~(1 << inv);
    reported |= 1 << inv;
    const { name, structure, file, broken } = INVARIANTS[inv];
    const cpu = where[inv];
    kernel_report('bug', [
      `BUG: ${structure} invariant broken: ${broken} (${file})`,
      ` ${cpu >= 0 ? `run queue of CPU ${cpu}: ` : ''}${details[inv]}`,
    ], { bug: 'invariant', invariant: name, file: `sched/${file}`, detail: details[inv] });
  }
}

let seen = new Int32Array(0);
let walk = 0;

/** Start walking a list of thread slots (see walk_revisits). */
export function walk_start(mem: Memory): void {
  const n = mem.layout.g.maxThreads;
  if (seen.length < n || walk === 0x7fffffff) {
    seen = new Int32Array(n);
    walk = 0;
  }
  walk++;
}

/** True if `slot` is no slot, or was already met on this walk: the list loops or is corrupt. */
export function walk_revisits(slot: number): boolean {
  if (!(slot >= 0 && slot < seen.length) || seen[slot] === walk) return true;
  seen[slot] = walk;
  return false;
}

/** "slot 5 (pid 105 worker)", for a detail line. */
export function slot_words(mem: Memory, slot: number): string {
  if (!(slot >= 0 && slot < mem.layout.g.maxThreads)) return `slot ${slot} (no such slot)`;
  return `slot ${slot} (pid ${mem.i32[mem.t(slot) + T.PID]} ${mem.comm(slot) || '-'})`;
}
