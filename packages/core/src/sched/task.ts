/**
 * A thread as its own CPU sees it: the coroutine behind a thread record. Only the CPU the thread
 * lives on has this object; every other CPU knows the thread by its task_struct handle.
 */
import { THREAD } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { task_state_letter } from './state.ts';
import { Timer } from './timer.ts';

/** The handle modules hold: `current`, kthread_run's result. Safe to send to another CPU. */
export class task_struct {
  constructor(
    readonly pid: number,
    /** Thread-table slot; with pid it names the thread unambiguously. */
    readonly slot: number,
  ) {}
  get comm(): string {
    if (this.slot < 0) return 'swapper'; // an idle task's (pid 0; Linux's swapper/N)
    return handleMemory ? handleMemory.comm(this.slot) : '';
  }
  /** The TASK_* state word (0 = TASK_RUNNING). */
  get __state(): number {
    return handleMemory && this.slot >= 0 ? Atomics.load(handleMemory.i32, handleMemory.threadWord(this.slot) + THREAD.STATE) : 0;
  }
  get state(): string {
    if (!handleMemory) return '?';
    if (this.slot < 0) return 'R'; // an idle task runs whenever its CPU has nothing else
    const t = handleMemory.threadWord(this.slot);
    return task_state_letter(this.__state, Atomics.load(handleMemory.i32, t + THREAD.EXITED) === 1);
  }
  get cpu(): number {
    return handleMemory && this.slot >= 0 ? Atomics.load(handleMemory.i32, handleMemory.threadWord(this.slot) + THREAD.CPU) : -1;
  }
  get prio(): number {
    return handleMemory && this.slot >= 0 ? Atomics.load(handleMemory.i32, handleMemory.threadWord(this.slot) + THREAD.PRIO) : -1;
  }
  /** Tru64: the result of the thread's last wait (THREAD_AWAKENED, THREAD_TIMED_OUT, ...). */
  get wait_result(): number {
    return handleMemory && this.slot >= 0 ? Atomics.load(handleMemory.i32, handleMemory.threadWord(this.slot) + THREAD.WAIT_RESULT) : 0;
  }
  toString(): string {
    return `${this.comm}/${this.pid}`;
  }
  toJSON(): object {
    return { pid: this.pid, comm: this.comm };
  }
}

let handleMemory: Memory | null = null;
export function set_handle_memory(mem: Memory): void {
  handleMemory = mem;
}

export type ThreadFn = (data: any) => unknown;

/** Its reactions run as microtasks (Task.awaited). */
const RESOLVED = Promise.resolve();

