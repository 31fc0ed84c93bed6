/**
 * --trace's Chrome trace-event JSON: CPU tracks of thread slices, sched_wakeup flow arrows from the
 * waker's slice to the wakee's, run-queue counters, reports with their text; the format's rules
 * (every event its required fields, complete events on one track never overlap).
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

interface Ev { name: string; ph: string; pid: number; tid?: number; ts?: number; dur?: number; id?: number; bp?: string; args?: Record<string, unknown> }

async function traced(): Promise<{ events: Ev[]; pidOf: (comm: string) => number }> {
  const m = await Machine.boot({ cpus: 2, seed: 1, trace: true });
  try {
    await m.insmod(fixture('trace_wake'));
    await m.waitForLog(/sleeper woke/, 10000);
    const ps = m.ps();
    const trace = (await m.traceJSON()) as { traceEvents: Ev[] };
    await m.rmmod('trace_wake');
    return { events: trace.traceEvents, pidOf: (comm) => ps.find((t) => t.comm === comm)!.pid };
  } finally {
    await m.shutdown();
  }
}

describe('--trace: Chrome trace-event JSON', () => {
  it('the waker\'s wakeup of a thread on another CPU is a flow from the waker\'s slice to the wakee\'s next one; counters per CPU; well-formed events', async () => {
    const { events, pidOf } = await traced();
    const waker = pidOf('waker');
    const sleeper = pidOf('sleeper');
    for (const e of events) {
      expect(typeof e.name).toBe('string');
      expect(['M', 'X', 'i', 'C', 's', 'f']).toContain(e.ph);
      expect(e.pid).toBe(0);
      if (e.ph !== 'M') expect(Number.isFinite(e.ts)).toBe(true);
      if (e.ph === 'X') expect(e.dur).toBeGreaterThanOrEqual(0);
    }
    const wake = events.find((e) => e.name === 'sched_wakeup' && e.args?.waker === waker && e.args?.wakee === sleeper)!;
    expect(wake, 'the sched_wakeup instant').toBeTruthy();
    expect(wake.tid).toBe(0);
    expect(wake.args!.target_cpu).toBe(1);
    const s = events.find((e) => e.ph === 's' && e.tid === 0 && Math.abs(e.ts! - wake.ts!) < 1e-6)!;
    expect(s, 'the flow start on the waker\'s CPU').toBeTruthy();
    const f = events.find((e) => e.ph === 'f' && e.id === s.id)!;
    expect(f.tid).toBe(1);
    expect(f.bp).toBe('e');
    expect(f.ts!).toBeGreaterThanOrEqual(s.ts!);
    // the flow ends where the sleeper's slice on CPU 1 starts, after the waker's slice holding the start
    const wakerSlice = events.find((e) => e.ph === 'X' && e.tid === 0 && e.args?.pid === waker && e.ts! <= s.ts! && s.ts! <= e.ts! + e.dur!);
    expect(wakerSlice, 'the waker\'s slice encloses the flow start').toBeTruthy();
    const sleeperSlice = events.find((e) => e.ph === 'X' && e.tid === 1 && e.args?.pid === sleeper && e.ts === f.ts);
    expect(sleeperSlice, 'the sleeper\'s slice starts at the flow end').toBeTruthy();
    expect(events.some((e) => e.ph === 'C' && e.name === 'runqueue cpu1' && typeof e.args?.nr_running === 'number')).toBe(true);
    // complete events on one track nest: here they never overlap
    for (const tid of [0, 1]) {
      const xs = events.filter((e) => e.ph === 'X' && e.tid === tid).sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < xs.length; i++) expect(xs[i].ts!).toBeGreaterThanOrEqual(xs[i - 1].ts! + xs[i - 1].dur! - 1e-6);
    }
  });
});
