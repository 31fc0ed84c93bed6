/**
 * --trace's Chrome trace-event JSON: CPU tracks of thread slices, sched_wakeup flow arrows from the
 * waker's slice to the wakee's, run-queue counters, reports with their text; thread tracks of states
 * and spins, lock holds as async slices; the format's rules (every event its required fields, b/e
 * pairs balanced per id, complete events on one track nest).
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

/** The CPU tracks' tids (cpu_tid: tid 0 is "no thread" to some readers). */
const CPU0 = 1;
const CPU1 = 2;

interface Ev { name: string; ph: string; cat?: string; pid: number; tid?: number; ts?: number; dur?: number; id?: number | string; bp?: string; s?: string; args?: Record<string, unknown> }

async function traced(module = 'trace_wake', done = /sleeper woke/): Promise<{ events: Ev[]; pidOf: (comm: string) => number }> {
  const m = await Machine.boot({ cpus: 2, seed: 1, trace: true });
  try {
    await m.insmod(fixture(module));
    await m.waitForLog(done, 10000);
    const ps = m.ps();
    const trace = (await m.traceJSON()) as { traceEvents: Ev[] };
    await m.rmmod(module);
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
    well_formed(events);
    for (const e of events) {
      expect(typeof e.name).toBe('string');
      expect(['M', 'X', 'i', 'C', 's', 'f']).toContain(e.ph);
      expect(e.pid).toBe(1);
      if (e.ph !== 'M') expect(Number.isFinite(e.ts)).toBe(true);
      if (e.ph === 'X') expect(e.dur).toBeGreaterThanOrEqual(0);
    }
    const wake = events.find((e) => e.name === 'sched_wakeup' && e.args?.waker === waker && e.args?.wakee === sleeper)!;
    expect(wake, 'the sched_wakeup instant').toBeTruthy();
    expect(wake.tid).toBe(CPU0);
    expect(wake.args!.target_cpu).toBe(1);
    const ipi = events.find((e) => e.name === 'ipi' && e.tid === CPU1 && e.ts === wake.ts)!;
    expect(ipi, 'the IPI on the target CPU').toBeTruthy();
    expect(ipi.args).toEqual({ from_cpu: 0, wakee: sleeper });
    const s = events.find((e) => e.ph === 's' && e.tid === CPU0 && Math.abs(e.ts! - wake.ts!) < 1e-6)!;
    expect(s, 'the flow start on the waker\'s CPU').toBeTruthy();
    const f = events.find((e) => e.ph === 'f' && e.id === s.id)!;
    expect(f.tid).toBe(CPU1);
    expect(f.bp).toBe('e');
    expect(f.ts!).toBeGreaterThanOrEqual(s.ts!);
    // the flow ends where the sleeper's slice on CPU 1 starts, after the waker's slice holding the start
    const wakerSlice = events.find((e) => e.ph === 'X' && e.tid === CPU0 && e.args?.pid === waker && e.ts! <= s.ts! && s.ts! <= e.ts! + e.dur!);
    expect(wakerSlice, 'the waker\'s slice encloses the flow start').toBeTruthy();
    const sleeperSlice = events.find((e) => e.ph === 'X' && e.tid === CPU1 && e.args?.pid === sleeper && e.ts === f.ts);
    expect(sleeperSlice, 'the sleeper\'s slice starts at the flow end').toBeTruthy();
    expect(events.some((e) => e.ph === 'C' && e.name === 'runqueue cpu1' && typeof e.args?.nr_running === 'number')).toBe(true);
    // complete events on one track nest: here they never overlap
    for (const tid of [CPU0, CPU1]) {
      const xs = events.filter((e) => e.ph === 'X' && e.tid === tid).sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < xs.length; i++) expect(xs[i].ts!).toBeGreaterThanOrEqual(xs[i - 1].ts! + xs[i - 1].dur! - 1e-6);
    }
  });

  it('a thread that wakes another and holds the lock it then takes: the holder\'s run, the flow, the spin, the hold, the spinner\'s run after the unlock; thread tracks nest, holds balance', async () => {
    const { events, pidOf } = await traced('trace_lock', /spinner took the lock/);
    const holder = pidOf('holder');
    const spinner = pidOf('spinner');
    well_formed(events);
    const H = 1000 + holder;
    const S = 1000 + spinner;
    expect(events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === H)?.args?.name).toBe(`holder/${holder}`);
    expect(events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === S)?.args?.name).toBe(`spinner/${spinner}`);
    // the flow holder -> spinner
    const s = events.find((e) => e.ph === 's' && e.tid === CPU0 && events.some((w) => w.name === 'sched_wakeup' && w.args?.waker === holder && w.args?.wakee === spinner && Math.abs(w.ts! - e.ts!) < 1e-6))!;
    expect(s, 'the flow start of the holder\'s wakeup of the spinner').toBeTruthy();
    const f = events.find((e) => e.ph === 'f' && e.id === s.id)!;
    expect(f.tid).toBe(CPU1);
    const holderSlice = events.find((e) => e.ph === 'X' && e.tid === CPU0 && e.args?.pid === holder && e.ts! <= s.ts! && s.ts! <= e.ts! + e.dur!)!;
    expect(holderSlice, 'the holder\'s CPU slice encloses the flow start').toBeTruthy();
    // the holder's hold of trace_L, and the spinner's
    const holds = events.filter((e) => e.cat === 'lock' && e.id === 'trace_L');
    const hb = holds.find((e) => e.ph === 'b' && e.args?.holder === `holder/${holder}`)!;
    const he = holds.find((e) => e.ph === 'e' && e.ts! >= hb.ts! && e.args?.holder === `holder/${holder}`)!;
    expect(hb, 'the holder\'s hold begins').toBeTruthy();
    expect(he, 'the holder\'s hold ends').toBeTruthy();
    expect(hb.ts!).toBeLessThanOrEqual(s.ts!); // it woke the spinner holding the lock
    expect(he.ts! - hb.ts!).toBeGreaterThanOrEqual(30_000); // the busy 30 ms
    // the spinner's spin, on its own track, inside its running slice, from after the wakeup to the unlock
    const spin = events.find((e) => e.ph === 'X' && e.tid === S && e.name === 'spinning on trace_L')!;
    expect(spin, 'the spinner\'s spin').toBeTruthy();
    expect(spin.ts!).toBeGreaterThanOrEqual(f.ts!);
    expect(spin.ts!).toBeLessThan(he.ts!);
    expect(spin.ts! + spin.dur!).toBeGreaterThanOrEqual(he.ts! - 1e-3);
    const running = events.find((e) => e.ph === 'X' && e.tid === S && e.name === 'running' && e.ts! <= spin.ts! && spin.ts! + spin.dur! <= e.ts! + e.dur! + 1e-6);
    expect(running, 'the spin is inside a running slice').toBeTruthy();
    const sb = holds.find((e) => e.ph === 'b' && e.args?.holder === `spinner/${spinner}`)!;
    expect(sb, 'the spinner\'s hold').toBeTruthy();
    expect(sb.ts!).toBeGreaterThanOrEqual(he.ts!);
    // the spinner runs after the unlock (the running slice that spun ends after it)
    expect(running!.ts! + running!.dur!).toBeGreaterThanOrEqual(he.ts!);
    // in order: holder's slice, flow, spin, the hold's end, the spinner's hold
    expect(holderSlice.ts!).toBeLessThanOrEqual(s.ts!);
    expect(s.ts!).toBeLessThanOrEqual(f.ts!);
    expect(f.ts!).toBeLessThanOrEqual(spin.ts!);
    expect(spin.ts!).toBeLessThanOrEqual(he.ts!);
    expect(he.ts!).toBeLessThanOrEqual(sb.ts!);
    // the spinner slept on its completion before it was woken
    expect(events.some((e) => e.ph === 'X' && e.tid === S && e.name.startsWith('sleeping: ') && e.ts! + e.dur! <= f.ts! + 1e-6)).toBe(true);
  });
});

