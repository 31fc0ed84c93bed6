/**
 * The machine's memory map: every offset and record size of the one SharedArrayBuffer that all
 * CPUs map. Nothing else in the kernel computes an offset by hand; it asks this module.
 *
 * Invariants:
 *  - All fields are 32-bit words (Int32Array index) unless named *_F64, which are 8-byte aligned
 *    doubles (Float64Array index = word index / 2).
 *  - A "slot" is an index into the thread table; the value NIL (-1) means "no slot" in every link.
 *  - Machine addresses are byte offsets into the buffer; address 0 is never a valid object.
 */

export const MAGIC = 0x6b6d6f64; // 'kmod'
export const LAYOUT_VERSION = 1;
export const NIL = -1;

export const MAX_CPUS = 64;
export const MAX_PRIO = 140; // 0..99 realtime, 100..139 normal; lower runs first
export const DEFAULT_PRIO = 120;
export const PRIO_BITMAP_WORDS = Math.ceil(MAX_PRIO / 32);
export const TASK_COMM_LEN = 16;
export const WMESG_LEN = 16;

/** Header, at address 0. */
export const HEADER = {
  MAGIC: 0,
  VERSION: 1,
  NR_CPUS: 2,
  HZ: 3,
  NEXT_PID: 4,
  MAX_THREADS: 5,
  OOPSES: 6, // oopses since boot, every CPU's: Linux's die_counter, the [#N] of an oops
  KTHREADD_SLOT: 7,
  REQ_PENDING: 8, // doorbell word kthreadd sleeps on; bumped by every request
  REQ_SEQ: 9,
  TBL_CURSOR: 10,
  PLACE_CURSOR: 11,
  SEED: 12,
  FLAGS: 13,
  LOCKUP_MS: 14, // a CPU spinning this long on one spinlock reports "lockup suspected"
  CHAOS: 15, // chaos scheduling level, 0: off
  BOOT_TIME_F64: 16,
  EXITS: 18, // threads that exited since boot (the coordinator of a controlled run watches it)
  COARSE_CLOCK_F64: 20, // the host clock, written by the coordinator every 10 ms: a CPU's switch reads it instead of the clock
  REQ_MAP: 28, // REQUEST_SLOTS / 32 words: bit r set <=> request slot r is PENDING (kthreadd reads these, not every slot)
  WORDS: 32,
} as const;

/** Header FLAGS bits. */
export const HF_SPINLOCK_DEBUG = 1 << 0;
export const HF_LOCKDEP = 1 << 1;
export const HF_KCSAN = 1 << 2; // every shared array is instrumented
export const HF_LOCK_SITES = 1 << 3; // spinlocks record where they were taken (costly)
export const HF_LOCK_STAT = 1 << 4; // lock hold times (a clock read per acquisition and release)
export const HF_TRACE = 1 << 5; // CPUs record which thread runs when (kmodel run --trace)
export const HF_DEBUG_CHECKS = 1 << 6; // the scheduler asserts its invariants (sched/invariants.ts)

/** Per-CPU block. */
/** How often (ms) a CPU's event loop bumps PERCPU.LOOP_BEAT. */
export const LOOP_BEAT_MS = 100;

export const PERCPU = {
  DOORBELL: 0, // bumped by every IPI; the idle loop Atomics.waits on it
  IDLE: 1, // 1 while the CPU sleeps in its idle loop
  CURRENT: 2, // slot of the running thread, NIL when idle
  NR_RUNNING: 3, // threads on this run queue (not counting the running one)
  NR_ASSIGNED: 4, // live threads homed on this CPU, daemons and trampolines aside (placement load)
  NR_SWITCHES: 5,
  CTL_POSTED: 6, // control messages the coordinator posted
  CTL_SEEN: 7, // control messages this CPU received
  RQ_LOCK: 8,
  ONLINE: 9,
  BUSY_F64: 10,
  IDLE_F64: 12,
  IDLE_SINCE_F64: 14, // when the current idle period began (CURRENT = NIL)
  BITMAP: 16, // PRIO_BITMAP_WORDS words: bit p set <=> queue p non-empty
  NR_SELF_YIELDS: 21, // schedule() calls that kept the running thread (nothing better): the soft-lockup watchdog counts them as switches
  LOOP_BEAT: 22, // bumped by the CPU's event loop every LOOP_BEAT_MS while it turns: a thread that keeps its CPU while this moves awaits a promise, it does not loop
  WAKE_LIST: 23, // the first thread of the wake list (sched/wakelist.ts), NIL: empty
  HEAD: 24,
  TAIL: 24 + MAX_PRIO,
  WORDS: 24 + 2 * MAX_PRIO,
} as const;

