/**
 * Moving a thread's `data` to the CPU that will run it. Plain values are structured-cloned
 * (node:v8); shared objects inside (typed arrays over machine memory, locks, wait queues, thread
 * handles) travel as their machine address and come back as the same shared objects.
 */
import { serialize, deserialize } from 'node:v8';
import type { Memory } from '../memory/memory.ts';
import { task_struct } from '../sched/task.ts';
import { instrument, is_instrumented, unwrap } from '../debug/kcsan.ts';
import { instrument_controlled, shared_array_kcsan, shared_array_name } from '../debug/access-points.ts';

/** Marks an object that lives in machine memory: its kind and address. */
export const SHARED = Symbol.for('kmodel.shared');

export interface SharedObject {
  readonly [SHARED]: string;
  readonly addr: number;
  readonly name: string;
}

/**
 * Objects that are not in machine memory but know how to travel: `[WIRE]()` returns
 * [kind, plain data] and the kind's reviver rebuilds the object on the other CPU.
 */
export const WIRE = Symbol.for('kmodel.wire');
const wireRevivers = new Map<string, (data: any) => object>();
export function register_wire_kind(kind: string, revive: (data: any) => object): void {
  wireRevivers.set(kind, revive);
}

type Reviver = (addr: number, name: string) => object;
const revivers = new Map<string, Reviver>();

export function register_shared_kind(kind: string, revive: Reviver): void {
  revivers.set(kind, revive);
}

const TYPED: Record<string, new (b: SharedArrayBuffer, o: number, n: number) => ArrayBufferView> = {
  Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array,
  Float64Array, BigInt64Array, BigUint64Array,
} as never;

const TAG = '__kmodel_shared__';

function toWire(mem: Memory, v: unknown, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return seen.get(v);
  const raw = unwrap(v);
  if (ArrayBuffer.isView(raw) && raw.buffer === mem.sab) {
    const ta = raw as unknown as { constructor: { name: string }; byteOffset: number; length: number };
    return { [TAG]: 'typed', t: ta.constructor.name, a: ta.byteOffset, n: ta.length, k: raw !== v || is_instrumented(v), nm: shared_array_name(v), kc: shared_array_kcsan(v) };
  }
  if (v instanceof task_struct) return { [TAG]: 'task', p: v.pid, s: v.slot };
  const wire = (v as { [WIRE]?: () => [string, unknown] })[WIRE];
  if (typeof wire === 'function') {
    const [k, d] = wire.call(v);
    return { [TAG]: 'wire', k, d: toWire(mem, d, seen) };
  }
  const kind = (v as Partial<SharedObject>)[SHARED];
  if (kind) return { [TAG]: kind, a: (v as SharedObject).addr, s: (v as SharedObject).name };
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(toWire(mem, x, seen));
    return out;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const [k, x] of Object.entries(v)) out[k] = toWire(mem, x, seen);
    return out;
  }
  return v;
}

/**
 * The wire form back to values, in place: arrays and plain objects are the decoded ones, their
 * members replaced. `seen` holds the containers already being converted, so data that refers to
 * itself (structured clone keeps its cycles) comes back with the same cycles.
 */
function fromWire(mem: Memory, v: unknown, seen: Set<object>): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return v;
  if (Array.isArray(v)) {
    seen.add(v);
    for (let i = 0; i < v.length; i++) v[i] = fromWire(mem, v[i], seen);
    return v;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const o = v as Record<string, any>;
  const tag = o[TAG];
  if (tag === 'typed') {
    const ta = new TYPED[o.t](mem.sab, o.a, o.n);
    // An instrumented array arrives instrumented: under the controlled scheduler every shared array is.
    if (mem.layout.controlBase !== 0) return instrument_controlled(ta as never, o.nm ?? 'shared', o.kc === true);
    return o.k ? instrument(ta as never) : ta;
  }
  if (tag === 'task') return new task_struct(o.p, o.s);
  if (tag === 'wire') {
    const revive = wireRevivers.get(o.k);
    if (!revive) throw new Error(`cannot revive an object of kind '${o.k}' on this CPU`);
    return revive(fromWire(mem, o.d, seen));
  }
  if (tag) {
    const revive = revivers.get(tag);
    if (!revive) throw new Error(`cannot revive shared object of kind '${tag}'`);
    return revive(o.a, o.s);
  }
  seen.add(o);
  for (const k of Object.keys(o)) o[k] = fromWire(mem, o[k], seen);
  return o;
}

export class MarshalError extends Error {}

export function encode_payload(mem: Memory, value: unknown): Uint8Array {
  try {
    return serialize(toWire(mem, value, new Map()));
  } catch (e) {
    throw new MarshalError(
      `thread data cannot be sent to another CPU: ${(e as Error).message.replace(/\.$/, '')}; pass plain data, ` +
        `shared arrays, locks or thread handles (functions and class instances do not travel)`,
    );
  }
}

export function decode_payload(mem: Memory, bytes: Uint8Array): unknown {
  return fromWire(mem, deserialize(bytes), new Set());
}
