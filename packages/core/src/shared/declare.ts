/**
 * Shared declarations: named objects in machine memory, the same on every CPU. Module-scope
 * variables are per-CPU copies (every CPU runs the module's top level); anything threads on
 * different CPUs must see is declared here, by name, and lives in the arena.
 */
import { NIL } from '../memory/layout.ts';
import { shared_symbol } from '../memory/arena.ts';
import { this_cpu } from '../sched/cpu.ts';
import { loading, get_module } from '../module/registry.ts';
import { SHARED, register_shared_kind, type SharedObject } from './marshal.ts';
import { task_struct } from '../sched/task.ts';
import { instrument, kcsan_global, unwrap } from '../debug/kcsan.ts';
import { instrument_controlled } from '../debug/access-points.ts';

export const KIND = {
  int32Array: 1, float64Array: 2, bigInt64Array: 3, uint8Array: 4, uint32Array: 5,
  spinlock: 10, mutex: 11, wait_queue: 12, completion: 13, atomic: 14, rwlock: 15, taskvar: 16, lockdep_map: 17, rw_spinlock: 18, semaphore: 19,
} as const;

/**
 * The namespace a declaration binds to: the module being loaded, else the running thread's.
 * Each load of a module is its own namespace (name#id), so a reloaded module starts from zeroed
 * shared data, as a reloaded kernel module starts from fresh static data.
 */
function declaring_module(): string {
  const m = loading ?? get_module(this_cpu.current.module);
  return m ? `${m.name}#${m.id}` : 'kernel';
}

/** A kernel-wide object (not bound to a module), named `subsystem:name`. */
export function declare_global(key: string, kind: number, bytes: number, init?: (addr: number) => void): number {
  return shared_symbol(this_cpu.mem, key, bytes, kind, init);
}

/** Address of the shared object `name` of `bytes` bytes (created zeroed, then `init`). */
export function declare(name: string, kind: number, bytes: number, init?: (addr: number) => void): number {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError('a shared declaration needs a name: the same name on every CPU means the same object');
  }
  return shared_symbol(this_cpu.mem, `${declaring_module()}:${name}`, bytes, kind, init);
}

export interface SharedArrayOptions {
  /** KCSAN: check this array's plain accesses for data races (kmodel run --kcsan does it for all). */
  kcsan?: boolean;
}

function typed<A extends ArrayBufferView & ArrayLike<number | bigint>>(
  kind: number, ctor: { new (b: SharedArrayBuffer, o: number, n: number): A; BYTES_PER_ELEMENT: number },
) {
  return (name: string, length: number, opts: SharedArrayOptions = {}): A => {
    if (!Number.isInteger(length) || length <= 0) {
      throw new RangeError(`shared array '${name}': length must be a positive integer, got ${length}`);
    }
    const addr = declare(name, kind, length * ctor.BYTES_PER_ELEMENT);
    const a = new ctor(this_cpu.mem.sab, addr, length);
    const kcsan = opts.kcsan ?? kcsan_global();
    if (this_cpu.controlled) return instrument_controlled(a, name, kcsan);
    return kcsan ? instrument(a) : a;
  };
}

/** A thread-handle variable's words: the thread's pid (0: none) and its slot. */
const TASKVAR_PID = 0;
const TASKVAR_SLOT = 1;

/** A shared variable holding a thread handle (C: a global `struct task_struct *` / `thread_t`). */
export class SharedTaskVar {
  readonly [SHARED] = 'taskvar';
  constructor(
    readonly addr: number,
    readonly name: string,
  ) {}
  /** The thread stored, or null. */
  get(): task_struct | null {
    const w = this_cpu.mem.i32;
    const pid = Atomics.load(w, (this.addr >> 2) + TASKVAR_PID);
    return pid ? new task_struct(pid, Atomics.load(w, (this.addr >> 2) + TASKVAR_SLOT)) : null;
  }
  set(t: task_struct | null): void {
    const w = this_cpu.mem.i32;
    Atomics.store(w, (this.addr >> 2) + TASKVAR_SLOT, t ? t.slot : NIL);
    Atomics.store(w, (this.addr >> 2) + TASKVAR_PID, t ? t.pid : 0);
  }
}
register_shared_kind('taskvar', (addr, name) => new SharedTaskVar(addr, name));

/** Typed arrays over machine memory, by name. Plain reads/writes race; Atomics.* are atomic. */
export const shared = {
  /** A thread-handle variable, the same on every CPU. */
  task: (name: string): SharedTaskVar => new SharedTaskVar(declare(name, KIND.taskvar, 8), name),
  int32Array: typed(KIND.int32Array, Int32Array),
  uint32Array: typed(KIND.uint32Array, Uint32Array),
  float64Array: typed(KIND.float64Array, Float64Array),
  bigInt64Array: typed(KIND.bigInt64Array, BigInt64Array),
  uint8Array: typed(KIND.uint8Array, Uint8Array),
};

/**
 * The machine address of a shared object, of a shared typed array, or of element `index` of one
 * (C's `&sc->flag`): usable as a wait channel.
 */
export function addressof(x: ArrayBufferView | SharedObject | { addr: number }, index = 0): number {
  x = unwrap(x);
  if (ArrayBuffer.isView(x)) {
    if (x.buffer !== this_cpu.mem.sab) throw new TypeError('addressof: not an array in machine memory (declare it with shared.*)');
    const bpe = (x as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    return x.byteOffset + index * bpe;
  }
  if (x && typeof (x as { addr?: unknown }).addr === 'number') return (x as { addr: number }).addr;
  throw new TypeError('addressof: not a shared object');
}

/** Base class of lock-like shared objects: kind, address, name; travels to other CPUs. */
export abstract class SharedStruct implements SharedObject {
  abstract readonly [SHARED]: string;
  /** Word index of the object in machine memory. */
  readonly word: number;
  constructor(
    readonly addr: number,
    readonly name: string,
  ) {
    this.word = addr >> 2;
  }
}

export function shared_kind<T extends object>(kind: string, revive: (addr: number, name: string) => T): void {
  register_shared_kind(kind, revive);
}
