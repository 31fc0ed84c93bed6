/**
 * kmodel torture (locktorture): a lock that excludes ends in SUCCESS with no failures, a lock
 * that does not ends in FAILURE with the failures flagged, and the exit code says which.
 */
import { describe, it, expect } from 'vitest';
import { kmodel, fixture, jsonLines } from './helpers/machine.ts';

const SHORT = ['--cpus', '2', '--duration', '1', '--log-format', 'json'];

async function torture(args: string[]) {
  const r = await kmodel(['torture', ...SHORT, ...args]);
  const msgs = jsonLines(r.stdout).map((l) => String(l.msg));
  const find = (re: RegExp) => msgs.find((m) => re.test(m));
  return { ...r, msgs, find };
}

/** "Writes:  Total: N  Max/Min: a/b ???  Fail: F !!!" → { total, fail } */
function counts(line: string | undefined): { total: number; fail: number } {
  const m = line?.match(/Total: (\d+) {2}Max\/Min: \d+\/\d+ (?:\?\?\?)? {2}Fail: ([01]) /);
  expect(m, `a statistics line, got ${line}`).toBeTruthy();
  return { total: Number(m![1]), fail: Number(m![2]) };
}

describe('kmodel torture', () => {
  it('lock_busted (no exclusion) ends in FAILURE, exit 1, failures flagged [!!!]', async () => {
    const r = await torture(['--type', 'lock_busted']);
    expect(r.code).toBe(1);
    expect(r.find(/^lock_busted-torture:--- Start of test: nwriters_stress=4 nreaders_stress=0 stat_interval=0 verbose=1 shuffle_interval=3 stutter=0 shutdown_secs=1 onoff_interval=0 onoff_holdoff=0$/)).toBeTruthy();
    const w = r.find(/Writes:/);
    expect(counts(w).fail).toBeGreaterThan(0);
    expect(w).toMatch(/ Fail: 1 !!!$/);
    expect(r.find(/^lock_busted-torture:--- End of test: FAILURE: nwriters_stress=4 /)).toBeTruthy();
    expect(r.find(/End of test: SUCCESS/)).toBeUndefined();
  });

  for (const type of ['spin_lock', 'mutex_lock']) {
    it(`${type} ends in SUCCESS, exit 0, Fail 0`, async () => {
      const r = await torture(['--type', type]);
      expect(r.code).toBe(0);
      const w = counts(r.find(/Writes:/));
      expect(w.total).toBeGreaterThan(0);
      expect(w.fail).toBe(0);
      expect(r.find(/Writes:.*!!!/)).toBeUndefined();
      expect(r.find(new RegExp(`^${type}-torture:--- End of test: SUCCESS \\[debug\\]: nwriters_stress=4 `))).toBeTruthy();
    });
  }

  it('rw_lock (the reader-writer spinlock rwlock_t) runs readers as many as writers (CPUs each, as locktorture) and ends in SUCCESS', async () => {
    const r = await torture(['--type', 'rw_lock']);
    expect(r.code).toBe(0);
    expect(counts(r.find(/Writes:/)).fail).toBe(0);
    const reads = counts(r.find(/Reads :/));
    expect(reads.fail).toBe(0);
    expect(reads.total).toBeGreaterThan(0);
    expect(r.find(/^rw_lock-torture:--- End of test: SUCCESS \[debug\]: nwriters_stress=2 nreaders_stress=2 /)).toBeTruthy();
  });

  it('--stutter pauses and restarts every thread together; a correct lock still passes', async () => {
    const r = await torture(['--type', 'spin_lock', '--duration', '2.5', '--stutter', '1']);
    expect(r.code).toBe(0);
    expect(r.find(/^spin_lock-torture:--- Start of test \[debug\]: nwriters_stress=\d+ .* stutter=1 shutdown_secs=2\.5 /)).toBeTruthy();
    expect(counts(r.find(/Writes:/)).fail).toBe(0);
  });

  it('rwsem_lock (Tru64 complex lock) runs readers as many as writers and ends in SUCCESS', async () => {
    const r = await torture(['--type', 'rwsem_lock', '--stat-interval', '1', '--duration', '1.5']);
    expect(r.code).toBe(0);
    expect(r.find(/^rwsem_lock-torture:--- Start of test: nwriters_stress=2 nreaders_stress=2 stat_interval=1 /)).toBeTruthy();
    // one periodic pair of lines and the final pair
    expect(r.msgs.filter((m) => /Writes:/.test(m)).length).toBe(2);
    const reads = r.msgs.filter((m) => /Reads :/.test(m));
    expect(reads.length).toBe(2);
    expect(counts(reads[1]).total).toBeGreaterThan(0);
    expect(counts(reads[1]).fail).toBe(0);
    expect(r.find(/End of test: SUCCESS/)).toBeTruthy();
  });

  it('a user lock module (test-and-test-and-set with Atomics) passes under its own name', async () => {
    const r = await torture(['--lock-module', fixture('torture_ttas_lock')]);
    expect(r.code).toBe(0);
    expect(counts(r.find(/^torture_ttas_lock-torture:Writes:/)).fail).toBe(0);
    expect(r.find(/^torture_ttas_lock-torture:--- End of test: SUCCESS: nwriters_stress=/)).toBeTruthy();
  });

  it('a broken user lock module (check, yield, then set) ends in FAILURE', async () => {
    const r = await torture(['--lock-module', fixture('torture_broken_lock')]);
    expect(r.code).toBe(1);
    expect(counts(r.find(/Writes:/)).fail).toBeGreaterThan(0);
    expect(r.find(/End of test: FAILURE/)).toBeTruthy();
  });

  it('a lock module without unlock() fails to load: exit 1, no verdict', async () => {
    const r = await torture(['--lock-module', fixture('torture_no_unlock')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmodel: locktorture: lock module test\/fixtures\/torture_no_unlock\.ts: exports no unlock\(\); /);
    expect(r.find(/End of test/)).toBeUndefined();
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      ['--type', 'rwlock'],
      ['--type', 'spin_lock', '--nreaders-stress', '2'],
      ['--type', 'spin_lock', '--lock-module', fixture('torture_ttas_lock')],
      ['--nwriters-stress', '0'],
      ['--duration', '-1'],
    ]) {
      const r = await kmodel(['torture', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/error|expected|must/);
    }
  });

  it('--help describes the command and its exit status', async () => {
    const r = await kmodel(['torture', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--nwriters-stress/);
    for (const t of ['lock_busted', 'spin_lock', 'mutex_lock', 'rwsem_lock']) expect(r.stdout).toContain(t);
    expect(r.stdout).toMatch(/Exit status: 0 SUCCESS; 1 FAILURE/);
  });
});
