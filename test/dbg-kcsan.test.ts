/**
 * KCSAN's report de-duplication and value width (debug/kcsan.ts): a pair of functions is
 * reported once on the whole machine, whichever CPU saw it and whichever side was the watcher
 * (the reported pairs are in machine memory; another CPU here is a worker thread over the same
 * buffer); "value changed" prints the access's bytes, two hex digits each, as Linux's
 * print_report (hex_len = size * 2).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { kcsan_first_report, kcsan_value_hex } from '@kmodel/core/internal/debug/kcsan-report.ts';
import { machine_memory } from './unit/helpers.ts';

function cpu0() {
  const mem = machine_memory({ threads: 2 });
  new Cpu(mem, 0, { createTask: () => { throw new Error('no thread runs here'); }, startTask: () => {}, reapKilled: () => {} });
  return mem;
}

/** Ask CPU 1 (a worker thread over `mem`) about each pair. */
function on_cpu1(mem: ReturnType<typeof machine_memory>, pairs: [string, string | null][]): Promise<boolean[]> {
  const w = new Worker(new URL('./unit/ts-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/dbg_kcsan_cpu.ts', import.meta.url).href, sab: mem.sab, geometry: mem.layout.geometry, pairs },
  });
  return new Promise((resolve, reject) => {
    w.once('message', (m: boolean[]) => { void w.terminate(); resolve(m); });
    w.once('error', reject);
  });
}

describe('KCSAN: one report per pair of functions, machine-wide', () => {
  it('either way round is one pair; another CPU sees the pairs this one reported, and this one sees its', async () => {
    const mem = cpu0();
    expect(kcsan_first_report('big_writer', 'big_reader')).toBe(true);
    expect(kcsan_first_report('big_reader', 'big_writer')).toBe(false);
    expect(kcsan_first_report('big_reader', null)).toBe(true); // unknown origin: a pair of its own
    expect(kcsan_first_report('big_reader', null)).toBe(false);
    expect(await on_cpu1(mem, [['big_reader', 'big_writer'], ['big_reader', null], ['peeker', 'bumper']])).toEqual([false, false, true]);
    expect(kcsan_first_report('bumper', 'peeker')).toBe(false);
  });

  it('the record is the machine\'s: a new machine reports the same pair again', () => {
    cpu0();
    expect(kcsan_first_report('f', 'g')).toBe(true);
    cpu0();
    expect(kcsan_first_report('g', 'f')).toBe(true);
  });
});

describe('KCSAN: value changed is as wide as the access', () => {
  it('2 hex digits a byte: 1, 2, 4 and 8 bytes, signed and floating-point elements as their raw bytes', () => {
    cpu0();
    expect(kcsan_value_hex(new Uint8Array(1), 0xb5)).toBe('b5');
    expect(kcsan_value_hex(new Int8Array(1), -75)).toBe('b5');
    expect(kcsan_value_hex(new Uint16Array(1), 0xb5)).toBe('00b5');
    expect(kcsan_value_hex(new Int32Array(1), 0xb5)).toBe('000000b5');
    expect(kcsan_value_hex(new Int32Array(1), -1)).toBe('ffffffff');
    expect(kcsan_value_hex(new BigInt64Array(1), 0x1100000011n)).toBe('0000001100000011');
    expect(kcsan_value_hex(new BigInt64Array(1), -1n)).toBe('ffffffffffffffff');
    expect(kcsan_value_hex(new Float64Array(1), 1.5)).toBe('3ff8000000000000');
    expect(kcsan_value_hex(new Float32Array(1), 1.5)).toBe('3fc00000');
  });
});
