/**
 * Worker entry: one simulated CPU. Maps the machine memory, starts the scheduler's idle loop and
 * serves the coordinator's control calls (comlink). Every control message bumps CTL_SEEN, which
 * the scheduler compares with CTL_POSTED to know when to yield to the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { C, type MachineGeometry } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { create_task, kthread_main, reap_killed } from '@kmodel/core/internal/kthread/kthread.ts';
import { register_kernel_entries } from '@kmodel/core/internal/kthread/kthreadd-main.ts';
import { CpuControl } from './control.ts';

export interface CpuWorkerData {
  sab: SharedArrayBuffer;
  geometry: MachineGeometry;
  cpu: number;
}

const { sab, geometry, cpu: id } = workerData as CpuWorkerData;
process.setSourceMapsEnabled(true);
const mem = new Memory(sab, geometry);
const cpu = new Cpu(mem, id, { createTask: create_task, startTask: kthread_main, reapKilled: reap_killed });
register_kernel_entries();

const port = parentPort!;
const seen = mem.layout.cpu(id) + C.CTL_SEEN;
port.on('message', () => {
  Atomics.add(mem.i32, seen, 1);
});
Comlink.expose(new CpuControl(), nodeEndpoint(port));
cpu.start();
