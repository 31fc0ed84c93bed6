/**
 * What the CPUs recorded, exported: the switch traces as one Chrome trace-event document
 * (Perfetto, chrome://tracing), and the chaos decisions as one list in a seed-determined order.
 */
import type { LogRecord } from '../printk/logbuf.ts';
import type { CpuTrace } from './cpu-protocol.ts';


/** The trace's one process, the machine (pid 0 is the idle task's and some readers skip it). */
export const MACHINE_PID = 1;
/** CPU n's track (tid 0 is "no thread" to some readers); threads' tracks are THREAD_TID + pid. */
export function cpu_tid(cpu: number): number {
  return CPU_TID + cpu;
}
export const CPU_TID = 1;
/**
 * One track per CPU, a slice per stretch a thread ran (a stretch ends at the CPU's next switch, the
 * last one at `endMs`), wakeups as flow arrows from waker to wakee, a run-queue length counter per
 * CPU, kernel reports as instant events with their text; one track per thread (tid THREAD_TID +
 * pid) with its states and its spins on locks; lock holds as async slices; times in µs since boot.
 */
export function chrome_trace(traces: CpuTrace[], endMs: number, log: LogRecord[]): object {
  const events: object[] = [{ name: 'process_name', cat: '__metadata', ph: 'M', pid: MACHINE_PID, args: { name: 'kmodel machine' } }];
  traces.forEach(({ events: ev, names }, cpu) => {
    const name = new Map(names);
    events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', pid: MACHINE_PID, tid: cpu_tid(cpu), args: { name: `cpu${cpu}` } });
    for (let i = 0; i < ev.length; i += 2) {
      const pid = ev[i + 1];
      if (pid === 0) continue; // idle
      const t = ev[i];
      const next = i + 2 < ev.length ? ev[i + 2] : endMs;
      events.push({ name: `${name.get(pid) ?? '?'}/${pid}`, cat: 'sched', ph: 'X', pid: MACHINE_PID, tid: cpu_tid(cpu), ts: t * 1000, dur: Math.max(0, next - t) * 1000, args: { pid } });
    }
  });
  traces.forEach(({ runqueue }, cpu) => {
    for (let i = 0; runqueue && i < runqueue.length; i += 2) {
      events.push({ name: `runqueue cpu${cpu}`, cat: 'sched', ph: 'C', pid: MACHINE_PID, tid: cpu_tid(cpu), ts: runqueue[i] * 1000, args: { nr_running: runqueue[i + 1] } });
    }
  });
  wake_flows(traces, events);
  thread_tracks(traces, endMs, events);
  lock_holds(traces, endMs, events);
  for (const r of log) {
    if (r.report) events.push({ name: `${r.report}: ${r.msg.split('\n').find((l) => /BUG|WARNING|INFO|Oops/.test(l)) ?? r.report}`, cat: 'report', ph: 'i', s: 'g', pid: MACHINE_PID, tid: cpu_tid(Math.max(0, r.cpu)), ts: r.uptime * 1e6, args: { text: r.msg } });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}

/** A wakeup the trace recorded: on CPU `cpu` at `ms` thread `waker` woke `wakee`, which next ran on `target` at `at` (-1: never in the trace). */
export interface TracedWakeup {
  cpu: number;
  ms: number;
  waker: number;
  wakee: number;
  target: number;
  at: number;
}

/** Every recorded wakeup with the start of the wakee's next slice on its CPU (a binary search per wakeup). */
export function traced_wakeups(traces: CpuTrace[]): TracedWakeup[] {
  const starts = traces.map(({ events: ev }) => {
    const m = new Map<number, number[]>();
    for (let j = 0; j < ev.length; j += 2) {
      let l = m.get(ev[j + 1]);
      if (!l) m.set(ev[j + 1], (l = []));
      l.push(ev[j]);
    }
    return m;
  });
  const out: TracedWakeup[] = [];
  traces.forEach(({ wakes }, cpu) => {
    for (let i = 0; wakes && i < wakes.length; i += 4) {
      const [ms, waker, wakee, target] = [wakes[i], wakes[i + 1], wakes[i + 2], wakes[i + 3]];
      const l = starts[target]?.get(wakee);
      let at = -1;
      if (l) {
        let lo = 0;
        let hi = l.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (l[mid] < ms) lo = mid + 1;
          else hi = mid;
        }
        if (lo < l.length) at = l[lo];
      }
      out.push({ cpu, ms, waker, wakee, target, at });
    }
  });
  return out;
}

/**
 * sched_wakeup as flow arrows (Chrome trace "s"/"f" events, bound to the enclosing slices): from
 * the waker's slice on its CPU when it woke the thread, to the wakee's first slice on its CPU
 * after that; an instant `sched_wakeup` marks the wakeup on the waker's track. A wakeup whose
 * wakee never ran again in the trace, or made outside a thread, has no arrow.
 */