/** The trace-event format's rules: fields per phase, b/e pairs balanced per id, X slices on a track nest. */
function well_formed(events: Ev[]): void {
  for (const e of events) {
    expect(typeof e.name).toBe('string');
    expect(['M', 'X', 'i', 'C', 's', 'f', 'b', 'e']).toContain(e.ph);
    expect(e.pid).toBe(1);
    if (e.ph !== 'M') expect(Number.isFinite(e.ts)).toBe(true);
    if (e.ph !== 'M' && e.ph !== 'i' && e.ph !== 'C') expect(Number.isInteger(e.tid)).toBe(true);
    if (e.ph === 'X') expect(e.dur).toBeGreaterThanOrEqual(0);
    if (e.ph === 'b' || e.ph === 'e' || e.ph === 's' || e.ph === 'f') {
      expect(e.id).toBeDefined();
      expect(typeof e.cat).toBe('string');
    }
    if (e.ph === 'i') expect(['g', 'p', 't']).toContain(e.s);
  }
  const depth = new Map<string, number>();
  for (const e of [...events].filter((x) => x.ph === 'b' || x.ph === 'e').sort((a, b) => a.ts! - b.ts! || (a.ph === 'e' ? -1 : 1))) {
    const k = `${e.cat}:${e.id}`;
    const d = (depth.get(k) ?? 0) + (e.ph === 'b' ? 1 : -1);
    expect(d, `async ${k} at ${e.ts}`).toBeGreaterThanOrEqual(0);
    expect(d, `async ${k} at ${e.ts}`).toBeLessThanOrEqual(1);
    depth.set(k, d);
  }
  for (const [k, d] of depth) expect(d, `async ${k} balanced`).toBe(0);
  const tracks = new Map<number, Ev[]>();
  for (const e of events) if (e.ph === 'X') (tracks.get(e.tid!) ?? tracks.set(e.tid!, []).get(e.tid!)!).push(e);
  for (const [tid, xs] of tracks) {
    xs.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const open: Ev[] = [];
    for (const x of xs) {
      while (open.length && open[open.length - 1].ts! + open[open.length - 1].dur! <= x.ts! + 1e-6) open.pop();
      const top = open[open.length - 1];
      if (top) expect(x.ts! + x.dur!, `track ${tid}: ${x.name} at ${x.ts} nests in ${top.name} at ${top.ts}`).toBeLessThanOrEqual(top.ts! + top.dur! + 1e-6);
      open.push(x);
    }
  }
}