/** Thread record (the task_struct fields other CPUs need to see). */
export const THREAD = {
  PID: 0, // 0: free slot
  STATE: 1, // TASK_* bits
  FLAGS: 2, // TF_* bits
  PRIO: 3,
  CPU: 4,
  ON_RQ: 5, // 1 while queued or running
  RQ_NEXT: 6,
  WCHAN: 7, // address slept on, 0 when not on a sleep queue
  SQ_NEXT: 8,
  WAIT_RESULT: 9,
  EXIT_CODE: 10,
  EXITED: 11, // 0 alive, 1 exited: the exit message; stoppers sleep on its address
  PARKED: 12, // 1 once parked: kthread_park's completion
  MODULE: 13,
  PAYLOAD: 14, // kthreadd request slot holding entry + data until first run
  SIGPENDING: 15,
  NVCSW: 16,
  SQ_EXCL: 17, // 1 while on a sleep queue as an exclusive waiter
  RUNTIME_F64: 18,
  POLICY: 20, // SCHED_* below
  BASE_PRIO: 21, // a timeshare thread's priority before its CPU-usage penalty
  ESTCPU_F64: 22, // a timeshare thread's recent CPU use (ms, decaying while it sleeps)
  COMM: 24, // TASK_COMM_LEN bytes
  WMESG: 28, // WMESG_LEN bytes: the wait channel's name
  SLEEP_START_F64: 32, // when a timeshare thread last went to sleep
  SLEEP_SEQ: 34, // bumped by every sq_add and sleep's end (sq_sleep_over): a wakeup for an earlier sleep is stale
  SIGIGNORE: 35, // bit sig: signal sig is discarded when sent (a Linux kthread until allow_signal)
  // The channel an exclusive wakeup took it off, until it runs its finish-wait (0: none): a thread
  // that dies first passes the wakeup on (sq_pass_on), or the next exclusive waiter sleeps on.
  WOKEN_CHAN: 36,
  EXIT_WAITERS: 37, // threads blocked waiting for this one's exit (SeaOS KT_WAITING while > 0)
  PCT_PRIO: 38, // controlled mode, the strategy's per-thread word: PCT's priority (higher runs first; 0: not drawn yet); guided: 1 + the thread's last point
  POINTS: 39, // controlled mode: scheduling points this thread has taken
  SQ_PREV: 40, // the slot before it on its sleep-queue bucket list (NIL: it is the head); meaningful while WCHAN != 0
  WAKE_PENDING: 41, // what it is on its CPU's wake list for (sched/wakelist.ts), 0: it is not on it
  WAKE_NEXT: 42, // the next thread on that wake list (NIL: the last); meaningful while WAKE_PENDING != 0
  WORDS: 44, // even: the *_F64 fields stay 8-byte aligned in every record
} as const;

/**
 * THREAD.WAKE_PENDING: woken by a CPU other than its own, waiting on its CPU's wake list to be
 * queued; WAKE_REQUEUE + p: its priority changed while it was queued at level p, where it waits to
 * be moved from (sched/wakelist.ts).
 */
export const WAKE_WOKEN = 1;
export const WAKE_REQUEUE = 2;

/** Scheduling policies (THREAD.POLICY): how a thread's priority may change. */
export const SCHED_NORMAL = 0; // Linux normal: the priority changes only when asked (nice)
export const SCHED_FIFO = 1; // realtime
export const SCHED_TIMESHARE = 2; // Tru64 kernel_thread_w_arg: loses priority as it uses CPU
export const SCHED_FIXED = 3; // Tru64 kernel_isrthread: fixed priority
export const SCHED_RR = 4; // realtime, round robin: as SCHED_FIFO here (a running thread is never preempted, so its slice never ends it)

/**
 * Thread FLAGS bits. Read and set through named accessors (kthread/record.ts, kthread/kthread.ts);
 * personalities reach them only through the contract.
 */
