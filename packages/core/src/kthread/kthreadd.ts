/**
 * kthreadd (PID 2) and its request list. Every thread is created here: a creator (a thread on any
 * CPU, or the coordinator) fills a request slot in machine memory and rings kthreadd; kthreadd
 * allocates the thread record, places it on a CPU and completes the request. The new thread stays
 * stopped (TASK_UNINTERRUPTIBLE, never run) until someone wakes it; its entry and data stay in the
 * request slot until it first runs on its CPU.
 *
 * Request slot life: FREE -> FILLING (creator) -> PENDING (creator) -> ATTACHED (kthreadd, success;
 * freed by the new thread's CPU) or DONE with ERROR (kthreadd; freed by the creator). A slot's bit
 * in HEADER.REQ_MAP is set while it is PENDING (between the creator's store of PENDING and
 * kthreadd's answer), so kthreadd reads four words instead of every slot. A slot carries the entry's
 * name and the thread's data: plain values (null, undefined, booleans, numbers, strings) as they
 * are, anything else structured-cloned (shared/marshal.ts).
 *
 * A creator that exits while its request is in flight (a kthread_run it did not await) abandons
 * it. As Linux's create->done, REQUEST.REQUESTER decides who cleans up: the creator and kthreadd each
 * exchange it once (REQ_ORPHANED, REQ_SERVED); whoever comes second frees the slot, or stops the
 * new thread nobody will wake or reap (it exits -EINTR without running its entry, and is freed).
 */
