/**
 * The lock demonstrations in examples/locks/: what each one shows, as its printed result.
 * Timing-dependent outcomes are asserted only where they held in every run we tried, or, for the
 * races that need both CPUs at once, over repeated runs (until_race); the rest are printed for
 * the reader (see each example's header).
 */
import { describe, it, expect } from 'vitest';
import { kmodel, example, jsonLines } from './helpers/machine.ts';

async function run(args: string[], timeoutMs = 90_000) {
  const r = await kmodel(args, { timeoutMs });
  const msgs = jsonLines(r.stdout).map((l) => String(l.msg));
  const find = (re: RegExp) => msgs.find((m) => re.test(m));
  return { ...r, msgs, find };
}

/**
 * The plain Peterson lock breaks only when both parties run lock() at the same moment on two
 * CPUs and the load of the other's flag passes their own stores: a window of a few instructions,
 * reached only while the host runs both CPU workers at once. How often a run reaches it depends on
 * the host's scheduling, so those tests repeat the run (as `plan` says: the counts or the torture
 * durations) until one shows the race, with bounds chosen from the miss rates measured below.
 * Every run must still come out as one of the two outcomes (a clean miss, or the race as asserted).
 */
async function until_race<R>(plan: number[], attempt: (p: number) => Promise<R>, raced: (r: R) => boolean): Promise<R> {
  let r!: R;
  for (const p of plan) {
    r = await attempt(p);
    if (raced(r)) break;
  }
  return r;
}

/** "Writes:  Total: N  Max/Min: a/b ???  Fail: F !!!" → numbers */
function writes(line: string | undefined) {
  const m = line?.match(/Total: (\d+) {2}Max\/Min: (\d+)\/(\d+) (?:\?\?\?)? {2}Fail: ([01]) /);
  expect(m, `a statistics line, got ${line}`).toBeTruthy();
  return { total: Number(m![1]), max: Number(m![2]), min: Number(m![3]), fail: Number(m![4]) };
}

/** Bound of one counting run (kmodel run of a Peterson example). */
const COUNTED_MS = 120_000;

describe("Peterson's lock (two threads on two CPUs counting under it)", () => {
  // Each party counts a million times without calling schedule(), as the examples mean to: on a
  // loaded host that has taken 70 s, past the soft-lockup watchdog's 20 s (a report: exit 1) and
  // near insmod's 60 s bound on init(). Neither is what these runs show: the soft-lockup watchdog
  // is off, and init() may wait up to 110 s (below the hung-task watchdog's 120 s).
  const counted = async (file: string, label: string) => {
    const r = await run(['run', example(`locks/${file}`), '--cpus', '2', '--softlockup-secs', '0', '--init-timeout', '110',
      '--log-format', 'json'], COUNTED_MS);
    expect(r.code, r.msgs.join('\n')).toBe(0);
    const m = r.find(new RegExp(`^Peterson \\(${label}\\): (\\d+) of (\\d+) \\((\\d+) lost\\)`))?.match(/(\d+) of (\d+) \((\d+) lost\)/);
    expect(m, r.msgs.join('\n')).toBeTruthy();
    const [n, total, lost] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(n + lost).toBe(total);
    return { n, total, lost };
  };

  it('with plain reads and writes loses updates (store-load reordering lets both parties in)', async () => {
    // 25 of 25 runs measured lost between 7 and 360 of 2,000,000 (15 of them with three busy
    // loops beside them on 2 cores), yet a full-suite run once failed here: a loaded host can keep
    // the two parties from running together long enough to overlap (or outlast the soft-lockup
    // watchdog: see counted). Up to 3 runs.
    const r = await until_race([1, 2, 3], async (i) => {
      const c = await counted('peterson_plain.ts', 'plain reads/writes');
      console.log(`peterson_plain (run ${i}): ${c.n} of ${c.total} (${c.lost} lost)`);
      return c;
    }, (c) => c.lost > 0);
    expect(r.n).toBeLessThanOrEqual(r.total);
    expect(r.lost).toBeGreaterThan(0);
  }, 3 * COUNTED_MS);

  it('with Atomics.load/store loses none', async () => {
    const r = await counted('peterson_atomics.ts', 'Atomics');
    expect(r.lost).toBe(0);
    expect(r.n).toBe(r.total);
  }, COUNTED_MS);

  it('with plain reads and writes fails locktorture across two CPUs', async () => {
    // A writer sees the other inside only if they enter together and it looks before the other
    // leaves (holds are usually empty): a few such overlaps in a 2 s run, or none. Measured on 2
    // cores, a 2 s run missed in 4 of 8 runs with the host busy (load ~5) and in 8 of 10 with three
    // more busy loops, an 8 s one in 2 of 6 with those loops: overlaps come at about 0.35/s on the
    // busy host and 0.12/s with the loops. So the runs double, 2 s (the example's), 4, 8, 16, 32:
    // all five miss with odds near e^-21 busy and e^-7 (1 in 1000) with the loops, and the longer
    // runs are paid for only after misses.
    const r = await until_race([2, 4, 8, 16, 32], async (duration) => {
      const t = await run(['torture', '--lock-module', example('locks/peterson_plain.ts'), '--nwriters-stress', '2',
        '--cpus', '2', '--duration', String(duration), '--log-format', 'json']);
      const w = writes(t.find(/^peterson_plain-torture:Writes:/));
      console.log(`peterson_plain torture (${duration} s): Total ${w.total}  Fail ${w.fail}`);
      if (w.fail === 0) {
        // A miss is a clean run: anything else is a real failure, not a race that did not happen.
        expect(t.code, t.msgs.join('\n')).toBe(0);
        expect(t.find(/^peterson_plain-torture:--- End of test: SUCCESS: nwriters_stress=2 /)).toBeTruthy();
      }
      return { ...t, fail: w.fail };
    }, (t) => t.fail > 0);
    expect(r.code).toBe(1);
    expect(r.fail).toBeGreaterThan(0);
    expect(r.find(/^peterson_plain-torture:--- End of test: FAILURE: nwriters_stress=2 /)).toBeTruthy();
  }, 5 * 90_000);

  it('with Atomics passes locktorture with exactly two writers (torture_wr/0 and torture_wr/1)', async () => {
    const r = await run(['torture', '--lock-module', example('locks/peterson_atomics.ts'), '--nwriters-stress', '2',
      '--cpus', '2', '--duration', '1', '--log-format', 'json']);
    expect(r.code).toBe(0);
    expect(writes(r.find(/^peterson_atomics-torture:Writes:/)).fail).toBe(0);
    expect(r.find(/^peterson_atomics-torture:--- End of test: SUCCESS: nwriters_stress=2 /)).toBeTruthy();
  }, 90_000);
});