export const TF_SHOULD_STOP = 1 << 0; // kthread_stop asked: the thread returns at its next check
export const TF_SHOULD_PARK = 1 << 1; // kthread_park asked: the thread parks at its next check
export const TF_STARTED = 1 << 2; // woken at least once (kthread_bind no longer allowed)
export const TF_STOPPING = 1 << 3; // a kthread_stop is under way (a second one is misuse)
export const TF_KTHREAD = 1 << 4; // a kernel thread (every thread kthreadd creates)
export const TF_BOUND = 1 << 5; // bound to its CPU (kthread_bind, kthread_create_on_cpu)
export const TF_DAEMON = 1 << 6; // kthreadd: not stopped at shutdown, not counted as a module thread
export const TF_KILL = 1 << 7; // killed (SeaOS tm_kthread_kill): never runs again; stays set in the zombie, for reports
export const TF_JOIN = 1 << 9; // the creator asks the thread to return (SeaOS KT_JOIN)
export const TF_NOLOAD = 1 << 10; // not counted as load for placement (kthreadd, insmod/rmmod trampolines)
export const TF_TERMINATE = 1 << 11; // being terminated (Tru64 thread_terminate): halted at its next scheduling point
// Nobody joins it: its record is freed when it exits (Tru64 threads, which nobody joins; the thread
// of a creation its creator abandoned; a module's init/exit given up on).
export const TF_AUTOREAP = 1 << 12;

/** Sleep-queue hash bucket: a doubly linked list of thread slots (THREAD.SQ_NEXT, THREAD.SQ_PREV), HEAD and TAIL. */
export const SLEEP_BUCKET = { LOCK: 0, HEAD: 1, TAIL: 2, WORDS: 3 } as const;
/** 2^SLEEP_BUCKET_BITS buckets (48 KiB): 100,000 sleepers on distinct channels make chains of about 25. */
export const SLEEP_BUCKET_BITS = 12;
export const SLEEP_BUCKETS = 1 << SLEEP_BUCKET_BITS;

/** kthreadd request slot. */
export const REQUEST = {
  STATE: 0,
  SEQ: 1,
  MODULE: 2,
  BIND_CPU: 3,
  PRIO: 4,
  REQUESTER: 5,
  RESULT_SLOT: 6,
  RESULT_PID: 7,
  PAYLOAD_LEN: 8,
  ERROR: 9,
  FLAGS: 10,
  POLICY: 11,
  COMM: 12, // TASK_COMM_LEN bytes
  ENTRY_LEN: 16, // bytes of the entry's name, the payload's first bytes
  DATA_KIND: 17, // RD_*: how the thread's data travels
  DATA_F64: 18, // the data, when it is a number (RD_NUMBER)
  PAYLOAD: 20, // word index where payload bytes start: the entry's name, then the data's bytes (RD_STRING, RD_SERIAL)
} as const;
export const REQUEST_SLOTS = 128; // HEADER.REQ_MAP holds one bit per slot
export const REQUEST_BYTES = 8192;
export const REQUEST_PAYLOAD_MAX = REQUEST_BYTES - REQUEST.PAYLOAD * 4;
export const RS_FREE = 0;
export const RS_FILLING = 1;
export const RS_PENDING = 2;
export const RS_DONE = 3;
export const RS_ATTACHED = 4; // done; payload kept until the new thread first runs
/** REQUEST.DATA_KIND: a thread's data as its request carries it (plain values need no serializer). */
export const RD_SERIAL = 0; // structured-cloned (shared/marshal.ts) after the entry's name
export const RD_NULL = 1;
export const RD_UNDEFINED = 2;
export const RD_FALSE = 3;
export const RD_TRUE = 4;
export const RD_NUMBER = 5; // in DATA_F64
export const RD_STRING = 6; // UTF-8 after the entry's name

/** Kernel log ring (printk buffer). */
export const LOG = {
  LOCK: 0, HEAD: 1, TAIL: 2, DROPPED: 3, SEQ: 4,
  WAITING: 5, // writers waiting for space
  BEAT: 6, // bumped by the consumer (coordinator) on every pass: it is alive
  STALE: 7, // BEAT + 1 once a writer found the consumer gone at that beat (0: never)
  WORDS: 8,
} as const;
/** A log record's header (word offsets), before its text "comm\0msg\0fields-json", padded to 8 bytes. */
export const LOG_RECORD = {
  LEN: 0, // bytes, header included
  LEVEL: 1, // KERN_* number, or LEVEL_PAD for the record that fills the ring's tail end
  CPU: 2,
  PID: 3,
  REPORT: 4, // report kind code (printk/logbuf.ts REPORT_KINDS), 0: none
  TEXT_LEN: 5, // bytes of text
  UPTIME_F64: 6, // seconds since boot
  WORDS: 8,
} as const;

