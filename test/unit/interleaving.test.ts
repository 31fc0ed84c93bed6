import { describe, expect, it } from 'vitest';
import { INTERLEAVING_LEGEND, format_interleaving, interleaving_trace } from '@kmodel/core/internal/machine/interleaving.ts';
import type { PointDetail, PointKind } from '@kmodel/core/internal/sched/control-detail.ts';
import { step_entry } from '@kmodel/core/internal/sched/control-record.ts';

function point(step: number, cpu: number, pid: number, comm: string, kind: PointKind, what: string, site: string, value?: string): PointDetail {
  return { step, cpu, pid, comm, kind, what, site, value };
}

/**
 * x = x + 1 on two CPUs, lost update: inc/101 (CPU 0) reads x = 0 and is preempted; inc/102
 * (CPU 1) reads x = 0 and sleeps (CPU 1 idles); 101 writes 1 and exits (CPU 0 idles); 102 wakes,
 * writes 1 and exits in the kernel. Point 0 is the coordinator's release.
 */
const race = {
  entries: [
    step_entry(0, 0), step_entry(101, 1), step_entry(102, 1), step_entry(0, 0),
    step_entry(101, 0), step_entry(0, 1), step_entry(102, 1), step_entry(102, 1),
  ],
  details: [
    point(1, 0, 101, 'inc', 'read', 'x', 'race.ts:14', '0'),
    point(2, 1, 102, 'inc', 'read', 'x', 'race.ts:14', '0'),
    point(3, 1, 0, 'swapper/1', 'idle', '', ''),
    point(4, 0, 101, 'inc', 'write', 'x', 'race.ts:14', '1'),
    point(5, 0, 0, 'swapper/0', 'idle', '', ''),
    point(6, 1, 102, 'inc', 'write', 'x', 'race.ts:14', '1'),
    point(7, 1, 102, 'inc', 'call', 'do_exit', ''),
  ],
};