function wake_flows(traces: CpuTrace[], events: object[]): void {
  let id = 0;
  for (const w of traced_wakeups(traces)) {
    events.push({ name: 'sched_wakeup', cat: 'sched', ph: 'i', s: 't', pid: MACHINE_PID, tid: cpu_tid(w.cpu), ts: w.ms * 1000, args: { waker: w.waker, wakee: w.wakee, target_cpu: w.target } });
    // A wakeup onto another CPU rings that CPU's doorbell: the IPI, on the target's track.
    if (w.target !== w.cpu) events.push({ name: 'ipi', cat: 'sched', ph: 'i', s: 't', pid: MACHINE_PID, tid: cpu_tid(w.target), ts: w.ms * 1000, args: { from_cpu: w.cpu, wakee: w.wakee } });
    if (w.at < 0 || w.waker === 0) continue;
    id++;
    events.push({ name: 'wakeup', cat: 'sched', ph: 's', id, pid: MACHINE_PID, tid: cpu_tid(w.cpu), ts: w.ms * 1000 });
    events.push({ name: 'wakeup', cat: 'sched', ph: 'f', bp: 'e', id, pid: MACHINE_PID, tid: cpu_tid(w.target), ts: w.at * 1000 });
  }
}

/** A thread's track: tid THREAD_TID + pid (the CPU tracks are tids 0..cpus-1). */
export const THREAD_TID = 1000;

interface Stretch { start: number; end: number }

/** Every thread's runs, from the CPU switch records, by pid, in time order. */
function thread_runs(traces: CpuTrace[], endMs: number): Map<number, Stretch[]> {
  const runs = new Map<number, Stretch[]>();
  for (const { events: ev } of traces) {
    for (let i = 0; i < ev.length; i += 2) {
      const pid = ev[i + 1];
      if (pid === 0) continue;
      let l = runs.get(pid);
      if (!l) runs.set(pid, (l = []));
      l.push({ start: ev[i], end: i + 2 < ev.length ? ev[i + 2] : endMs });
    }
  }
  for (const l of runs.values()) l.sort((a, b) => a.start - b.start);
  return runs;
}

/**
 * One track per thread, named "comm/pid": "running" from each switch-in to the CPU's next switch;
 * between two runs, "sleeping: <wait channel>" from a sleeping switch-out to the thread's wakeup,
 * then "runnable" until it runs (a preempted or yielding thread is runnable from its switch-out);
 * "spinning on <lock>" nested in the run it happened in. The state slices only fill the gaps
 * between runs, each clipped to its gap, so they never overlap.
 */
function thread_tracks(traces: CpuTrace[], endMs: number, events: object[]): void {
  const runs = thread_runs(traces, endMs);
  const names = new Map<number, string>();
  for (const t of traces) for (const [pid, n] of t.names) names.set(pid, n);
  const outs = new Map<number, { ms: number; sleeping: boolean; wchan: string }[]>();
  for (const { states, wchans } of traces) {
    const wchan = new Map(wchans ?? []);
    for (let i = 0; states && i < states.length; i += 4) {
      const pid = states[i + 1];
      let l = outs.get(pid);
      if (!l) outs.set(pid, (l = []));
      l.push({ ms: states[i], sleeping: states[i + 2] === 1, wchan: wchan.get(states[i + 3]) ?? '?' });
    }
  }
  for (const l of outs.values()) l.sort((a, b) => a.ms - b.ms);
  const wakes = new Map<number, number[]>();
  for (const { wakes: wk } of traces) {
    for (let i = 0; wk && i < wk.length; i += 4) {
      let l = wakes.get(wk[i + 2]);
      if (!l) wakes.set(wk[i + 2], (l = []));
      l.push(wk[i]);
    }
  }
  for (const l of wakes.values()) l.sort((a, b) => a - b);
  const slice = (tid: number, name: string, from: number, to: number, args?: object): void => {
    if (to > from) events.push({ name, cat: 'thread_state', ph: 'X', pid: MACHINE_PID, tid, ts: from * 1000, dur: (to - from) * 1000, ...(args ? { args } : {}) });
  };
  for (const [pid, l] of runs) {
    const tid = THREAD_TID + pid;
    events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', pid: MACHINE_PID, tid, args: { name: `${names.get(pid) ?? '?'}/${pid}` } });
    const out = outs.get(pid) ?? [];
    const wk = wakes.get(pid) ?? [];
    let o = 0;
    let k = 0;
    // before the first run: runnable from its first wakeup
    while (k < wk.length && wk[k] <= l[0].start) k++;
    if (k > 0) slice(tid, 'runnable', wk[0], l[0].start);
    for (let r = 0; r < l.length; r++) {
      const run = l[r];
      const to = r + 1 < l.length ? l[r + 1].start : Math.max(endMs, run.end);
      const end = Math.max(run.start, Math.min(run.end, to));
      slice(tid, 'running', run.start, end, { pid });
      // the run's switch-out (taken just before the CPU's next switch) says how the gap after it began
      while (o < out.length && out[o].ms < run.start) o++;
      let sw: (typeof out)[number] | null = null;
      while (o < out.length && out[o].ms <= run.end) sw = out[o++];
      if (!sw) {
        if (r + 1 < l.length) slice(tid, 'runnable', end, to); // a re-pick or a switch-out not recorded
        continue;
      }
      if (!sw.sleeping) {
        slice(tid, 'runnable', end, to);
        continue;
      }
      while (k < wk.length && wk[k] < sw.ms) k++;
      const woke = k < wk.length && wk[k] <= to ? Math.max(end, wk[k]) : to;
      slice(tid, `sleeping: ${sw.wchan}`, end, woke);
      slice(tid, 'runnable', woke, to);
    }
  }
  for (const { spins, lockNames } of traces) {
    const lock = new Map(lockNames ?? []);
    for (let i = 0; spins && i < spins.length; i += 4) {
      const pid = spins[i + 2];
      const run = run_at(runs.get(pid), spins[i]);
      if (!run) continue;
      const to = Math.min(spins[i + 1], run.end);
      slice(THREAD_TID + pid, `spinning on ${lock.get(spins[i + 3]) ?? '?'}`, Math.max(spins[i], run.start), to, { pid });
    }
  }
}