/**
 * lockdep: lock classes, their statistics, the dependency graph and the sites of its edges. OFF:
 * 1 once a table filled up (reported once): lockdep then validates nothing more, as Linux's
 * debug_locks_off(). NEDGES: edges in the edge-site table.
 */
export const LOCKDEP = { LOCK: 0, NCLASSES: 1, NSITES: 2, REPORTS: 3, OFF: 4, NEDGES: 5, WORDS: 8 } as const;
/**
 * Lock classes (Linux's MAX_LOCKDEP_KEYS, 8192 there): SYMBOL_SLOTS, as every lock is a declared
 * shared object with its own class, so the class table holds every lock a machine can declare.
 * Memory: the dependency bitmap is MAX_LOCK_CLASSES^2 bits (2 MiB), a class's name and statistics
 * 72 bytes (288 KiB), the edge-site table 256 KiB: 2.5 MiB in all.
 */
export const MAX_LOCK_CLASSES = 4096;
/** The edge-site table: open addressing, KEY = a * MAX_LOCK_CLASSES + b + 1 (0: empty), SITE = site id + 1. */
export const LOCK_EDGE = { KEY: 0, SITE: 1, WORDS: 2 } as const;
export const LOCK_EDGE_SLOTS = 1 << 15;
/** Linux's MAX_LOCKDEP_ENTRIES is 32768 list entries, two per edge: 16384 edges (the table half full at most). */
export const MAX_LOCK_EDGES = LOCK_EDGE_SLOTS >> 1;
export const LOCK_CLASS_NAME = 32; // bytes per class name
export const LOCK_SITES = 4096;
/** A lock site: where its text (a call trace) is in the arena, and its length in bytes. */
export const LOCK_SITE = { TEXT: 0, LEN: 1, WORDS: 2 } as const;
/** Per-class statistics (words): acquisitions, contentions, total and max wait and hold (ms, f64). */
export enum LOCK_STAT { ACQUISITIONS = 0, CONTENTIONS = 1, WAIT_F64 = 2, WAIT_MAX_F64 = 4, HOLD_F64 = 6, HOLD_MAX_F64 = 8, WORDS = 10 }

/**
 * KCSAN soft watchpoints: a header, then slots of [words][text of the racing access], then the
 * reported pairs (KCSAN_REPORTED words: a hash of each pair of functions reported, 0 empty).
 */
export const KCSAN = { ACTIVE: 0, RATE: 1, STALL_US: 2, WORDS: 8 } as const;
export const WATCHPOINT = { ADDR: 0, SIZE: 1, WRITE: 2, CPU: 3, HIT: 4, HIT_PID: 5, HIT_CPU: 6, HIT_WRITE: 7, WORDS: 8 } as const;
export const WATCHPOINT_SLOTS = 64;
export const WATCHPOINT_TEXT = 256;
export const WATCHPOINT_BYTES = WATCHPOINT.WORDS * 4 + WATCHPOINT_TEXT;
export const KCSAN_REPORTED = 1024;

/**
 * Controlled scheduling (sched/control.ts): the baton (the one CPU allowed to run between two
 * scheduling points) and the scheduler's state, all in machine memory so whichever CPU (or the
 * coordinator) holds the baton takes the next decision from the same state. Present only when the
 * machine boots controlled (geometry.controlSteps > 0); then followed by the step record and the
 * schedule (controlSteps words each).
 */
