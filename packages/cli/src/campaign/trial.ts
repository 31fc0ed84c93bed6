/**
 * One trial, inside a pool worker: a whole machine from boot to shutdown, as `kmodel run` (or
 * `kmodel torture`) would run it with that seed, silently (the log is kept for reportCounts and
 * dmesg only). Nothing outlives the trial but the result: the machine is shut down in `finally`,
 * and a trial that never gets there is ended by the pool terminating this worker thread, which
 * terminates the machine's CPU workers with it.
 */
import { threadId } from 'node:worker_threads';
import { Machine, InsmodError } from '@kmodel/core';
import { torture_run } from '../commands/torture.ts';
import type { BarrierMessage, ModuleTrial, TortureTrial, TrialMessage, TrialResult, Verdict } from './task.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The kinds of report the machine printed, sorted; empty if none. */
function reported(machine: Machine): string[] {
  return Object.entries(machine.reportCounts()).filter(([, n]) => n > 0).map(([k]) => k).sort();
}

async function runModule(t: ModuleTrial): Promise<Verdict> {
  const machine = await Machine.boot({ cpus: t.cpus, seed: t.seed, logger: null, chaos: t.chaos });
  let panicked = false;
  machine.onPanic(() => (panicked = true));
  let insmodFailed = false;
  try {
    let name: string | null = null;
    try {
      name = (await machine.insmod(t.module)).name;
    } catch (e) {
      if (!(e instanceof InsmodError)) throw e;
      insmodFailed = true;
    }
    if (name) {
      const end = t.duration !== undefined ? Date.now() + t.duration * 1000 : Infinity;
      while (!panicked && Date.now() < end && (t.duration !== undefined || machine.liveThreads(name).length > 0)) {
        await sleep(Math.min(20, Math.max(1, end - Date.now())));
      }
      if (!machine.panicked && machine.loadedModules().some((m) => m.name === name)) await machine.rmmod(name);
    }
  } finally {
    await machine.shutdown();
  }
  const kinds = reported(machine);
  if (kinds.length > 0) return kinds;
  return insmodFailed ? 'insmod' : 'clean';
}

async function runTorture(t: TortureTrial): Promise<Verdict> {
  const { machine, loaded, success } = await torture_run(
    t.params, t.lockModule, { cpus: t.cpus, seed: t.seed, logger: null }, () => sleep(t.params.shutdown_secs * 1000),
  );
  if (!loaded) return 'insmod';
  const kinds = [...(success ? [] : ['FAILURE']), ...reported(machine)];
  return kinds.length > 0 ? kinds : 'clean';
}

/** Hold this worker until `parties` workers have arrived (bounded: a worker that never comes is not waited for). */
function barrier(m: BarrierMessage): number {
  const n = new Int32Array(m.barrier);
  Atomics.add(n, 0, 1);
  Atomics.notify(n, 0);
  const deadline = Date.now() + 60_000;
  for (let seen = Atomics.load(n, 0); seen < m.parties && Date.now() < deadline; seen = Atomics.load(n, 0)) {
    Atomics.wait(n, 0, seen, 1000);
  }
  return threadId;
}

/** The pool's task function (worker.mjs exports it). */
export default async function runTask(m: TrialMessage | BarrierMessage): Promise<TrialResult | number> {
  if ('barrier' in m) return barrier(m);
  const { trial, port } = m;
  port.postMessage({ started: threadId });
  port.close();
  const t0 = Date.now();
  let verdict: Verdict;
  let error: string | undefined;
  try {
    verdict = trial.kind === 'module' ? await runModule(trial) : await runTorture(trial);
  } catch (e) {
    verdict = 'error';
    error = e instanceof Error ? e.message : String(e);
  }
  return { seed: trial.seed, verdict, worker: threadId, ms: Date.now() - t0, ...(error ? { error } : {}) };
}