/** The run of `l` (in time order) that `ms` falls in, if any: a binary search. */
function run_at(l: Stretch[] | undefined, ms: number): Stretch | undefined {
  if (!l) return undefined;
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (l[mid].start <= ms) lo = mid + 1;
    else hi = mid;
  }
  const run = l[lo - 1];
  return run && ms <= run.end ? run : undefined;
}

/**
 * Lock holds as async slices (ph b/e, cat lock), one pair per hold with its holder: they have their
 * own tracks, so they never break the nesting of the complete events. An exclusive hold's id is the
 * lock's name; a read hold (one of several holders of an rwlock) is "name (read)" with the holder's
 * pid in its id, so overlapping readers each balance. A release without a recorded acquisition is
 * dropped; a hold still open ends at `endMs`.
 */
function lock_holds(traces: CpuTrace[], endMs: number, events: object[]): void {
  const names = new Map<number, string>();
  for (const t of traces) for (const [pid, n] of t.names) names.set(pid, n);
  const recs: { ms: number; pid: number; lock: string; code: number }[] = [];
  for (const { locks, lockNames } of traces) {
    const lock = new Map(lockNames ?? []);
    for (let i = 0; locks && i < locks.length; i += 4) {
      recs.push({ ms: locks[i], pid: locks[i + 1], lock: lock.get(locks[i + 2]) ?? '?', code: locks[i + 3] });
    }
  }
  recs.sort((a, b) => a.ms - b.ms || Math.sign(a.code) - Math.sign(b.code)); // a release before an acquisition at the same time
  /** Open holds by key: the lock's name (exclusive) or name + pid (read). */
  const open = new Map<string, { pid: number; ms: number; name: string; id: string }>();
  const holder = (pid: number) => `${names.get(pid) ?? '?'}/${pid}`;
  const end = (h: { pid: number; name: string; id: string }, ms: number) => {
    events.push({ name: h.name, cat: 'lock', ph: 'e', id: h.id, pid: MACHINE_PID, tid: THREAD_TID + h.pid, ts: ms * 1000, args: { holder: holder(h.pid) } });
  };
  for (const r of recs) {
    const readKey = `${r.lock}\u0000${r.pid}`;
    if (r.code !== 0) {
      const read = r.code === 2;
      const key = read ? readKey : r.lock;
      const h = open.get(key);
      if (h) end(h, r.ms); // a release not recorded (a trylock's, an unlock by another thread)
      const hold = { pid: r.pid, ms: r.ms, name: read ? `${r.lock} (read)` : r.lock, id: read ? `${r.lock} (read) ${r.pid}` : r.lock };
      open.set(key, hold);
      events.push({ name: hold.name, cat: 'lock', ph: 'b', id: hold.id, pid: MACHINE_PID, tid: THREAD_TID + r.pid, ts: r.ms * 1000, args: { holder: holder(r.pid) } });
    } else {
      const key = open.has(readKey) ? readKey : r.lock;
      const h = open.get(key);
      if (h) {
        end(h, r.ms);
        open.delete(key);
      }
    }
  }
  for (const h of open.values()) end(h, Math.max(endMs, h.ms));
}

/** Every CPU's chaos decisions ("pid:call#:call:decision") in one list, by pid then call count. */
export function merge_chaos_logs(logs: string[][]): string[] {
  const key = (e: string) => e.split(':').slice(0, 2).map(Number);
  return logs.flat().sort((a, b) => {
    const [pa, ca] = key(a);
    const [pb, cb] = key(b);
    return pa - pb || ca - cb;
  });
}