export const CONTROL = {
  BATON: 0, // the CPU allowed to run; BATON_COORD: the coordinator; BATON_FROZEN: nobody, ever again
  COORD_BELL: 1, // bumped and notified whenever the baton goes to the coordinator
  STEP: 2, // scheduling points taken so far (the next point's number)
  STRATEGY: 3, // STRATEGY_* of sched/strategy/strategy.ts
  DEPTH: 4, // PCT: the bug depth d (d - 1 change points)
  PCT_STEPS: 5, // PCT: the estimated number of steps k the change points are drawn over
  PCT_LOW: 6, // PCT: the priority the next deprioritized (spinning) thread gets; counts down from 0
  REASON: 7, // why the baton came back to the coordinator: CR_*
  WATCH_IDX: 8, // the coordinator waits for word WATCH_IDX to differ from WATCH_VAL (-1: no watch)
  WATCH_VAL: 9,
  NOPROGRESS: 10, // points since one made progress (a write, a switch, a wakeup, a lock taken)
  LIVELOCK_STEPS: 11, // the livelock bound: this many points without progress end the run
  RECORD_LEN: 12, // step record entries written (<= controlSteps)
  SCHEDULE_LEN: 13, // words in the schedule region (replay: entries; guided: 3 per deviation)
  DIVERGED_STEP: 14, // replay: the step at which the run left the schedule (-1: it did not)
  THREADS: 15, // distinct threads that took a point (PCT's n)
  PREEMPTIONS: 16, // points at which a thread that could go on was switched away from
  DETAIL: 17, // 1: every CPU keeps a description of each point (the interleaving table)
  VCLOCK_F64: 18, // the virtual clock: ms on the epoch of arch/clock.ts now()
  DEADLINE_F64: 20, // the coordinator's next deadline on the virtual clock (Infinity: none)
  STEP_NS: 22, // virtual nanoseconds one point costs
  CALL: 23, // 1: the coordinator asks for the baton at the next point (a user's interrupt)
  COORD_POINTS: 24, // points the coordinator took (its releases), for guided keys
  SPINS: 25, // points the running thread took in a row without progress (the fairness rule)
  SETTLE: 27, // 1: the coordinator wants the baton back once no CPU is in the middle of a thread (CR_SETTLED)
  RESUME: 26, // the CPU whose thread's point gave the baton to the coordinator (-1: none): going on with it is no preemption
  STALL: 28, // points in a row without progress that were spins or yields (a schedule() still TASK_RUNNING): time may pass
  CHANGE: 32, // PCT: the DEPTH - 1 change points (step numbers), MAX_PCT_DEPTH - 1 words
  PCT_RUN_CPU: 40, // PCT's starvation rule: the CPU + 1 picked in a row while another CPU waits (0: none)
  PCT_RUN_COUNT: 41, // and how many times in a row
  NEXT_TIMER_F64: 48, // per CPU: its earliest timer on the virtual clock (Infinity: none), 2 words each
  IDLE_POINTS: 48 + 2 * MAX_CPUS, // per CPU: idle points it took (guided keys)
  SPINNING: 48 + 3 * MAX_CPUS, // per CPU: 1 if its thread's last point was a spin (a spin-wait, or a re-read of an unchanged word)
  STALLED: 48 + 4 * MAX_CPUS, // per CPU: 1 if its thread's last point was a spin or a yield (it waits for something to change)
  TEXT: 48 + 5 * MAX_CPUS, // CONTROL_TEXT bytes: what the diverging step was, in words
  WORDS: 48 + 5 * MAX_CPUS + 64,
} as const;
export const CONTROL_TEXT = 256;
export const MAX_PCT_DEPTH = 9;
export const BATON_COORD = -2;
export const DIVERGED_NONE = -1;
export const BATON_FROZEN = -3;
/** Why the baton came back to the coordinator (CONTROL.REASON). */
export const CR_NONE = 0;
export const CR_WATCH = 1; // the watched word changed
export const CR_DEADLINE = 2; // the virtual clock reached the coordinator's deadline
export const CR_QUIESCENT = 3; // no CPU can run and no timer is pending
export const CR_LIVELOCK = 4; // LIVELOCK_STEPS points without progress
export const CR_DIVERGED = 5; // replay: the run left the schedule (DIVERGED_STEP, TEXT)
export const CR_CALLED = 6; // the coordinator asked (CONTROL.CALL)
export const CR_SETTLED = 8; // SETTLE was asked and every CPU idles: each can answer a control call

/** Arena header and shared-symbol table. */
export const ARENA = { LOCK: 0, BRK: 1, WORDS: 4 } as const;
export const SYMBOL = { HASH: 0, ADDR: 1, NAME: 2, NAME_LEN: 3, WORDS: 4 } as const;
export const SYMBOL_SLOTS = 4096;

export interface MachineGeometry {
  cpus: number;
  maxThreads: number;
  logBytes: number;
  arenaBytes: number;
  /** Controlled mode: capacity of the step record and of the schedule (0: not controlled). */
  controlSteps?: number;
}

export const DEFAULT_GEOMETRY: Omit<MachineGeometry, 'cpus'> = {
  maxThreads: 4096,
  logBytes: 4 << 20,
  arenaBytes: 16 << 20,
};

