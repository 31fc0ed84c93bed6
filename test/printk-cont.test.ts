/**
 * pr_cont / KERN_CONT on a real machine: a continuation joins the open line of its own thread
 * (one record, at the first piece's level), another thread's record or a non-continuation line
 * closes it, and a continuation with nothing to continue is a line at the default level; the
 * %p extensions print without stray letters. The same lines through `kmodel run --log-format json`.
 */
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '@kmodel/core';
import { fixture, jsonLines, kmodel, withMachine } from './helpers/machine.ts';

const PIECES = 40;

/** msg -> level of every record of the module's threads, in order. */
const mine = (rs: LogRecord[]) => rs.filter((r) => r.cpu >= 0 && !r.report);

describe('printk continuation lines', () => {
  it('joins, closes and starts lines as Linux does; dmesg, onLog and reports agree', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      const streamed: LogRecord[] = [];
      m.onLog((r) => streamed.push(r));
      await m.insmod(fixture('pk_cont'));
      await m.waitFor(() => m.liveThreads('pk_cont').length === 1, 20000, 'the builders to exit');

      const log = mine(m.dmesg());
      const init = log.filter((r) => r.comm === 'insmod' || r.comm === 'pk_b').map((r) => [r.msg, r.level]);
      expect(init).toEqual([
        ['line start and continuation [done]', 6],
        ['vals: 0 1 2', 6],
        ['closed', 6],
        ['orphan', 4],
        ['first', 6],
        ['second', 6],
        ['A open', 6],
        ['B line', 6],
        [' A late', 4],
        ['A2 open', 6],
        [' from B', 4],
        ['A2 closed', 6],
        ['ptr: pk_target pk_builder -ENOMEM -4000 0x00001234 0x00001234|', 6],
      ]);

      // Two threads building lines at once: every record holds only its own thread's pieces, and
      // each thread's pieces all arrive, its first record starting with its tag at its level.
      for (const tag of ['t1', 't2']) {
        const recs = log.filter((r) => r.comm === `pk_${tag}`);
        expect(recs.length).toBeGreaterThan(0);
        expect(recs[0].msg.startsWith(`${tag}:`)).toBe(true);
        expect(recs[0].level).toBe(6);
        for (const r of recs) expect(r.msg).toMatch(new RegExp(`^(${tag}:)?( ${tag})*$`));
        expect(recs.flatMap((r) => r.msg.match(new RegExp(` ${tag}`, 'g')) ?? [])).toHaveLength(PIECES);
        for (const r of recs.slice(1)) expect(r.level).toBe(4);
      }

      // The holder's line is open (nothing of its thread followed it): dmesg() shows it once.
      expect(log.filter((r) => r.msg === 'holder waits')).toHaveLength(1);
      expect((await m.waitForLog(/^holder waits$/, 20000)).comm).toBe('pk_holder');
      const seqs = m.dmesg().map((r) => r.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));

      await m.rmmod('pk_cont');
      // Every line since the listener came reached onLog once, with the seq dmesg() gave it, no piece as a record of its own.
      const all = m.dmesg().filter((r) => r.seq >= streamed[0].seq);
      expect(streamed.map((r) => [r.seq, r.msg])).toEqual(all.map((r) => [r.seq, r.msg]));
      expect(streamed.filter((r) => r.msg === 'holder waits')).toHaveLength(1);
      expect(streamed.some((r) => r.msg === ' and continuation' || r.msg === ' 0')).toBe(false);
      expect(m.reports()).toEqual([]);
    });
  }, 60000);

  it('kmodel run --log-format json: one JSON line per joined line, at the first piece\'s pino level, the fields unchanged', async () => {
    const r = await kmodel(['run', fixture('pk_cont'), '--cpus', '2', '--duration', '1', '--log-format', 'json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout).filter((l) => l.comm === 'insmod');
    const byMsg = (msg: string) => lines.filter((l) => l.msg === msg);
    const start = byMsg('line start and continuation [done]');
    expect(start).toHaveLength(1);
    expect(Object.keys(start[0]).sort()).toEqual(['comm', 'cpu', 'level', 'loglevel', 'msg', 'pid', 'time', 'uptime']);
    expect(start[0].level).toBe(30);
    expect(byMsg('vals: 0 1 2').map((l) => l.level)).toEqual([30]);
    expect(byMsg('orphan').map((l) => l.level)).toEqual([40]);
    expect(lines.some((l) => /^ (and continuation|\[done\]|\d)$/.test(l.msg))).toBe(false);
    const holder = jsonLines(r.stdout).filter((l) => l.msg === 'holder waits');
    expect(holder).toHaveLength(1);
    expect(holder[0].comm).toBe('pk_holder');
  }, 60000);
});
