/**
 * What the CPUs recorded, exported: the switch traces as one Chrome trace-event document
 * (Perfetto, chrome://tracing), and the chaos decisions as one list in a seed-determined order.
 */
import type { LogRecord } from '../printk/logbuf.ts';
import type { CpuTrace } from './cpu-protocol.ts';

/**
 * One track per CPU, a slice per stretch a thread ran (a stretch ends at the CPU's next switch, the
 * last one at `endMs`), wakeups as flow arrows from waker to wakee, a run-queue length counter per
 * CPU, kernel reports as instant events with their text; times in µs since boot.
 */
export function chrome_trace(traces: CpuTrace[], endMs: number, log: LogRecord[]): object {
  const events: object[] = [{ name: 'process_name', ph: 'M', pid: 0, args: { name: 'kmodel machine' } }];
  traces.forEach(({ events: ev, names }, cpu) => {
    const name = new Map(names);
    events.push({ name: 'thread_name', ph: 'M', pid: 0, tid: cpu, args: { name: `cpu${cpu}` } });
    for (let i = 0; i < ev.length; i += 2) {
      const pid = ev[i + 1];
      if (pid === 0) continue; // idle
      const t = ev[i];
      const next = i + 2 < ev.length ? ev[i + 2] : endMs;
      events.push({ name: `${name.get(pid) ?? '?'}/${pid}`, ph: 'X', pid: 0, tid: cpu, ts: t * 1000, dur: Math.max(0, next - t) * 1000, args: { pid } });
    }
  });
  traces.forEach(({ runqueue }, cpu) => {
    for (let i = 0; runqueue && i < runqueue.length; i += 2) {
      events.push({ name: `runqueue cpu${cpu}`, ph: 'C', pid: 0, tid: cpu, ts: runqueue[i] * 1000, args: { nr_running: runqueue[i + 1] } });
    }
  });
  wake_flows(traces, events);
  for (const r of log) {
    if (r.report) events.push({ name: `${r.report}: ${r.msg.split('\n').find((l) => /BUG|WARNING|INFO|Oops/.test(l)) ?? r.report}`, ph: 'i', s: 'g', pid: 0, tid: Math.max(0, r.cpu), ts: r.uptime * 1e6, args: { text: r.msg } });
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
    events.push({ name: 'sched_wakeup', ph: 'i', s: 't', pid: 0, tid: w.cpu, ts: w.ms * 1000, args: { waker: w.waker, wakee: w.wakee, target_cpu: w.target } });
    if (w.at < 0 || w.waker === 0) continue;
    id++;
    events.push({ name: 'wakeup', cat: 'sched', ph: 's', id, pid: 0, tid: w.cpu, ts: w.ms * 1000 });
    events.push({ name: 'wakeup', cat: 'sched', ph: 'f', bp: 'e', id, pid: 0, tid: w.target, ts: w.at * 1000 });
  }
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