describe('ticket lock and test-and-test-and-set lock under locktorture', () => {
  const totals: Record<string, ReturnType<typeof writes>> = {};
  for (const name of ['ticket_lock', 'ttas_lock']) {
    it(`${name} passes: exit 0, Fail 0, End of test: SUCCESS`, async () => {
      const r = await run(['torture', '--lock-module', example(`locks/${name}.ts`), '--cpus', '2', '--duration', '2', '--log-format', 'json']);
      expect(r.code).toBe(0);
      const w = writes(r.find(new RegExp(`^${name}-torture:Writes:`)));
      expect(w.total).toBeGreaterThan(0);
      expect(w.fail).toBe(0);
      expect(r.find(new RegExp(`^${name}-torture:--- End of test: SUCCESS: nwriters_stress=`))).toBeTruthy();
      totals[name] = w;
    }, 90_000);
  }

  it('prints both locks\' Max/Min spread (not asserted: it depends on timing)', () => {
    for (const [name, w] of Object.entries(totals)) {
      console.log(`${name}: Total ${w.total}  Max/Min ${w.max}/${w.min}  spread ${(w.max / Math.max(1, w.min)).toFixed(3)}`);
    }
    expect(Object.keys(totals).length).toBeLessThanOrEqual(2);
  });
});

describe('lost wakeup', () => {
  it('checking before set_current_state loses wakeups; set_current_state before the check loses none', async () => {
    const r = await run(['run', example('locks/lost_wakeup.ts'), '--cpus', '2', '--log-format', 'json']);
    expect(r.code).toBe(0);
    const parse = (re: RegExp) => {
      const m = r.find(re)?.match(/(\d+) wakeups lost in (\d+) rounds/);
      expect(m, r.msgs.join('\n')).toBeTruthy();
      return { lost: Number(m![1]), rounds: Number(m![2]) };
    };
    const wrong = parse(/^lost wakeup, wrong way \(check, then set_current_state\): /);
    const right = parse(/^lost wakeup, right way \(set_current_state, then check\): /);
    console.log(`lost_wakeup: wrong way ${wrong.lost} lost in ${wrong.rounds} rounds; right way ${right.lost} lost in ${right.rounds} rounds`);
    expect(right.lost).toBe(0);
    expect(right.rounds).toBe(10000);
    // The wrong way lost wakeups in every run we tried with this window, but how many depends on
    // timing (from 3 in 10000 rounds to the cap in a few dozen): not asserted beyond its bounds.
    expect(wrong.lost).toBeGreaterThanOrEqual(0);
    expect(wrong.lost).toBeLessThanOrEqual(wrong.rounds);
  }, 90_000);
});