describe('format_interleaving', () => {
  it('shows a lost update: a column per thread, the preemption after the first read', () => {
    expect(format_interleaving(race.details, race.entries)).toEqual([
      'step     inc/101                  inc/102',
      '   1 >>  read x = 0  race.ts:14',
      '   2                              read x = 0  race.ts:14',
      '   4     write x = 1  race.ts:14',
      '   6                              write x = 1  race.ts:14',
      '>> = preempted here (switched away while it could go on)',
    ]);
  });

  it('names calls and Atomics ops as they are, and only the threads asked for', () => {
    const details = [
      point(1, 0, 101, 'a', 'call', 'mutex_lock', 'm.ts:3'),
      point(3, 1, 102, 'b', 'atomic', 'Atomics.add counter[0]', 'm.ts:9', '5'),
      point(4, 1, 103, 'c', 'spin', 'spin_lock', 'm.ts:20'),
    ];
    // Point 2: CPU 0 idles (101 blocked in mutex_lock), so no switch is a preemption.
    const entries = [step_entry(0, 0), step_entry(101, 0), step_entry(0, 1), step_entry(102, 1), step_entry(103, 1)];
    expect(format_interleaving(details, entries, { threads: [103, 101] })).toEqual([
      'step     c/103                    a/101',
      '   1                              mutex_lock  m.ts:3',
      '   4     spin spin_lock  m.ts:20',
      INTERLEAVING_LEGEND,
    ]);
    expect(format_interleaving(details, entries)[0]).toBe('step     a/101               b/102                               c/103');
    expect(format_interleaving(details, entries)[2]).toBe('   3                         Atomics.add counter[0] = 5  m.ts:9');
  });

  it('marks the last module row before a preemption at a kernel point', () => {
    // 101 locks at m.ts:3, then is preempted at a point inside the kernel (no module site).
    const details = [
      point(1, 0, 101, 'a', 'call', 'mutex_lock', 'm.ts:3'),
      point(2, 0, 101, 'a', 'call', 'might_sleep', ''),
      point(3, 1, 102, 'b', 'read', 'x', 'm.ts:5', '7'),
    ];
    const entries = [step_entry(0, 0), step_entry(101, 0), step_entry(101, 1), step_entry(102, 1)];
    expect(format_interleaving(details, entries).slice(1, 3)).toEqual([
      '   1 >>  mutex_lock  m.ts:3',
      '   3                         read x = 7  m.ts:5',
    ]);
  });

  it('caps a cell at 44 characters, keeping the site', () => {
    const what = 'shared_table_with_a_long_name[12345]';
    const lines = format_interleaving([point(1, 0, 101, 'a', 'read', what, 'module.ts:120', '{"a":1,"b":2}')], [step_entry(0, 0), step_entry(101, 0)]);
    expect(lines[1]).toBe('   1     read shared_table_with_a_lon…  module.ts:120');
    expect(lines[1].length - 9).toBe(44);
  });

  it('elides the middle of long runs of one thread when the table is too long', () => {
    // 101 does 40 reads, 102 does 3, 101 does 30 more; each switch a preemption.
    const details: PointDetail[] = [];
    const entries = [step_entry(0, 0)];
    const run = (pid: number, cpu: number, n: number) => {
      for (let i = 0; i < n; i++) {
        const step = entries.length;
        details.push(point(step, cpu, pid, 't', 'read', 'x', `m.ts:${step}`, String(step)));
        entries.push(step_entry(pid, cpu));
      }
      entries[entries.length - 1] = step_entry(pid, 1 - cpu);
    };
    run(101, 0, 40);
    run(102, 1, 3);
    run(101, 0, 30);
    expect(format_interleaving(details, entries, { maxRows: 100 })).toHaveLength(1 + 73 + 1);
    const lines = format_interleaving(details, entries, { maxRows: 15 });
    // The largest per-run cap that fits 15 rows: 6 (3 head rows, the elision, 2 tail rows); 6 + 3 + 6.
    expect(lines).toEqual([
      'step     t/101                 t/102',
      '   1     read x = 1  m.ts:1',
      '   2     read x = 2  m.ts:2',
      '   3     read x = 3  m.ts:3',
      '         … 35 more steps of t/101',
      '  39     read x = 39  m.ts:39',
      '  40 >>  read x = 40  m.ts:40',
      '  41                           read x = 41  m.ts:41',
      '  42                           read x = 42  m.ts:42',
      '  43 >>                        read x = 43  m.ts:43',
      '  44     read x = 44  m.ts:44',
      '  45     read x = 45  m.ts:45',
      '  46     read x = 46  m.ts:46',
      '         … 25 more steps of t/101',
      '  72     read x = 72  m.ts:72',
      '  73 >>  read x = 73  m.ts:73',
      INTERLEAVING_LEGEND,
    ]);
    // Never fewer than a head row, the elision and a tail row per run, however small maxRows is.
    expect(format_interleaving(details, entries, { maxRows: 2 })).toHaveLength(1 + 3 + 3 + 3 + 1);
  });

  it('says so when no point was in the module', () => {
    expect(format_interleaving([point(1, 0, 0, 'swapper/0', 'idle', '', '')], [step_entry(0, 0), step_entry(0, 0)])).toEqual([
      '(no scheduling point in the module: nothing to show)',
    ]);
  });
});

describe('interleaving_trace', () => {
  it('has an event per row on its thread\'s track, and the preemptions', () => {
    const doc = interleaving_trace(race.details, race.entries) as { traceEvents: Record<string, unknown>[] };
    const ev = doc.traceEvents;
    const rows = ev.filter((e) => e.ph === 'X');
    expect(rows).toHaveLength(4);
    for (const e of ev) {
      expect(typeof e.name).toBe('string');
      expect(['M', 'X', 'i']).toContain(e.ph);
      expect(e.pid).toBe(0);
      if (e.ph !== 'M' || e.name !== 'process_name') expect([101, 102]).toContain(e.tid);
      if (e.ph !== 'M') expect(Number.isInteger(e.ts)).toBe(true);
    }
    expect(rows.map((e) => [e.tid, e.ts, e.dur, e.name])).toEqual([[101, 1, 1, 'read x'], [102, 2, 1, 'read x'], [101, 4, 1, 'write x'], [102, 6, 1, 'write x']]);
    expect(rows[0].args).toEqual({ site: 'race.ts:14', value: '0', step: 1, cpu: 0, kind: 'read' });
    expect(ev.filter((e) => e.ph === 'i')).toEqual([{ name: 'preempted', ph: 'i', s: 't', pid: 0, tid: 101, ts: 1, args: { step: 1 } }]);
    expect(ev.filter((e) => e.name === 'thread_name').map((e) => (e.args as { name: string }).name)).toEqual(['inc/101', 'inc/102']);
  });
});