import {
  PERCPU, HEADER, NIL, REQUEST, REQUEST_BYTES, REQUEST_SLOTS, RS_ATTACHED, RS_DONE, RS_FILLING, RS_FREE,
  RS_PENDING,
  THREAD, TASK_COMM_LEN, TF_BOUND, TF_DAEMON, TF_KTHREAD, TF_NOLOAD, TF_AUTOREAP, TF_SHOULD_STOP, TF_STARTED, DEFAULT_PRIO,
  SCHED_FIFO, SCHED_NORMAL,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { wmesgBytes } from '../memory/memory.ts';
import { payload_encode, payload_read, payload_write } from './request-payload.ts';
import { sq_wakeup } from '../sched/sleepqueue.ts';
import { try_to_wake_up } from '../sched/wake.ts';
import { chaos_place } from '../sched/chaos.ts';
import { TASK_NORMAL, TASK_UNINTERRUPTIBLE } from '../sched/state.ts';
import { EAGAIN, E2BIG, ENOMEM } from '../arch/errno.ts';
import { printk } from '../printk/printk.ts';
import { KERN_ERR } from '../printk/levels.ts';

export interface CreateRequest {
  module: number;
  entry: string;
  data: unknown;
  comm: string;
  /** CPU to bind to, or -1 for kthreadd's choice. */
  cpu: number;
  prio?: number;
  flags?: number;
  /** SCHED_* (default SCHED_NORMAL, or SCHED_FIFO for a realtime prio) */
  policy?: number;
  requester?: number;
}

/** Address of request slot r's STATE word: creators sleep on it. */
export function request_chan(mem: Memory, r: number): number {
  return mem.layout.requestWord(r) * 4;
}
/** kthreadd sleeps on the header's REQ_PENDING word. */
export function kthreadd_chan(): number {
  return HEADER.REQ_PENDING * 4;
}
/** Creators waiting for a free request slot sleep here. */
export function request_free_chan(mem: Memory): number {
  return mem.layout.requestBase;
}

/** Claim a free request slot: its index, or NIL if every slot is in use. */
function request_claim(mem: Memory): number {
  const w = mem.i32;
  const stride = REQUEST_BYTES >> 2;
  for (let i = 0, q = mem.layout.requestWord(0); i < REQUEST_SLOTS; i++, q += stride) {
    if (Atomics.load(w, q + REQUEST.STATE) === RS_FREE && Atomics.compareExchange(w, q + REQUEST.STATE, RS_FREE, RS_FILLING) === RS_FREE) return i;
  }
  return NIL;
}

/**
 * Claim and fill a request slot. Returns the slot, or a negative errno (-EAGAIN: none free;
 * -E2BIG: the entry and data do not fit a slot). Throws MarshalError (before claiming a slot) for
 * data that cannot travel.
 */
export function request_fill(mem: Memory, req: CreateRequest): number {
  const w = mem.i32;
  const data = payload_encode(mem, req.data);
  const r = request_claim(mem);
  if (r === NIL) return -EAGAIN;
  const q = mem.layout.requestWord(r);
  if (!payload_write(mem, q, req.entry, data)) {
    request_free(mem, r); // someone may have found no slot while this one was FILLING
    return -E2BIG;
  }
  w[q + REQUEST.MODULE] = req.module;
  w[q + REQUEST.BIND_CPU] = req.cpu;
  w[q + REQUEST.PRIO] = req.prio ?? DEFAULT_PRIO;
  w[q + REQUEST.REQUESTER] = req.requester ?? 0;
  w[q + REQUEST.FLAGS] = req.flags ?? 0;
  w[q + REQUEST.POLICY] = req.policy ?? ((req.prio ?? DEFAULT_PRIO) < 100 ? SCHED_FIFO : SCHED_NORMAL);
  w[q + REQUEST.ERROR] = 0;
  w[q + REQUEST.RESULT_SLOT] = NIL;
  w[q + REQUEST.RESULT_PID] = 0;
  mem.writeString((q + REQUEST.COMM) * 4, TASK_COMM_LEN, req.comm);
  return r;
}

/** Hand a filled request to kthreadd and ring it. */
export function request_submit(mem: Memory, r: number): void {
  const w = mem.i32;
  const q = mem.layout.requestWord(r);
  w[q + REQUEST.SEQ] = Atomics.add(w, HEADER.REQ_SEQ, 1);
  Atomics.store(w, q + REQUEST.STATE, RS_PENDING);
  Atomics.or(w, HEADER.REQ_MAP + (r >> 5), 1 << (r & 31));
  Atomics.add(w, HEADER.REQ_PENDING, 1);
  sq_wakeup(mem, kthreadd_chan(), 0, TASK_NORMAL, 0);
}

/** Has kthreadd answered request r (created the thread, or failed)? */
export function request_answered(mem: Memory, r: number): boolean {
  const state = Atomics.load(mem.i32, mem.layout.requestWord(r) + REQUEST.STATE);
  return state === RS_DONE || state === RS_ATTACHED;
}

/**
 * Word index of request r's STATE, for a waiter that cannot sleep on it (the coordinator polls
 * it): it holds RS_PENDING until kthreadd answers.
 */
export function request_state_word(mem: Memory, r: number): number {
  return mem.layout.requestWord(r) + REQUEST.STATE;
}
export { RS_PENDING };

/** The CPU kthreadd runs on (0 before it exists). */
export function kthreadd_cpu(mem: Memory): number {
  const kslot = mem.i32[HEADER.KTHREADD_SLOT];
  return kslot >= 0 ? mem.i32[mem.threadWord(kslot) + THREAD.CPU] : 0;
}

/** Is any request slot free now? */
export function request_slot_free(mem: Memory): boolean {
  const stride = REQUEST_BYTES >> 2;
  for (let i = 0, q = mem.layout.requestWord(0); i < REQUEST_SLOTS; i++, q += stride) {
    if (Atomics.load(mem.i32, q + REQUEST.STATE) === RS_FREE) return true;
  }
  return false;
}

/** After the request left PENDING: [slot, pid] of the new thread, or [errno, 0]. */
export function request_result(mem: Memory, r: number): [number, number] {
  const w = mem.i32;
  const q = mem.layout.requestWord(r);
  if (Atomics.load(w, q + REQUEST.STATE) === RS_DONE) {
    const err = w[q + REQUEST.ERROR];
    request_free(mem, r);
    return [err, 0];
  }
  return [w[q + REQUEST.RESULT_SLOT], w[q + REQUEST.RESULT_PID]];
}

function request_free(mem: Memory, r: number): void {
  Atomics.store(mem.i32, mem.layout.requestWord(r) + REQUEST.STATE, RS_FREE);
  sq_wakeup(mem, request_free_chan(mem), 0, TASK_NORMAL, 0);
}

/**
 * Entry name and data of the request that created a thread, taken on the thread's CPU at its first
 * run: the request is freed. Null if it is not ATTACHED (nothing to take).
 */
export function request_take_payload(mem: Memory, r: number): { e: string; d: unknown } | null {
  const w = mem.i32;
  const q = mem.layout.requestWord(r);
  if (Atomics.load(w, q + REQUEST.STATE) !== RS_ATTACHED) return null;
  const payload = payload_read(mem, q);
  request_free(mem, r);
  return payload;
}

/**
 * The CPU with the fewest live threads; kthreadd's CPU counts half a thread more, so ties go
 * elsewhere and a module thread that never blocks does not starve kthreadd (or init/exit, which
 * run there). Remaining ties go round-robin from the last choice.
 */
function select_cpu(mem: Memory): number {
  const w = mem.i32;
  const n = mem.nrCpus;
  const kcpu = kthreadd_cpu(mem);
  const start = (Atomics.add(w, HEADER.PLACE_CURSOR, 1) >>> 0) % n;
  let best = start;
  let load = Infinity;
  for (let k = 0; k < n; k++) {
    const cpu = (start + k) % n;
    const l = 2 * Atomics.load(w, mem.layout.percpuWord(cpu) + PERCPU.NR_ASSIGNED) + (cpu === kcpu ? 1 : 0);
    if (l < load) {
      load = l;
      best = cpu;
    }
  }
  return best;
}

function alloc_slot(mem: Memory): number {
  const w = mem.i32;
  const max = mem.layout.geometry.maxThreads;
  const start = w[HEADER.TBL_CURSOR];
  for (let k = 0; k < max; k++) {
    const s = (start + k) % max;
    if (Atomics.load(w, mem.threadWord(s) + THREAD.PID) === 0) {
      w[HEADER.TBL_CURSOR] = (s + 1) % max;
      return s;
    }
  }
  return NIL;
}

/**
 * Create the thread of request r (kthreadd's work; create_kthreadd uses it once, for kthreadd
 * itself). Returns the new slot or a negative errno.
 */
const KTHREAD_WMESG = wmesgBytes('kthread');

function create_kthread(mem: Memory, r: number, pid?: number): number {
  const w = mem.i32;
  const q = mem.layout.requestWord(r);
  const slot = alloc_slot(mem);
  if (slot === NIL) return -ENOMEM;
  const bind = w[q + REQUEST.BIND_CPU];
  const cpu = bind >= 0 && bind < mem.nrCpus ? bind
    : w[HEADER.CHAOS] ? chaos_place(w[HEADER.SEED], w[q + REQUEST.SEQ], mem.nrCpus) : select_cpu(mem);
  const t = mem.threadWord(slot);
  w.fill(0, t, t + THREAD.WORDS);
  w[t + THREAD.STATE] = TASK_UNINTERRUPTIBLE;
  w[t + THREAD.FLAGS] = TF_KTHREAD | (bind >= 0 ? TF_BOUND : 0) | (w[q + REQUEST.FLAGS] & (TF_DAEMON | TF_NOLOAD | TF_AUTOREAP));
  w[t + THREAD.PRIO] = w[q + REQUEST.PRIO];
  w[t + THREAD.BASE_PRIO] = w[q + REQUEST.PRIO];
  w[t + THREAD.POLICY] = w[q + REQUEST.POLICY];
  w[t + THREAD.CPU] = cpu;
  w[t + THREAD.RQ_NEXT] = NIL;
  w[t + THREAD.SQ_NEXT] = NIL;
  w[t + THREAD.SQ_PREV] = NIL;
  w[t + THREAD.MODULE] = w[q + REQUEST.MODULE];
  w[t + THREAD.PAYLOAD] = r;
  mem.u8.copyWithin((t + THREAD.COMM) * 4, (q + REQUEST.COMM) * 4, (q + REQUEST.COMM) * 4 + TASK_COMM_LEN);
  mem.setWmesg(slot, KTHREAD_WMESG);
  if (!(w[t + THREAD.FLAGS] & TF_NOLOAD)) Atomics.add(w, mem.layout.percpuWord(cpu) + PERCPU.NR_ASSIGNED, 1);
  const newPid = pid ?? Atomics.add(w, HEADER.NEXT_PID, 1);
  Atomics.store(w, t + THREAD.PID, newPid);
  return slot;
}

/** kthreadd's pid, as in Linux. */
const KTHREADD_PID = 2;

/**
 * kthreadd itself (PID 2, bound to CPU 0), the one thread no request to kthreadd can create: the
 * coordinator makes it at boot, before any CPU runs, through the same request slot and record
 * path. Returns its slot; it stays stopped until woken.
 */
export function create_kthreadd(mem: Memory): number {
  const r = request_fill(mem, { module: 0, entry: '@kthreadd', data: null, comm: 'kthreadd', cpu: 0, flags: TF_DAEMON | TF_NOLOAD });
  const slot = create_kthread(mem, r, KTHREADD_PID);
  request_complete(mem, r, slot);
  mem.i32[HEADER.KTHREADD_SLOT] = slot;
  return slot;
}

/** REQUEST.REQUESTER once the creator has abandoned the request, and once kthreadd has served it. */
const REQ_ORPHANED = -1;
const REQ_SERVED = -2;

/** Complete request r for its creator (or clean up after a creator that left). */
function request_complete(mem: Memory, r: number, slot: number): void {
  const w = mem.i32;
  const q = mem.layout.requestWord(r);
  if (slot < 0) w[q + REQUEST.ERROR] = slot;
  else {
    w[q + REQUEST.RESULT_SLOT] = slot;
    w[q + REQUEST.RESULT_PID] = w[mem.threadWord(slot) + THREAD.PID];
  }
  // Before the state is published: a creator that sees it may free the slot for the next request.
  const orphaned = Atomics.exchange(w, q + REQUEST.REQUESTER, REQ_SERVED) === REQ_ORPHANED;
  Atomics.store(w, q + REQUEST.STATE, slot < 0 ? RS_DONE : RS_ATTACHED);
  if (orphaned) {
    request_orphan_cleanup(mem, r);
    return;
  }
  Atomics.notify(w, q + REQUEST.STATE);
  sq_wakeup(mem, request_chan(mem, r), 0, TASK_NORMAL, 0);
}

/**
 * The creator of request r exits without waiting for its answer. Returns the pid of the thread it
 * was creating, now being stopped (0 if none was created yet: kthreadd will clean up).
 */
export function request_abandon(mem: Memory, r: number): number {
  const w = mem.i32;
  const q = mem.layout.requestWord(r);
  if (Atomics.exchange(w, q + REQUEST.REQUESTER, REQ_ORPHANED) !== REQ_SERVED) return 0;
  // kthreadd served it and publishes the state right after its exchange (never blocking between).
  while (Atomics.load(w, q + REQUEST.STATE) === RS_PENDING);
  const pid = Atomics.load(w, q + REQUEST.STATE) === RS_ATTACHED ? w[q + REQUEST.RESULT_PID] : 0;
  request_orphan_cleanup(mem, r);
  return pid;
}

/** Nobody waits for request r any more: free it, or stop the thread it created. */
function request_orphan_cleanup(mem: Memory, r: number): void {
  const w = mem.i32;
  const q = mem.layout.requestWord(r);
  if (Atomics.load(w, q + REQUEST.STATE) !== RS_ATTACHED) {
    request_free(mem, r);
    return;
  }
  // The request slot is freed by the thread's CPU when it first runs.
  const slot = w[q + REQUEST.RESULT_SLOT];
  const t = mem.threadWord(slot);
  if (Atomics.load(w, t + THREAD.PID) !== w[q + REQUEST.RESULT_PID]) return;
  Atomics.or(w, t + THREAD.FLAGS, TF_SHOULD_STOP | TF_AUTOREAP | TF_STARTED);
  try_to_wake_up(mem, slot, TASK_NORMAL);
}

/** The thread table was full at the last creation: said once until a creation succeeds again. */
let tableFull = false;

function table_full(mem: Memory): void {
  if (tableFull) return;
  tableFull = true;
  const w = mem.i32;
  const max = mem.layout.geometry.maxThreads;
  let zombies = 0;
  for (let s = 0; s < max; s++) {
    const t = mem.threadWord(s);
    if (Atomics.load(w, t + THREAD.PID) !== 0 && Atomics.load(w, t + THREAD.EXITED)) zombies++;
  }
  // A thread that returns stays a zombie until kthread_stop() (or rmmod) reaps it: say so when they fill it.
  const why = zombies > 0
    ? `, ${zombies} of them exited and not reaped: kthread_stop() reaps a thread that returned, rmmod its module's`
    : '';
  printk(`${KERN_ERR}kthreadd: thread table full (%d threads%s): creating a thread fails with -ENOMEM; ` +
    'boot with more: kmodel run --max-threads <N> (BootOptions.maxThreads)\n', max, why);
}

/**
 * Serve the pending requests, oldest first. Returns how many it served. The pending ones are the
 * bits of HEADER.REQ_MAP (set by request_submit once the slot is PENDING, cleared here before it is
 * answered), so a pass reads four words and the pending slots only. A request submitted once its
 * last pass has looked may wait: kthreadd's loop looks at REQ_PENDING (bumped after the bit is
 * set) before it sleeps, and serves again.
 */
export function kthreadd_serve(mem: Memory): number {
  const w = mem.i32;
  let served = 0;
  for (;;) {
    let oldest = NIL;
    let seq = 0;
    let pending = 0;
    for (let m = 0; m < REQUEST_SLOTS >> 5; m++) {
      for (let bits = Atomics.load(w, HEADER.REQ_MAP + m); bits !== 0; bits &= bits - 1) {
        const r = (m << 5) + 31 - Math.clz32(bits & -bits);
        const q = mem.layout.requestWord(r);
        pending++;
        if (oldest === NIL || w[q + REQUEST.SEQ] - seq < 0) {
          oldest = r;
          seq = w[q + REQUEST.SEQ];
        }
      }
    }
    if (oldest === NIL) return served;
    Atomics.and(w, HEADER.REQ_MAP + (oldest >> 5), ~(1 << (oldest & 31)));
    const slot = create_kthread(mem, oldest);
    if (slot === -ENOMEM) table_full(mem);
    else tableFull = false;
    request_complete(mem, oldest, slot);
    served++;
    if (pending === 1) return served; // the scan saw no other
  }
}
