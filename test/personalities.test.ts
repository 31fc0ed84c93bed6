/** @kmodel/core/dragonos and @kmodel/core/linux-2.6 against their documents, on 4 CPUs. */
import { describe, expect, it } from 'vitest';
import { example, fixture, jsonLines, kmodel, withMachine } from './helpers/machine.ts';

describe('DragonOS kernel threads', () => {
  it('kthread_create stopped until process_wakeup; should_stop; kthread_exit from any depth; kthread_run_rt; stop frees the pcb', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('dragonos_api'));
      const said = (re: RegExp) => m.dmesg().find((r) => re.test(r.msg))?.msg;
      expect(said(/^created:/)).toBe('created: state D, wchan-state, ran 0');
      expect(said(/^process_wakeup/)).toBe('process_wakeup -> 0');
      expect(said(/^after wakeup/)).toBe('after wakeup: ran 1');
      expect(said(/^kthread_stop\(looper\)/)).toBe('kthread_stop(looper) -> 1000');
      expect(said(/^second kthread_stop/)).toBe('second kthread_stop -> -3');
      expect(m.reports('bug').some((r) => /kthread_stop: pid \d+ is not a live thread/.test(r.msg))).toBe(true);
      expect(said(/^kthread_stop\(exiter\)/)).toBe('kthread_stop(exiter) -> 77');
      expect(m.dmesg().some((r) => /must not print/.test(r.msg))).toBe(false);
      expect(Number(said(/^rt prio/)!.split(' ')[2])).toBeLessThan(100);
      expect(said(/^kthread_stop\(rt\)/)).toBe('kthread_stop(rt) -> 5');
      expect(said(/^kthread_stop\(never woken\)/)).toBe('kthread_stop(never woken) -> -4');
      expect(m.ps().filter((t) => t.module === 'dragonos_api')).toEqual([]);
    });
  });

  it('runs the example module', async () => {
    const r = await kmodel(['run', example('dragonos/dragon_kthreads.ts'), '--duration', '0.3', '--log-format', 'json']);
    expect(r.code).toBe(0);
    const msgs = jsonLines(r.stdout).map((l) => l.msg);
    expect(msgs).toContain('kthread_stop(dragon_rt) = 50');
    expect(msgs.find((s) => /^kthread_stop\(dragon_poll0\) = \d+$/.test(s))).toBeDefined();
  });
});

describe('Linux 2.6.0 kthread primitives', () => {
  it('initfn once at start; corefn after start and once per wakeup until it fails; destroy returns its last value', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('linux26_api'));
      const said = (re: RegExp) => m.dmesg().find((r) => re.test(r.msg))?.msg;
      expect(said(/^created:/)).toBe('created: inits 0 cores 0');
      expect(said(/^start returned/)).toBe('start returned the thread: 1; inits 1');
      expect(said(/^after start:/)).toBe('after start: cores 1');
      expect(said(/^after wakeup 1:/)).toBe('after wakeup 1: cores 2');
      expect(said(/^after wakeup 2:/)).toBe('after wakeup 2: cores 3');
      expect(said(/^after wakeup 3:/)).toBe('after wakeup 3: cores 4'); // returned -ENOSPC: no more runs
      expect(said(/^after wakeup 4:/)).toBe('after wakeup 4: cores 4');
      expect(said(/^after wakeup 5:/)).toBe('after wakeup 5: cores 4');
      expect(said(/^destroy ->/)).toBe('destroy -> -28');
    });
  });

  it('destroy before start returns 0 and initfn never runs; a failing initfn makes start return ERR_PTR', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('linux26_api'));
      const said = (re: RegExp) => m.dmesg().find((r) => re.test(r.msg))?.msg;
      expect(said(/^destroy before start/)).toBe('destroy before start -> 0; inits 0 cores 0');
      expect(said(/^failing initfn/)).toBe('failing initfn: IS_ERR 1 PTR_ERR -19');
      expect(said(/^kthread_run:/)).toBe('kthread_run: IS_ERR 0');
      expect(said(/^destroy without corefn/)).toBe('destroy without corefn -> 0');
      expect(m.reports()).toEqual([]);
    });
  });

  it('runs the example module', async () => {
    const r = await kmodel(['run', example('linux-2.6/kpoll.ts'), '--duration', '0.3', '--log-format', 'json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((l) => l.msg)).toContain('kthread_destroy = -28 after 3 polls');
  });
});
