import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ScheduleError, check_module, decode_entries, encode_entries, module_hash, read_schedule, write_schedule,
  type ScheduleRecord,
} from '@kmodel/core/internal/machine/schedule-file.ts';
import { NEXT_COORD, step_entry } from '@kmodel/core/internal/sched/control-record.ts';

const dir = mkdtempSync(join(tmpdir(), 'kmodel-schedule-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small deterministic generator (xorshift32), so a failure names its case. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function module_file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function record(module: string, entries: Int32Array): ScheduleRecord {
  return {
    module, module_sha256: module_hash(module), boot: { cpus: 2, seed: 7, strategy: 'pct', depth: 2, pctSteps: 500, hz: 250, lockdep: true },
    duration: null, report: 'data race', entries,
  };
}

describe('encode_entries / decode_entries', () => {
  it('round-trips random arrays exactly', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const a = new Int32Array(Math.floor(r() * 300));
      for (let i = 0; i < a.length; i++) {
        // Mostly small entries with repeats, some extremes of the 32-bit range.
        const k = r();
        a[i] = k < 0.5 && i > 0 ? a[i - 1] : k < 0.95 ? Math.floor(r() * 4000) : k < 0.975 ? -(2 ** 31) : 2 ** 31 - 1;
      }
      expect(Array.from(decode_entries(encode_entries(a))), `seed ${seed}`).toEqual(Array.from(a));
    }
  });

  it('stores long runs as one item each', () => {
    const a = new Int32Array(100_000);
    a.fill(step_entry(101, 0), 0, 60_000);
    a.fill(step_entry(102, 1), 60_000, 99_999);
    a[99_999] = step_entry(0, NEXT_COORD);
    const s = encode_entries(a);
    expect(s).toBe(`${(101 * 128).toString(36)}*${(60_000).toString(36)},${(102 * 128 + 1).toString(36)}*${(39_999).toString(36)},${(127).toString(36)}`);
    expect(decode_entries(s)).toEqual(a);
  });

  it('encodes nothing as the empty string, and a lone entry without a count', () => {
    expect(encode_entries([])).toBe('');
    expect(decode_entries('')).toEqual(new Int32Array(0));
    expect(encode_entries([35, 36, 36])).toBe('z,10*2');
    expect(Array.from(decode_entries('z,10*2,-1'))).toEqual([35, 36, 36, -1]);
  });

  it('rejects items that are not entries', () => {
    expect(() => decode_entries('z,,1')).toThrow(/item 2 '' is not/);
    expect(() => decode_entries('z*0')).toThrow(/item 1 'z\*0' repeats an entry 0 times/);
    expect(() => decode_entries('zzzzzzz')).toThrow(/not a 32-bit entry/);
    expect(() => decode_entries('1 2')).toThrow(ScheduleError);
  });
});