describe('--trace: lock holds of rwlocks', () => {
  it('two readers of an rwlock at once: a read hold each, with its own id, both balanced; the writer\'s hold after them', async () => {
    const m = await Machine.boot({ cpus: 2, seed: 1, trace: true });
    let events: Ev[] = [];
    let pids = new Map<string, number>();
    try {
      await m.insmod(fixture('trace_readers'));
      await m.waitFor(() => m.liveThreads('trace_readers').length === 0, 10000, 'the readers to finish');
      pids = new Map(m.ps().map((t) => [t.comm, t.pid]));
      await m.rmmod('trace_readers');
      events = ((await m.traceJSON()) as { traceEvents: Ev[] }).traceEvents;
    } finally {
      await m.shutdown();
    }
    expect(m.dmesg().some((r) => r.msg === 'readers were inside together: 2')).toBe(true);
    well_formed(events);
    const reads = events.filter((e) => e.cat === 'lock' && e.name === 'trace_RW (read)');
    expect(new Set(reads.map((e) => e.id))).toEqual(new Set([`trace_RW (read) ${pids.get('reader0')}`, `trace_RW (read) ${pids.get('reader1')}`]));
    const span = (pid: number): [number, number] => {
      const b = reads.find((e) => e.ph === 'b' && e.tid === 1000 + pid)!;
      const e = reads.find((x) => x.ph === 'e' && x.id === b.id)!;
      return [b.ts!, e.ts!];
    };
    const [a0, a1] = span(pids.get('reader0')!);
    const [b0, b1] = span(pids.get('reader1')!);
    expect(Math.max(a0, b0)).toBeLessThan(Math.min(a1, b1)); // the two read holds overlap
    const write = events.find((e) => e.cat === 'lock' && e.name === 'trace_RW' && e.ph === 'b')!;
    expect(write.ts!).toBeGreaterThanOrEqual(Math.max(a1, b1));
  });
});

describe('--trace read back by a trace-event reader (@tracerbench/trace-model)', () => {
  it('builds the machine process with a track per CPU and per thread, every complete event placed on its track, the spin inside its running slice', async () => {
    const { buildModel } = await import('@tracerbench/trace-model');
    const m = await Machine.boot({ cpus: 2, seed: 1, trace: true });
    let trace: { traceEvents: Ev[] };
    let pids = new Map<string, number>();
    try {
      await m.insmod(fixture('trace_lock'));
      await m.waitFor(() => m.liveThreads('trace_lock').length === 0, 10000, 'the threads to finish');
      pids = new Map(m.ps().map((t) => [t.comm, t.pid]));
      trace = (await m.traceJSON()) as { traceEvents: Ev[] };
      await m.rmmod('trace_lock');
    } finally {
      await m.shutdown();
    }
    const model = buildModel(trace! as never);
    const proc = model.processes.find((p) => p.id === 1)!;
    expect(proc.name).toBe('kmodel machine');
    const byName = new Map(proc.threads.map((t) => [t.name, t]));
    for (const name of ['cpu0', 'cpu1', `holder/${pids.get('holder')}`, `spinner/${pids.get('spinner')}`]) {
      expect(byName.has(name), `thread ${name} in the model`).toBe(true);
    }
    // every complete event of the trace is in the model, on the thread of its tid
    const xs = trace!.traceEvents.filter((e) => e.ph === 'X').length;
    expect(proc.threads.reduce((n, t) => n + t.events.filter((e) => e.isComplete()).length, 0)).toBe(xs);
    // the reader nests by containment: the spin's parent is the spinner's running slice
    const spinner = byName.get(`spinner/${pids.get('spinner')}`)!;
    const spin = spinner.events.find((e) => e.name === 'spinning on trace_L')!;
    expect(spin.parent?.name).toBe('running');
  });
});
