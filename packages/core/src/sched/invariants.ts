/**
 * The scheduler's invariants, checked (Linux's CONFIG_SCHED_DEBUG SCHED_WARN_ON, xv6's panics in
 * sched()): what the headers of cpu.ts, runqueue.ts, sleepqueue.ts and wake.ts state is asserted
 * where those structures change, by checks that live beside the statement they check; each file
 * declares the invariants its checks may find broken (invariant()).
 *
 * On with HF_DEBUG_CHECKS (Machine.boot({ debugChecks }); by default on iff KMODEL_DEBUG_CHECKS=1,
 * which the test suite sets). Each CPU reads the flag once at boot into `debug_checks`, so with it
 * off a checked path costs one boolean test. The coordinator never checks.
 *
 * A check runs under the lock of what it reads (RQ_LOCK, a bucket LOCK) and only marks the
 * invariant broken; the CPU prints the BUG (report_broken) at its next switch, where it holds no
 * raw lock: printk may wait for room in the log ring, and the coordinator takes RQ_LOCKs and
 * bucket locks too (Linux's printk_deferred). Each invariant is reported at most once per CPU.
 */
import { HEADER, HF_DEBUG_CHECKS, THREAD } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { kernel_report } from '../printk/printk.ts';

/** What a check can find broken, in the words of the header that states the invariant. */
interface Invariant {
  structure: string;
  file: string;
  /** fields.invariant of the report. */
  name: string;
  broken: string;
}

const invariants: Invariant[] = [];

/**
 * Declare an invariant that the checks in `file` (of `structure`) may find broken: `name` goes in
 * the report's fields, `broken` says in words what no longer holds. Returns its number (< 31).
 */
export function invariant(structure: string, file: string, name: string, broken: string): number {
  if (invariants.length === 31) throw new Error(`invariant ${name}: no bit left in the pending mask`);
  invariants.push({ structure, file, name, broken });
  return invariants.length - 1;
}

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
  debug_checks = (mem.i32[HEADER.FLAGS] & HF_DEBUG_CHECKS) !== 0;
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
    const { name, structure, file, broken } = invariants[inv];
    const cpu = where[inv];
    kernel_report('bug', [
      `BUG: ${structure} invariant broken: ${broken} (${file})`,
      ` ${cpu >= 0 ? `CPU ${cpu}: ` : ''}${details[inv]}`,
    ], { bug: 'invariant', invariant: name, file: `sched/${file}`, detail: details[inv] });
  }
}

let seen = new Int32Array(0);
let walk = 0;
let slots = 0;

/** Start walking a list of thread slots (see walk_revisits). */
export function walk_start(mem: Memory): void {
  slots = mem.layout.geometry.maxThreads;
  if (seen.length < slots || walk === 0x7fffffff) {
    seen = new Int32Array(slots);
    walk = 0;
  }
  walk++;
}

/** True if `slot` is no slot, or was already met on this walk: the list loops or is corrupt. */
export function walk_revisits(slot: number): boolean {
  if (!(slot >= 0 && slot < slots) || seen[slot] === walk) return true;
  seen[slot] = walk;
  return false;
}

/** "slot 5 (pid 105 worker)", for a detail line. */
export function slot_words(mem: Memory, slot: number): string {
  if (!(slot >= 0 && slot < mem.layout.geometry.maxThreads)) return `slot ${slot} (no such slot)`;
  return `slot ${slot} (pid ${mem.i32[mem.threadWord(slot) + THREAD.PID]} ${mem.comm(slot) || '-'})`;
}
