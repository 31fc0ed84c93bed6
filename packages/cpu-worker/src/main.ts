/**
 * Worker entry: one simulated CPU. Maps the machine memory, starts the scheduler's idle loop and
 * serves the coordinator's control calls (comlink). Every control message bumps CTL_SEEN, which
 * the scheduler compares with CTL_POSTED to know when to yield to the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { PERCPU } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { create_task, kthread_main, reap_killed } from '@kmodel/core/internal/kthread/thread-main.ts';
import { register_kernel_entries } from '@kmodel/core/internal/kthread/kthreadd-main.ts';
import { module_frames } from '@kmodel/core/internal/arch/stack.ts';
import { death_cause } from '@kmodel/core/internal/debug/last-words.ts';
import { is_kernel_unwind } from '@kmodel/core/internal/arch/kernel-bug.ts';
import type { CpuWorkerData } from '@kmodel/core/internal/machine/cpu-protocol.ts';
import { CpuControl } from './control.ts';
import { guard_process_kill } from '@kmodel/core/internal/kthread/thread-main.ts';

const { sab, geometry, cpu: id, lastWords } = workerData as CpuWorkerData;
process.setSourceMapsEnabled(true);
lastWords.unref();
const exit = process.exit.bind(process);
// A module's process.exit() ends only this CPU (a worker thread): the coordinator turns it into a
// panic, and these words say who called it and from where.
process.exit = ((code?: number) => {
  const where = module_frames(new Error().stack, 1)[0];
  lastWords.postMessage({ cause: `process.exit(${code ?? ''}) called${where ? ` ${where}` : ''}` });
  exit(code);
}) as typeof process.exit;
// So does a process.kill() of kmodel's own process (its pid, 0, -1, its process group).
guard_process_kill(lastWords, exit);
// An error no thread catches (a rejected promise nobody awaits, a throw in a timer callback)
// ends this CPU; say which before going.
process.on('uncaughtException', (e) => {
  lastWords.postMessage({ cause: death_cause(e) });
  exit(70);
});
// A kernel call nobody awaited that failed as misuse was reported where it happened.
process.on('unhandledRejection', (e) => {
  if (!is_kernel_unwind(e)) throw e;
});
const mem = new Memory(sab, geometry);
const cpu = new Cpu(mem, id, { createTask: create_task, startTask: kthread_main, reapKilled: reap_killed });
register_kernel_entries();

const port = parentPort!;
const seen = mem.layout.percpuWord(id) + PERCPU.CTL_SEEN;
port.on('message', () => {
  Atomics.add(mem.i32, seen, 1);
});
Comlink.expose(new CpuControl(), nodeEndpoint(port));
cpu.start();