describe('write_schedule / read_schedule', () => {
  it('reads back what it wrote, with steps and preemptions from the entries', () => {
    const mod = module_file('race.ts', 'export async function init() {}\n');
    // Point 0: the coordinator gives CPU 0 the baton; 101 is preempted at 1, 102 at 3.
    const entries = Int32Array.from([step_entry(0, 0), step_entry(101, 1), step_entry(102, 1), step_entry(102, 0), step_entry(101, 0), step_entry(101, NEXT_COORD)]);
    const file = join(dir, 'ok.json');
    write_schedule(file, record(mod, entries));
    const s = read_schedule(file);
    expect(s.file).toBe(file);
    expect(s.module).toBe(mod);
    expect(s.module_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(s.kmodel).toBe('0.1.0');
    expect(s.boot).toEqual({ cpus: 2, seed: 7, strategy: 'pct', depth: 2, pctSteps: 500, hz: 250, lockdep: true });
    expect(s.duration).toBeNull();
    expect(s.report).toBe('data race');
    expect(s.steps).toBe(6);
    // 101 at 1 (CPU 0 -> 1), 102 at 3 (1 -> 0); 101's hand-off to the coordinator at 5 is no choice.
    expect(s.preemptions).toBe(2);
    expect(s.entries).toEqual(entries);
    expect(() => check_module(s)).not.toThrow();
  });

  const bad = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const valid = () => ({
    kmodel_schedule: 1, kmodel: '0.1.0', module: '/m.ts', module_sha256: 'a'.repeat(64), boot: { cpus: 2, seed: 1, strategy: 'random' },
    duration: 2, steps: 3, preemptions: 0, report: null, entries: '1*3',
  });

  it('names the file when it is missing', () => {
    const p = join(dir, 'nope.json');
    expect(() => read_schedule(p)).toThrow(new ScheduleError(`schedule ${p}: no such file`));
  });

  it('names the file when it is not JSON', () => {
    const p = bad('bad.json', '{"kmodel_schedule": 1,');
    expect(() => read_schedule(p)).toThrow(ScheduleError);
    expect(() => read_schedule(p)).toThrow(new RegExp(`^schedule ${p}: not JSON \\(`));
  });

  it('names the file when it is JSON but not a schedule', () => {
    const p = bad('trace.json', '{"traceEvents": []}');
    expect(() => read_schedule(p)).toThrow(`schedule ${p}: not a kmodel schedule (no "kmodel_schedule" field)`);
    const q = bad('array.json', '[1, 2]');
    expect(() => read_schedule(q)).toThrow(`schedule ${q}: not a kmodel schedule`);
  });

  it('names the file and both versions when the format is unknown', () => {
    const p = bad('v2.json', JSON.stringify({ ...valid(), kmodel_schedule: 2, kmodel: '9.0.0' }));
    expect(() => read_schedule(p)).toThrow(`schedule ${p}: schedule format 2 is not one this kmodel (0.1.0) reads (format 1); it was written by a newer kmodel (9.0.0)`);
  });

  it('names the file and the field when entries or other fields are malformed', () => {
    expect(read_schedule(bad('valid.json', JSON.stringify(valid()))).entries).toEqual(Int32Array.from([1, 1, 1]));
    const p = bad('entries.json', JSON.stringify({ ...valid(), entries: '1*3,#' }));
    expect(() => read_schedule(p)).toThrow(`schedule ${p}: entries malformed: item 2 '#' is not 'entry' or 'entry*count' in base 36`);
    const q = bad('steps.json', JSON.stringify({ ...valid(), steps: 4 }));
    expect(() => read_schedule(q)).toThrow(`schedule ${q}: entries malformed: they hold 3 steps, "steps" says 4`);
    const r = bad('sha.json', JSON.stringify({ ...valid(), module_sha256: 'abc' }));
    expect(() => read_schedule(r)).toThrow(`schedule ${r}: "module_sha256" must be 64 hex digits, got "abc"`);
    const c = bad('cpus.json', JSON.stringify({ ...valid(), boot: { seed: 1, strategy: 'pct' } }));
    expect(() => read_schedule(c)).toThrow(`schedule ${c}: "boot.cpus" must be an integer from 1 to 64, got nothing`);
  });
});

describe('check_module', () => {
  it('refuses a module that changed since the recording, with both hashes', () => {
    const mod = module_file('changed.ts', 'export let x = 0;\n');
    const before = module_hash(mod);
    const file = join(dir, 'changed.json');
    write_schedule(file, record(mod, Int32Array.from([0, 128])));
    writeFileSync(mod, 'export let x = 1;\n');
    const after = module_hash(mod);
    expect(after).not.toBe(before);
    const s = read_schedule(file);
    expect(() => check_module(s)).toThrow(new ScheduleError(
      `schedule ${file} was recorded for ${mod} (sha256 ${before.slice(0, 12)}…), which has changed since (now ${after.slice(0, 12)}…): the replay would not be the same run`,
    ));
    // The same source under another path is the same module.
    const copy = module_file('copy.ts', 'export let x = 0;\n');
    expect(() => check_module(s, copy)).not.toThrow();
  });

  it('names a module file that is gone', () => {
    const mod = module_file('gone.ts', 'export {};\n');
    const file = join(dir, 'gone.json');
    write_schedule(file, record(mod, Int32Array.from([0])));
    rmSync(mod);
    const s = read_schedule(file);
    expect(() => check_module(s)).toThrow(`schedule ${file} was recorded for ${mod} (sha256 ${s.module_sha256.slice(0, 12)}…), which is not there: nothing to replay`);
  });

  it('hashes the bytes of the file', () => {
    const mod = module_file('hash.ts', 'abc');
    expect(module_hash(mod)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
