/**
 * The machine's memory as seen from one JS realm (a CPU worker or the coordinator): the shared
 * buffer, its typed views and the layout. Cross-CPU fields are read and written with Atomics.
 */
import {
  CONTROL, HEADER, Layout, MAGIC, LAYOUT_VERSION, THREAD, PERCPU, NIL, SLEEP_BUCKET, SLEEP_BUCKETS, TASK_COMM_LEN, WMESG_LEN,
  type MachineGeometry,
} from './layout.ts';

import { now } from '../arch/clock.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The memory of the machine last released in this thread (recycle()), for the next create() of
 * its size; at most one, resident until taken.
 */
let spare: SharedArrayBuffer | null = null;

/** The spare, zeroed as a new SharedArrayBuffer is, if it has `bytes`; else a new buffer. */
function take_buffer(bytes: number): SharedArrayBuffer {
  const sab = spare;
  spare = null;
  if (!sab || sab.byteLength !== bytes) return new SharedArrayBuffer(bytes);
  // By 8-byte words: a Uint8Array fill of shared memory is 8 times slower (22 MB: 5.5 ms against 0.7).
  new Float64Array(sab, 0, bytes >> 3).fill(0);
  new Uint8Array(sab, bytes & ~7).fill(0);
  return sab;
}

export class Memory {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly layout: Layout;

  constructor(readonly sab: SharedArrayBuffer, geometry: MachineGeometry) {
    this.layout = new Layout(geometry);
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
    this.f64 = new Float64Array(sab, 0, sab.byteLength >> 3);
  }

  /**
   * Hand this memory to the next create() of its size in this thread, which zeroes it instead of
   * allocating (coordinator only). Nothing may read or write it through this Memory afterwards:
   * no CPU runs on it any more, and no wait of its coordinator is pending.
   */
  recycle(): void {
    spare = this.sab;
  }

  /** Allocate (or take the recycled one) and format a new machine memory (coordinator only). */
  static create(geometry: MachineGeometry, hz: number, seed: number): Memory {
    const layout = new Layout(geometry);
    const mem = new Memory(take_buffer(layout.bytes), geometry);
    const w = mem.i32;
    w[HEADER.MAGIC] = MAGIC;
    w[HEADER.VERSION] = LAYOUT_VERSION;
    w[HEADER.NR_CPUS] = geometry.cpus;
    w[HEADER.HZ] = hz;
    w[HEADER.NEXT_PID] = 3; // 0: idle tasks, 1: reserved (init), 2: kthreadd
    w[HEADER.MAX_THREADS] = geometry.maxThreads;
    w[HEADER.KTHREADD_SLOT] = NIL;
    w[HEADER.SEED] = seed;
    w[HEADER.LOCKUP_MS] = 1000;
    mem.f64[HEADER.BOOT_TIME_F64 >> 1] = performance.timeOrigin + performance.now();
    for (let cpu = 0; cpu < geometry.cpus; cpu++) {
      const b = layout.percpuWord(cpu);
      w[b + PERCPU.CURRENT] = NIL;
      w[b + PERCPU.WAKE_LIST] = NIL;
      w.fill(NIL, b + PERCPU.HEAD, b + PERCPU.HEAD + (PERCPU.TAIL - PERCPU.HEAD) * 2);
      w[b + PERCPU.ONLINE] = 1;
    }
    for (let s = 0; s < geometry.maxThreads; s++) {
      const t = layout.threadWord(s);
      w[t + THREAD.RQ_NEXT] = NIL;
      w[t + THREAD.SQ_NEXT] = NIL;
    }
    for (let b = 0; b < SLEEP_BUCKETS; b++) {
      w[layout.bucketWord(b) + SLEEP_BUCKET.HEAD] = NIL;
      w[layout.bucketWord(b) + SLEEP_BUCKET.TAIL] = NIL;
    }
    return mem;
  }

  get nrCpus(): number {
    return this.i32[HEADER.NR_CPUS];
  }
  get hz(): number {
    return this.i32[HEADER.HZ];
  }
  /**
   * The machine's clock (ms on the epoch of arch/clock.ts now()): the virtual clock of a
   * controlled machine, else the host's. For the coordinator, which serves several machines.
   */
  clock(): number {
    const c = this.layout.controlBase;
    return c === 0 ? now() : this.f64[((c >> 2) + CONTROL.VCLOCK_F64) >> 1];
  }

  get bootTime(): number {
    return this.f64[HEADER.BOOT_TIME_F64 >> 1];
  }

  /** Word index of a thread record. */
  threadWord(slot: number): number {
    return this.layout.threadWord(slot);
  }

  writeString(byteOffset: number, max: number, s: string): void {
    const view = this.u8.subarray(byteOffset, byteOffset + max);
    const { written } = encoder.encodeInto(s, view.subarray(0, max - 1));
    view.fill(0, written);
  }

  readString(byteOffset: number, max: number): string {
    let end = byteOffset;
    const stop = byteOffset + max;
    while (end < stop && this.u8[end] !== 0) end++;
    return decoder.decode(this.u8.slice(byteOffset, end));
  }

  comm(slot: number): string {
    return this.readString((this.threadWord(slot) + THREAD.COMM) * 4, TASK_COMM_LEN);
  }
  setComm(slot: number, comm: string): void {
    this.writeString((this.threadWord(slot) + THREAD.COMM) * 4, TASK_COMM_LEN, comm);
  }
  wmesg(slot: number): string {
    return this.readString((this.threadWord(slot) + THREAD.WMESG) * 4, WMESG_LEN);
  }
  /** Copy a pre-encoded, NUL-padded wait-channel name (see wmesgBytes) into the record. */
  setWmesg(slot: number, bytes: Uint8Array): void {
    this.u8.set(bytes, (this.threadWord(slot) + THREAD.WMESG) * 4);
  }
}

const wmesgCache = new Map<string, Uint8Array>();
/** The WMESG_LEN-byte encoding of a wait-channel name, cached so sleeping allocates nothing. */
export function wmesgBytes(name: string): Uint8Array {
  let b = wmesgCache.get(name);
  if (!b) {
    b = new Uint8Array(WMESG_LEN);
    encoder.encodeInto(name, b.subarray(0, WMESG_LEN - 1));
    wmesgCache.set(name, b);
  }
  return b;
}
