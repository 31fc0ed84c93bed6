import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogRecord } from '@kmodel/core';
import type { CpuTrace } from '@kmodel/core/internal/machine/cpu-protocol.ts';
import { thread_colour, timeline_html, timeline_model } from '@kmodel/core/internal/machine/timeline.ts';
import { switch_trace } from './helpers/switch-trace.ts';
import { fixture, kmodel } from './helpers/machine.ts';

const report: LogRecord = {
  seq: 7, level: 4, cpu: 1, pid: 12, comm: 'worker', uptime: 0.0025,
  msg: 'WARNING: CPU: 1 PID: 12 at example.ts:10 demo\nCall Trace:\n  demo+0x1/0x2 </script><b>', report: 'warn',
};
const info: LogRecord = { seq: 8, level: 6, cpu: 0, pid: 0, comm: 'swapper', uptime: 0.003, msg: 'nothing to see' };

/** cpu0: a 1.0 → 1.5, idle, b 2.0 → end; cpu1: b 1.2 → 1.8, a 1.8 → 2.5, idle. */
const traces: CpuTrace[] = [
  { events: [1.0, 11, 1.5, 0, 2.0, 12], names: [[11, 'a'], [12, 'b']] },
  { events: [1.2, 12, 1.8, 11, 2.5, 0], names: [[12, 'b'], [11, 'a']] },
];

describe('timeline model', () => {
  const m = timeline_model(traces, 3.0, [report, info], 'demo');

  it('has a lane per CPU with a slice per stretch a thread ran, idle left out, the last one ending at the run end', () => {
    expect(m.title).toBe('demo');
    expect(m.endMs).toBe(3.0);
    expect(m.lanes.map((l) => l.name)).toEqual(['cpu0', 'cpu1']);
    expect(m.lanes[0].slices).toEqual([{ start: 1.0, end: 1.5, pid: 11 }, { start: 2.0, end: 3.0, pid: 12 }]);
    expect(m.lanes[1].slices).toEqual([{ start: 1.2, end: 1.8, pid: 12 }, { start: 1.8, end: 2.5, pid: 11 }]);
  });

  it('names every thread once, in pid order, coloured by its pid alone', () => {
    expect(m.threads).toEqual([
      { pid: 11, name: 'a', colour: thread_colour(11) },
      { pid: 12, name: 'b', colour: thread_colour(12) },
    ]);
    expect(thread_colour(11)).toMatch(/^hsl\(\d+ \d+% \d+%\)$/);
    expect(thread_colour(11)).not.toBe(thread_colour(12));
    expect(thread_colour(12)).toBe(thread_colour(12));
  });

  it('marks each kernel report at its time and CPU with its headline and text; no flows from switch records', () => {
    expect(m.markers).toEqual([{ ms: 2.5, lane: 1, kind: 'warn', title: 'WARNING: CPU: 1 PID: 12 at example.ts:10 demo', text: report.msg }]);
    expect(m.flows).toEqual([]);
    const coordinator = timeline_model(traces, 3, [{ ...report, cpu: -1 }]);
    expect(coordinator.markers[0].lane).toBe(-1);
  });

  it('draws a recorded wakeup as an arrow from the waker\'s CPU at the wakeup to where the wakee next ran', () => {
    // a (11) on CPU 0 wakes b (12) at 1.7 ms; b next runs on CPU 0 at 2.0 (its 1.2 slice on CPU 1 is before)
    const woke = timeline_model([{ ...traces[0], wakes: [1.7, 11, 12, 0] }, traces[1]], 3, []);
    expect(woke.flows).toEqual([{ from: { lane: 0, ms: 1.7 }, to: { lane: 0, ms: 2.0 }, label: 'a/11 → b/12' }]);
  });
});

