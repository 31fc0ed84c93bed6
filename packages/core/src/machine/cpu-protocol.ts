/**
 * The coordinator <-> CPU protocol: what a CPU worker starts with, and the control calls it
 * answers over comlink. Core owns it; packages/cpu-worker implements it (CpuControl).
 *
 * Control calls run between threads, in the CPU's idle context, never inside one. Every message
 * bumps the CPU's CTL_POSTED and rings its doorbell (cpu-workers.ts); the worker bumps CTL_SEEN
 * when it takes one, and its scheduler yields to the event loop while the two differ.
 */
import type { MessagePort } from 'node:worker_threads';
import type { MachineGeometry } from '../memory/layout.ts';

/** workerData of a CPU worker. */
export interface CpuWorkerData {
  sab: SharedArrayBuffer;
  geometry: MachineGeometry;
  cpu: number;
  /** Why this CPU ends, posted just before it does; the coordinator reads it synchronously. */
  lastWords: MessagePort;
}

/** A module's import on one CPU: its export names, or what its top level threw, in the module's terms. */
export interface LoadResult {
  ok: boolean;
  error?: string;
  exports?: string[];
}

import type { PointDetail, SpinSite } from '../sched/control-detail.ts';

import type { CpuTrace } from '../sched/trace.ts';
export type { CpuTrace };

export interface CpuProtocol {
  /** The CPU's id: it runs and answers. */
  ping(): number;
  /** Import module `id` from `url` (a fresh instance per load) into this CPU's kernel text. */
  loadModule(id: number, name: string, path: string, url: string): Promise<LoadResult>;
  /** Forget module `id` and its /proc files; the names of the files removed. */
  unloadModule(id: number): string[];
  /** A module's /proc file: its text, null if this CPU has none of that name, or what its show function threw. */
  readProc(name: string): string | null | { error: string };
  /** The switch trace kept while booted with `trace`. */
  trace(): CpuTrace;
  /** This CPU's chaos decisions, "pid:call#:call:decision". */
  chaosLog(): string[];
  /** Controlled mode with detail: this CPU's scheduling points, described. */
  controlDetail(): PointDetail[];
  /** Controlled mode: where this CPU's thread spins (after a long run of spin points), or null. */
  spinSite(): SpinSite | null;
  /** The module /proc files this CPU holds. */
  procFiles(): string[];
}