export class Task {
  /** Resolves the promise the thread awaits in schedule(); null while it runs. */
  resume: (() => void) | null = null;
  /** A blocking call returned its promise and the switch away is still pending. */
  switching = false;
  /**
   * A blocking call returned without blocking (its fast path) and its caller has not yet taken
   * the result: cleared by a microtask queued before the caller's `await` can resume it, so code
   * that still sees it set runs on after the call without awaiting it (context.ts).
   */
  unawaited = false;
  /**
   * Set with `unawaited` and cleared one microtask after it: the thread's function returning while
   * it is still set returned right after the call, not after awaiting it (an await resumes the
   * function between the two microtasks, so its return comes after the second).
   */
  unawaitedReturn = false;
  /** A blocking call returns without having blocked: set both marks until two microtasks have run. */
  notBlocked(): void {
    this.unawaited = true;
    this.unawaitedReturn = true;
    RESOLVED.then(this.awaited);
  }
  /** Clears `unawaited`, then `unawaitedReturn` (made once, so a fast path allocates no closure). */
  readonly awaited = (): void => {
    this.unawaited = false;
    RESOLVED.then(this.settled);
  };
  private readonly settled = (): void => {
    this.unawaitedReturn = false;
  };
  /** Name of the blocking call in progress (for the missing-await report). */
  blocking = '';
  /** Kernel sleeps (block()) entered and not yet come back from: > 0 when the thread ends is a missing await. */
  blocks = 0;
  started = false;
  dead = false;
  /** --trace: its name is in the CPU's trace names. */
  traceNamed = false;
  preempt_count = 0;
  /** Set by kthread_exit: the code to exit with once the stack has unwound. */
  exit_code: number | null = null;
  /** The API call that set exit_code (kthread_exit, thread_halt_self...), for the swallowed-exit report. */
  exit_call = '';
  readonly timer: Timer;
  /** Chaos: calls made into the kernel (the decision key), and a yield decided but not yet done. */
  calls = 0;
  chaosYield = false;
  /** KCSAN: instrumented accesses made (the key of its sampling decisions). */
  kcsanAccesses = 0;
  nheld = 0;
  /**
   * lockdep: the classes of the locks this thread holds, in acquisition order (entries below
   * nheld). NO_LOCKS (length 0) until the thread's first lock, then a stack from what exited
   * threads of this CPU left (take_held_stack): a thread that never takes a lock costs no stack.
   * A plain field, not a getter: lockdep's fast path reads it at every acquisition.
   */
  held: Int32Array = NO_LOCKS;
  private heldAtStack: Float64Array | null = null;
  /** The thread's first lock: give it a held-lock stack of its own. */
  take_held_stack(): Int32Array {
    if (this.held.length === 0) this.held = heldPool.pop() ?? new Int32Array(LOCK_DEPTH);
    return this.held;
  }
  /** lock_stat: when each held lock was taken (ms); made at first use, as `held`. */
  get heldAt(): Float64Array {
    return this.heldAtStack ?? (this.heldAtStack = heldAtPool.pop() ?? new Float64Array(LOCK_DEPTH));
  }
  /** The executor of the promise schedule() returns: made once, so a switch allocates no closure. */
  readonly park = (resolve: () => void): void => {
    this.resume = resolve;
  };

  constructor(
    readonly handle: task_struct,
    readonly fn: ThreadFn | null,
    readonly data: unknown,
    readonly module: number,
    readonly entryName: string,
  ) {
    this.pid = handle.pid | 0;
    this.slot = handle.slot | 0;
    this.timer = new Timer(noop, handle.slot);
    this.flagsIndex = handle.slot >= 0 && handleMemory ? handleMemory.threadWord(handle.slot) + THREAD.FLAGS : -1;
  }
  /** Word index of the record's FLAGS (-1 for an idle task): read at every kernel entry. */
  readonly flagsIndex: number;
  /** handle.pid and handle.slot, as int32 fields of the Task itself: the lock paths store them in lock words. */
  readonly pid: number;
  readonly slot: number;
  /** The thread's function by name ('' if anonymous): a module call's ('@'-entries) is in its data. */
  get fnName(): string {
    if (!this.entryName.startsWith('@')) return this.entryName;
    const d = this.data as { f?: unknown; e?: unknown } | null;
    return typeof d?.f === 'string' ? d.f : typeof d?.e === 'string' ? d.e : '';
  }
  /**
   * The thread has exited (do_exit), its coroutine is done or dropped: its lock stacks go to the
   * next threads of this CPU. A later take_held_stack() makes a stack of its own, never shares one.
   */
  release(): void {
    if (this.held.length !== 0 && heldPool.length < POOL_MAX) heldPool.push(this.held);
    if (this.heldAtStack && heldAtPool.length < POOL_MAX) heldAtPool.push(this.heldAtStack);
    this.held = NO_LOCKS;
    this.heldAtStack = null;
  }
}

function noop(): void {}

/** Entries of a held-lock stack: lockdep's MAX_LOCK_DEPTH (Linux's 48). */
const LOCK_DEPTH = 48;
/** Lock stacks of exited threads, for this CPU's next ones (at most POOL_MAX kept). */
const heldPool: Int32Array[] = [];
/** The held-lock stack of a thread that has taken no lock yet: shared, never written (length 0). */
const NO_LOCKS = new Int32Array(0);
const heldAtPool: Float64Array[] = [];
const POOL_MAX = 1024;