describe('timeline HTML', () => {
  it('is one self-contained document: no external URL, the data inline and unable to close its script', () => {
    const html = timeline_html(timeline_model(traces, 3.0, [report], 'demo <run>'));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>demo &lt;run&gt;</title>');
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data's and the renderer's, nothing from the report text
    const data = JSON.parse(html.match(/<script id="data" type="application\/json">(.*?)<\/script>/s)![1]);
    expect(data.lanes[0]).toEqual({ name: 'cpu0', s: [1e6, 1e6], d: [5e5, 1e6], p: [11, 12] });
    expect(data.lanes[1]).toEqual({ name: 'cpu1', s: [1.2e6, 6e5], d: [6e5, 7e5], p: [12, 11] });
    expect(data.markers[0].text).toBe(report.msg);
    expect(data.threads).toEqual([[11, 'a', thread_colour(11)], [12, 'b', thread_colour(12)]]);
  });

  it('of a run with 1e5 switches is under 10 MB', () => {
    const big = switch_trace(100_000, 4, 64);
    const html = timeline_html(timeline_model(big, 100_000 * 0.37, [report]));
    const mb = Buffer.byteLength(html) / 2 ** 20;
    console.log(`timeline of 1e5 switches: ${mb.toFixed(2)} MiB`);
    expect(mb).toBeLessThan(10);
  });
});

/** The page's data, parsed back. */
function page_data(file: string): { end: number; lanes: { name: string; s: number[] }[]; markers: { kind: string; text: string }[] } {
  return JSON.parse(readFileSync(file, 'utf8').match(/<script id="data" type="application\/json">(.*?)<\/script>/s)![1]);
}

describe('--timeline', () => {
  it('kmodel run --controlled --timeline: the page of the controlled run, lanes on the virtual clock, its lockdep report marked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-timeline-'));
    const file = join(dir, 'abba.html');
    const r = await kmodel(['run', fixture('controlled/abba'), '--controlled', '--seed', '1', '--cpus', '2', '--timeline', file, '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`timeline written to ${file}`);
    const d = page_data(file);
    expect(d.lanes.map((l) => l.name)).toEqual(['cpu0', 'cpu1']);
    expect(d.lanes.reduce((n, l) => n + l.s.length, 0)).toBeGreaterThan(2);
    expect(d.markers.map((m) => m.kind)).toContain('lockdep');
    expect(d.markers.find((m) => m.kind === 'lockdep')!.text).toMatch(/possible circular locking dependency/);
  }, 60_000);

  it('kmodel replay FILE --timeline: the same page as the recorded run\'s (the same run, step for step, on the virtual clock)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-timeline-'));
    const [first, again, schedule] = ['run.html', 'replay.html', 'run.json'].map((f) => join(dir, f));
    const r = await kmodel(['run', fixture('controlled/abba'), '--controlled', '--seed', '1', '--cpus', '2', '--timeline', first, '--schedule-out', schedule, '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const p = await kmodel(['replay', schedule, '--timeline', again, '--log-format', 'json']);
    expect(p.code, p.stderr).toBe(1);
    expect(page_data(again)).toEqual(page_data(first));
  }, 60_000);

  it('kmodel campaign --timeline DIR: the pages of the first 5 failing seeds, named by seed, listed after the summary', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kmodel-timeline-')), 'pages');
    const r = await kmodel(['campaign', fixture('campaign_oops'), '--trials', '7', '--jobs', '2', '--cpus', '2', '--seed', '40', '--timeline', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['seed-40.html', 'seed-41.html', 'seed-42.html', 'seed-43.html', 'seed-44.html']);
    for (const seed of [40, 41, 42, 43, 44]) expect(r.stdout).toContain(`timeline: ${join(dir, `seed-${seed}.html`)}`);
    const d = page_data(join(dir, 'seed-42.html'));
    expect(d.markers.map((m) => m.kind)).toEqual(['oops']);
    expect(readFileSync(join(dir, 'seed-42.html'), 'utf8')).toContain('<title>trial seed 42: campaign_oops.ts</title>');
  }, 120_000);

  it('kmodel campaign --timeline DIR of clean trials writes nothing and says so', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kmodel-timeline-')), 'pages');
    const r = await kmodel(['campaign', fixture('campaign_clean'), '--trials', '2', '--jobs', '1', '--cpus', '2', '--seed', '1', '--timeline', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`timeline: no failing trial to draw (${dir})`);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);
});
