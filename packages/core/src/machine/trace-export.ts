/**
 * What the CPUs recorded, exported: the switch traces as one Chrome trace-event document
 * (Perfetto, chrome://tracing), and the chaos decisions as one list in a seed-determined order.
 */
import type { LogRecord } from '../printk/logbuf.ts';
import type { CpuTrace } from './cpu-protocol.ts';

/**
 * One track per CPU, a slice per stretch a thread ran (a stretch ends at the CPU's next switch, the
 * last one at `endMs`), kernel reports as instant events; times in µs since boot.
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
  for (const r of log) {
    if (r.report) events.push({ name: `${r.report}: ${r.msg.split('\n').find((l) => /BUG|WARNING|INFO|Oops/.test(l)) ?? r.report}`, ph: 'i', s: 'g', pid: 0, tid: Math.max(0, r.cpu), ts: r.uptime * 1e6 });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
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