/** Byte offsets of every region, derived from the geometry. */
export class Layout {
  readonly header = 0;
  readonly cpuBase: number;
  readonly threadBase: number;
  readonly bucketBase: number;
  readonly requestBase: number;
  readonly logBase: number;
  readonly logData: number;
  readonly arenaBase: number;
  readonly symbolBase: number;
  readonly lockdepBase: number;
  readonly classNames: number;
  readonly classStats: number;
  readonly depGraph: number; // MAX_LOCK_CLASSES^2 bits: edge a -> b (b taken while a held)
  readonly edgeSites: number; // LOCK_EDGE_SLOTS x LOCK_EDGE: site id + 1 of each edge's first taking
  readonly sites: number; // LOCK_SITES x LOCK_SITE
  readonly kcsanBase: number;
  /** Controlled mode: the CONTROL record, the step record and the schedule (0 when not controlled). */
  readonly controlBase: number;
  readonly recordBase: number;
  readonly scheduleBase: number;
  readonly heapBase: number;
  readonly heapEnd: number;
  readonly bytes: number;

  constructor(readonly geometry: MachineGeometry) {
    let at = HEADER.WORDS * 4;
    this.cpuBase = at;
    at += geometry.cpus * PERCPU.WORDS * 4;
    this.threadBase = at;
    at += geometry.maxThreads * THREAD.WORDS * 4;
    this.bucketBase = at;
    at += SLEEP_BUCKETS * SLEEP_BUCKET.WORDS * 4;
    this.requestBase = align(at, 64);
    at = this.requestBase + REQUEST_SLOTS * REQUEST_BYTES;
    this.logBase = at;
    this.logData = at + LOG.WORDS * 4;
    at = this.logData + geometry.logBytes;
    this.lockdepBase = align(at, 64);
    this.classNames = this.lockdepBase + LOCKDEP.WORDS * 4;
    this.classStats = this.classNames + MAX_LOCK_CLASSES * LOCK_CLASS_NAME;
    this.depGraph = this.classStats + MAX_LOCK_CLASSES * LOCK_STAT.WORDS * 4;
    this.edgeSites = this.depGraph + (MAX_LOCK_CLASSES * MAX_LOCK_CLASSES) / 8;
    this.sites = this.edgeSites + LOCK_EDGE_SLOTS * LOCK_EDGE.WORDS * 4;
    at = this.sites + LOCK_SITES * LOCK_SITE.WORDS * 4;
    this.kcsanBase = align(at, 64);
    at = this.kcsanBase + KCSAN.WORDS * 4 + WATCHPOINT_SLOTS * WATCHPOINT_BYTES + KCSAN_REPORTED * 4;
    const steps = geometry.controlSteps ?? 0;
    this.controlBase = steps > 0 ? align(at, 64) : 0;
    this.recordBase = steps > 0 ? this.controlBase + CONTROL.WORDS * 4 : 0;
    this.scheduleBase = steps > 0 ? this.recordBase + steps * 4 : 0;
    if (steps > 0) at = this.scheduleBase + steps * 4;
    this.arenaBase = align(at, 64);
    this.symbolBase = this.arenaBase + ARENA.WORDS * 4;
    this.heapBase = align(this.symbolBase + SYMBOL_SLOTS * SYMBOL.WORDS * 4, 64);
    this.heapEnd = this.arenaBase + geometry.arenaBytes;
    this.bytes = this.heapEnd;
  }

  /** Word index of CPU `cpu`'s block. */
  percpuWord(cpu: number): number {
    return (this.cpuBase >> 2) + cpu * PERCPU.WORDS;
  }
  /** Word index of thread record `slot`. */
  threadWord(slot: number): number {
    return (this.threadBase >> 2) + slot * THREAD.WORDS;
  }
  /** Word index of sleep-queue bucket `b`. */
  bucketWord(b: number): number {
    return (this.bucketBase >> 2) + b * SLEEP_BUCKET.WORDS;
  }
  /** Word index of kthreadd request slot `r`. */
  requestWord(r: number): number {
    return (this.requestBase + r * REQUEST_BYTES) >> 2;
  }
  /** Word index of the CONTROL record (controlled mode only). */
  get controlWord(): number {
    return this.controlBase >> 2;
  }
  get logWord(): number {
    return this.logBase >> 2;
  }
  get arenaWord(): number {
    return this.arenaBase >> 2;
  }
  symbolWord(i: number): number {
    return (this.symbolBase >> 2) + i * SYMBOL.WORDS;
  }
}

export function align(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}
