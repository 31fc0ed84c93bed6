/**
 * One trial, inside a pool worker: a whole machine from boot to shutdown, the session `kmodel run`
 * (or `kmodel torture`) runs with that seed, silently (the log is kept for reportCounts and dmesg
 * only). Nothing outlives the trial but the result: the session shuts the machine down however it
 * ends, the trial then releases it (Machine.release: its memory goes to the next trial's machine,
 * in a thread that boots thousands), and a trial that never gets there is ended by the pool
 * terminating this worker thread, which terminates the machine's CPU workers with it. A controlled
 * trial's result also carries the scheduler's figures and, when it failed, its step record: the
 * campaign writes the schedule files of its first failures from them.
 */
import { basename } from 'node:path';
import { threadId, type MessagePort } from 'node:worker_threads';
import { run_session, pause, wait_module } from '../session.ts';
import { torture_session, LockModuleError } from '../torture-session.ts';
import type { Machine } from '@kmodel/core';
import { module_hash } from '@kmodel/core/internal/machine/schedule-file.ts';
import {
  failed, type BarrierMessage, type ControlFigures, type ModuleTrial, type TortureTrial, type TrialMessage, type TrialNews,
  type TrialQuestion, type TrialResult, type TrialSchedule, type Verdict,
} from './task.ts';

interface ModuleOutcome {
  verdict: Verdict;
  control?: ControlFigures;
  schedule?: TrialSchedule;
  timeline?: string;
  /** Verdict 'insmod': insmod's error line. */
  insmod?: string;
}

/** The line insmod logged when it failed (the last one: a module is inserted once per trial). */
function insmod_error(machine: Machine): string | undefined {
  return machine.dmesg().findLast((r) => r.msg.startsWith('insmod: '))?.msg.trimEnd();
}

/**
 * The trial's side of its port while the machine is up: each new kind of report as it is printed,
 * and, asked at the timeout, the threads still alive (the pool kills the trial right after).
 */
function watch(port: MessagePort): (machine: Machine) => () => void {
  return (machine) => {
    const seen = new Set<string>();
    const tell = (m: TrialNews) => port.postMessage(m);
    const off = machine.onLog((r) => {
      if (r.report && !seen.has(r.report)) {
        seen.add(r.report);
        tell({ report: r.report });
      }
    });
    const ask = (_q: TrialQuestion) => tell({ stuck: still_running(machine) });
    port.on('message', ask);
    return () => {
      off();
      port.off('message', ask);
    };
  };
}

/** The threads still alive but the machine's own (kthreadd), as ps shows them. */
function still_running(machine: Machine): string {
  if (machine.isDown) return 'the machine is down';
  const live = machine.ps().filter((t) => !t.exited && t.comm !== 'kthreadd');
  if (live.length === 0) return 'no thread (the machine itself did not end)';
  const shown = live.slice(0, 6).map((t) => `${t.comm}/${t.pid} (${t.state}${t.wchan !== '-' ? ` in ${t.wchan}` : ''}, CPU ${t.cpu})`);
  return shown.join(', ') + (live.length > shown.length ? `, and ${live.length - shown.length} more` : '');
}

async function runModule(t: ModuleTrial, port: MessagePort): Promise<ModuleOutcome> {
  // Hashed before the run: the source insmod is about to read, not whatever is there afterwards.
  const sha = t.controlled ? module_hash(t.module) : '';
  const title = `trial seed ${t.seed}: ${basename(t.module)}`;
  // An uncontrolled machine's trace is read before shutdown; a controlled one keeps it after.
  let timeline: string | undefined;
  const v = await run_session(t.module, {
    boot: { cpus: t.cpus, seed: t.seed, logger: null, chaos: t.chaos, controlled: t.controlled, trace: !!t.timeline, ...(t.lockdep === false ? { lockdep: false } : {}),
      ...(t.maxThreads !== undefined ? { maxThreads: t.maxThreads } : {}),
      ...(t.arenaMb !== undefined ? { arenaBytes: t.arenaMb * 2 ** 20 } : {}),
      ...(t.kcsan !== undefined ? { kcsan: t.kcsan === true ? true : { rate: t.kcsan } } : {}) },
  }, {
    booted: watch(port),
    wait: (machine, name, stop) => wait_module(machine, name, t.duration, stop),
    afterRmmod: t.timeline && !t.controlled ? async (machine) => {
      if (machine.reports().length > 0) timeline = await machine.timelineHTML(title);
    } : undefined,
  });
  try {
    // A module that did not load after reports (an init() that oopsed) fails as both.
    const verdict: Verdict = v.kinds.length > 0 ? (v.name === null ? [...v.kinds, 'insmod'] : v.kinds) : v.name === null ? 'insmod' : 'clean';
    const insmod = v.name === null ? insmod_error(v.machine) : undefined;
    if (t.timeline && t.controlled && failed(verdict) && v.machine.control?.finalTrace) timeline = await v.machine.timelineHTML(title);
    const control = v.machine.control;
    const why = insmod ? { insmod } : {};
    if (!control) return timeline && failed(verdict) ? { verdict, timeline, ...why } : { verdict, ...why };
    const s = control.controller.stats();
    const out: ModuleOutcome = { verdict, control: { steps: s.steps, threads: s.threads, preemptions: s.preemptions }, ...why };
    if (timeline) out.timeline = timeline;
    // A record the run outgrew (recorded < steps) would not replay: no schedule for it.
    if (failed(verdict) && s.recorded === s.steps) {
      out.schedule = { entries: control.controller.record(), module_sha256: sha, report: v.machine.reports()[0]?.report ?? null };
    }
    return out;
  } finally {
    v.machine.release();
  }
}

async function runTorture(t: TortureTrial, port: MessagePort): Promise<ModuleOutcome> {
  let v;
  try {
    v = await torture_session(t.params, t.lockModule, { cpus: t.cpus, seed: t.seed, logger: null, ...t.debug }, {
      booted: watch(port),
      wait: (_machine, _name, stop) => pause(t.params.shutdown_secs * 1000, stop),
    });
  } catch (e) {
    // The lock module was refused before the machine booted.
    if (e instanceof LockModuleError) return { verdict: 'insmod', insmod: e.message };
    throw e;
  }
  try {
    if (v.name === null) {
      const insmod = insmod_error(v.machine);
      const verdict: Verdict = v.kinds.length > 0 ? [...v.kinds, 'insmod'] : 'insmod';
      return insmod ? { verdict, insmod } : { verdict };
    }
    const kinds = [...(v.success ? [] : ['FAILURE']), ...v.kinds];
    return { verdict: kinds.length > 0 ? kinds : 'clean' };
  } finally {
    v.machine.release();
  }
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
  port.postMessage({ started: threadId } satisfies TrialNews);
  const t0 = Date.now();
  let out: ModuleOutcome;
  let error: string | undefined;
  try {
    out = trial.kind === 'module' ? await runModule(trial, port) : await runTorture(trial, port);
  } catch (e) {
    out = { verdict: 'error' };
    error = e instanceof Error ? e.message : String(e);
  } finally {
    port.close();
  }
  return {
    seed: trial.seed, verdict: out.verdict, worker: threadId, ms: Date.now() - t0,
    ...(error ? { error } : {}), ...(out.insmod ? { insmod: out.insmod } : {}), ...(out.control ? { control: out.control } : {}), ...(out.schedule ? { schedule: out.schedule } : {}), ...(out.timeline ? { timeline: out.timeline } : {}),
  };
}
