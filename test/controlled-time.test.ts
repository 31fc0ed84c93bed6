/**
 * Virtual time under the controlled scheduler: it jumps to the next timer only when every thread
 * that can run has been spinning for a while, not when one merely looks at a word twice; a thread
 * polling with `await schedule()` lets it pass to the next timer or the coordinator's deadline.
 */
import { describe, expect, it } from 'vitest';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('controlled virtual time', () => {
  it.each([1, 2, 3])('a thread that reads a flag twice before it wakes a sleeper leaves the sleeper\'s timeout alone (seed %i)', async (seed) => {
    const r = await kmodel(['run', fixture('ct_reads_twice'), '--cpus', '2', '--controlled', '--seed', String(seed), '--log-format', 'json'], { timeoutMs: 60000 });
    expect(r.code).toBe(0);
    const line = jsonLines(r.stdout).map((l) => l.msg).find((m) => /^sleeper: schedule_timeout\(HZ\) returned/.test(m));
    const [, left, after] = /returned (\d+) after (\d+) jiffies, flag=1$/.exec(line ?? '') ?? [];
    // Woken by the waker some 20 ms in (its msleep), long before the 1 s timeout.
    expect(Number(left)).toBeGreaterThan(200);
    expect(Number(after)).toBeLessThan(50);
  });

  it('a flag polled with await schedule() until exit() sets it: time passes to the end of --duration in a few yields, then exit() ends the poll', async () => {
    const r = await kmodel(['run', fixture('controlled/yield_poll'), '--cpus', '2', '--controlled', '--seed', '1', '--duration', '2', '--log-format', 'json'], { timeoutMs: 60000 });
    expect(r.code).toBe(0);
    const msgs = jsonLines(r.stdout).map((l) => l.msg);
    const [, yields] = /^poller: saw the flag after (\d+) yields$/.exec(msgs.find((m) => m.startsWith('poller:')) ?? '') ?? [];
    expect(Number(yields)).toBeGreaterThan(0);
    expect(Number(yields)).toBeLessThan(100); // a point at a time: about a million
    expect(msgs).toContain('exit: kthread_stop(poller) -> 0');
  });

  it('a thread yielding for ever that exit() cannot stop: rmmod\'s 30 s bound comes without millions of yields', async () => {
    const r = await kmodel(['run', fixture('controlled/yield_deaf'), '--cpus', '2', '--controlled', '--seed', '1', '--duration', '1', '--log-format', 'json'], { timeoutMs: 120000 });
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l.report === 'bug').map((l) => l.msg)).toEqual(['rmmod: yield_deaf: exit() did not return within 30 s']);
    expect(lines.map((l) => l.msg).filter((m) => m.startsWith('deafpoll:'))).toEqual([]);
  });
});
