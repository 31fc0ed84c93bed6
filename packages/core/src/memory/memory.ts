/**
 * The machine's memory as seen from one JS realm (a CPU worker or the coordinator): the shared
 * buffer, its typed views and the layout. Cross-CPU fields are read and written with Atomics.
 */
import {
  H, Layout, MAGIC, LAYOUT_VERSION, T, C, NIL, SQ, SQ_BUCKETS, TASK_COMM_LEN, WMESG_LEN,
  type MachineGeometry,
} from './layout.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

  /** Allocate and format a new machine memory (coordinator only). */
  static create(geometry: MachineGeometry, hz: number, seed: number): Memory {
    const layout = new Layout(geometry);
    const mem = new Memory(new SharedArrayBuffer(layout.bytes), geometry);
    const w = mem.i32;
    w[H.MAGIC] = MAGIC;
    w[H.VERSION] = LAYOUT_VERSION;
    w[H.NR_CPUS] = geometry.cpus;
    w[H.HZ] = hz;
    w[H.NEXT_PID] = 3; // 0: idle tasks, 1: reserved (init), 2: kthreadd
    w[H.MAX_THREADS] = geometry.maxThreads;
    w[H.KTHREADD_SLOT] = NIL;
    w[H.SEED] = seed;
    w[H.LOCKUP_MS] = 1000;
    mem.f64[H.BOOT_TIME_F64 >> 1] = performance.timeOrigin + performance.now();
    for (let cpu = 0; cpu < geometry.cpus; cpu++) {
      const b = layout.cpu(cpu);
      w[b + C.CURRENT] = NIL;
      w.fill(NIL, b + C.HEAD, b + C.HEAD + (C.TAIL - C.HEAD) * 2);
      w[b + C.ONLINE] = 1;
    }
    for (let s = 0; s < geometry.maxThreads; s++) {
      const t = layout.thread(s);
      w[t + T.RQ_NEXT] = NIL;
      w[t + T.SQ_NEXT] = NIL;
    }
    for (let b = 0; b < SQ_BUCKETS; b++) {
      w[layout.bucket(b) + SQ.HEAD] = NIL;
      w[layout.bucket(b) + SQ.TAIL] = NIL;
    }
    return mem;
  }

  get nrCpus(): number {
    return this.i32[H.NR_CPUS];
  }
  get hz(): number {
    return this.i32[H.HZ];
  }
  get bootTime(): number {
    return this.f64[H.BOOT_TIME_F64 >> 1];
  }

  /** Word index of a thread record. */
  t(slot: number): number {
    return this.layout.thread(slot);
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
    return this.readString((this.t(slot) + T.COMM) * 4, TASK_COMM_LEN);
  }
  setComm(slot: number, comm: string): void {
    this.writeString((this.t(slot) + T.COMM) * 4, TASK_COMM_LEN, comm);
  }
  wmesg(slot: number): string {
    return this.readString((this.t(slot) + T.WMESG) * 4, WMESG_LEN);
  }
  /** Copy a pre-encoded, NUL-padded wait-channel name (see wmesgBytes) into the record. */
  setWmesg(slot: number, bytes: Uint8Array): void {
    this.u8.set(bytes, (this.t(slot) + T.WMESG) * 4);
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
