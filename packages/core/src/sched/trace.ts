/**
 * --trace on one CPU: what it records while a machine boots with `trace`, in typed chunk buffers
 * (no allocation per record, no copying as they grow, a cap each): the switches (who ran from
 * when), the run-queue length at each, a thread's state as it leaves (runnable, or asleep on its
 * wait channel), the wakeups it made, the spins on spinlocks and the holds of locks. Times are ms
 * since boot on the CPU's clock (virtual when controlled). Exported by machine/trace-export.ts.
 */
import type { Memory } from '../memory/memory.ts';
import { now } from '../arch/clock.ts';
import type { Task } from './task.ts';

/** A trace record buffer: fixed chunks of a typed array, up to a cap (no per-push allocation, no copying). */
export class TraceBuffer {
  private readonly chunks: Float64Array[] = [];
  private chunk = new Float64Array(0);
  private at = 0;
  length = 0;
  constructor(private readonly cap: number) {}
  /** Room for n more numbers in the current chunk (a new chunk when full); false at the cap. */
  private room(n: number): boolean {
    if (this.at + n <= this.chunk.length) return true;
    if (this.length + n > this.cap) return false;
    if (this.chunk.length) this.chunks.push(this.chunk.subarray(0, this.at));
    this.chunk = new Float64Array(TRACE_CHUNK);
    this.at = 0;
    return true;
  }
  push2(x: number, y: number): boolean {
    if (!this.room(2)) return false;
    const c = this.chunk;
    c[this.at++] = x;
    c[this.at++] = y;
    this.length += 2;
    return true;
  }
  push4(x: number, y: number, z: number, u: number): boolean {
    if (!this.room(4)) return false;
    const c = this.chunk;
    c[this.at++] = x;
    c[this.at++] = y;
    c[this.at++] = z;
    c[this.at++] = u;
    this.length += 4;
    return true;
  }
  toArray(): number[] {
    const out: number[] = [];
    for (const c of this.chunks) for (let i = 0; i < c.length; i++) out.push(c[i]);
    for (let i = 0; i < this.at; i++) out.push(this.chunk[i]);
    return out;
  }
}
/** lock()'s codes: a lock released, held exclusively, held for reading (one of several holders). */
export const LOCK_RELEASED = 0;
export const LOCK_HELD = 1;
export const LOCK_READ_HELD = 2;

/** Numbers per trace chunk (a multiple of 4: records never straddle two chunks). */
const TRACE_CHUNK = 1 << 15;

/** A CPU's switch trace: pairs [ms since boot, pid] (pid 0: idle), and the names of those pids. */
export interface CpuTrace {
  events: number[];
  names: [number, string][];
  /** [ms, waker pid, wakee pid, wakee's CPU] per wakeup this CPU made. */
  wakes?: number[];
  /** [ms, threads on the run queue] at each switch. */
  runqueue?: number[];
  /** [ms, pid, 0 runnable | 1 sleeping, index in wchans] at each switch-out of a thread. */
  states?: number[];
  /** The wait-channel names of `states`. */
  wchans?: [number, string][];
  /** [ms start, ms end, pid, index in lockNames] per spin on a lock. */
  spins?: number[];
  /** [ms, pid, index in lockNames, 1 acquired | 0 released] per spinlock or mutex taken or released. */
  locks?: number[];
  /** The lock names of `spins` and `locks`. */
  lockNames?: [number, string][];
}

export class CpuTracer {
  /** [time, pid] at every switch; pid 0 is idle. */
  private readonly switches = new TraceBuffer(2_000_000); // a million switches is plenty to look at
  /** [time, threads on the run queue] at every switch. */
  private readonly runqueue = new TraceBuffer(2_000_000);
  /** [time, waker pid, wakee pid, the wakee's CPU] for every wakeup this CPU made. */
  private readonly wakes = new TraceBuffer(4_000_000);
  /** [time, pid, 0 runnable | 1 sleeping, wait-channel name index] at every switch-out of a thread. */
  private readonly states = new TraceBuffer(4_000_000);
  /** [start, end, pid, lock name index] per spin_lock that had to spin (not controlled). */
  private readonly spins = new TraceBuffer(4_000_000);
  /** [time, pid, lock name index, LOCK_*] per lock taken or released. */
  private readonly locks = new TraceBuffer(4_000_000);
  private readonly names = new Map<number, string>();
  private readonly wchans = new Map<string, number>();
  private readonly lockNames = new Map<string, number>();
  /** The clock reading of the switch in progress (switchOut), or -1: one clock read a switch. */
  private switchAt = -1;

  constructor(private readonly mem: Memory) {}

  private clock(): number {
    return now() - this.mem.bootTime;
  }

  /** `next` runs from now on (`nrRunning` others wait on the run queue). */
  switchIn(next: Task, nrRunning: number): void {
    const t = this.switchAt >= 0 ? this.switchAt : this.clock();
    this.switchAt = -1;
    if (!this.switches.push2(t, next.pid)) return;
    this.runqueue.push2(t, nrRunning);
    if (next.slot >= 0 && !next.traceNamed) {
      next.traceNamed = true;
      this.names.set(next.pid, this.mem.comm(next.slot));
    }
  }

  /** A thread leaves the CPU runnable (preempted, yielding) or asleep on the wait channel its record names. */
  switchOut(prev: Task, sleeping: boolean): void {
    if (prev.slot < 0) return;
    const t = this.clock();
    this.switchAt = t; // the switch-in that follows is stamped with the same reading
    this.states.push4(t, prev.pid, sleeping ? 1 : 0, sleeping ? index_of(this.wchans, this.mem.wmesg(prev.slot)) : 0);
  }

  /** Thread `waker` woke `wakee`, queued on CPU `cpu`. */
  wake(waker: number, wakee: number, cpu: number): void {
    this.wakes.push4(this.clock(), waker, wakee, cpu);
  }

  /** Thread `pid` spun from `start` (clock ms) until now for lock `name`. */
  spin(start: number, pid: number, name: string): void {
    this.spins.push4(start - this.mem.bootTime, this.clock(), pid, index_of(this.lockNames, name));
  }

  /** Thread `pid` took or released lock `name` (LOCK_HELD, LOCK_READ_HELD, LOCK_RELEASED). */
  lock(pid: number, name: string, code: number): void {
    this.locks.push4(this.clock(), pid, index_of(this.lockNames, name), code);
  }

  /** Everything recorded, as the coordinator receives it. */
  snapshot(): CpuTrace {
    const table = (m: Map<string, number>): [number, string][] => [...m].map(([n, i]) => [i, n]);
    return {
      events: this.switches.toArray(), names: [...this.names], wakes: this.wakes.toArray(), runqueue: this.runqueue.toArray(),
      states: this.states.toArray(), wchans: table(this.wchans), spins: this.spins.toArray(), locks: this.locks.toArray(),
      lockNames: table(this.lockNames),
    };
  }
}

function index_of(table: Map<string, number>, name: string): number {
  let i = table.get(name);
  if (i === undefined) table.set(name, (i = table.size));
  return i;
}
