/**
 * Building modules after esbuild's own process is gone (a terminal's Ctrl-C signals the whole
 * process group, esbuild's service included, while kmodel goes on: a console, a minimizer).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Machine } from '@kmodel/core';
import { fixture, logged } from './helpers/machine.ts';

/** This process's esbuild service processes (from /proc: their parent and command line). */
function esbuild_children(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && /esbuild/.test(readFileSync(`/proc/${d}/cmdline`, 'utf8'))) pids.push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

describe('module builds', () => {
  it('a module still builds and loads after esbuild\'s service was killed', async () => {
    const m = await Machine.boot({ cpus: 1 });
    try {
      await m.insmod(fixture('campaign_clean'));
      await logged(m, /^done$/);
      await m.rmmod('campaign_clean');
      const children = esbuild_children();
      expect(children.length).toBeGreaterThan(0);
      for (const pid of children) process.kill(pid, 'SIGKILL');
      // Until the killed ones are reaped (bounded), so the next build meets a dead service.
      for (let i = 0; i < 100 && esbuild_children().some((p) => children.includes(p)); i++) await new Promise((r) => setTimeout(r, 20));
      await m.insmod(fixture('campaign_clean'));
      expect(m.loadedModules().map((x) => x.name)).toEqual(['campaign_clean']);
    } finally {
      await m.shutdown();
    }
  });
});
