/**
 * The coordinator's watchdogs, reading heartbeats from machine memory (Linux kernel/hung_task.c
 * and kernel/watchdog.c):
 *  - hung task: a started thread in TASK_UNINTERRUPTIBLE whose switch count has not moved for
 *    `hungTaskSecs` is reported, and again each `hungTaskSecs` it stays so, with the time it has
 *    been blocked; HUNG_TASK_WARNINGS reports in all (Linux's hung_task_warnings), the last one
 *    saying the rest are suppressed;
 *  - soft lockup: a CPU running the same thread with the same switch count for `softLockupSecs`
 *    (a thread that never yields, or a CPU spinning on a lock) is reported, and again each
 *    `softLockupSecs` the episode goes on, with the time it has been stuck (Linux's report_ts).
 */
import { PERCPU, NIL, THREAD, TF_STARTED } from '../memory/layout.ts';
import { cpu_awaits, awaiting_text } from './loop-beat.ts';
import { blocked_on } from './deadlock.ts';
import { type Memory } from '../memory/memory.ts';
import { log_waiters, type LogRecord } from '../printk/logbuf.ts';
import { LOGLEVEL_EMERG, LOGLEVEL_ERR } from '../printk/levels.ts';
import { TASK_NOLOAD, TASK_UNINTERRUPTIBLE, TASK_WAKEKILL } from '../sched/state.ts';

/** Linux's sysctl kernel.hung_task_warnings default: hung-task reports in a machine's life. */
export const HUNG_TASK_WARNINGS = 10;

export interface WatchdogOptions {
  /** hung_task_timeout_secs (default 120; 0 disables). */
  hungTaskSecs?: number;
  /** A CPU stuck this long is a soft lockup (default 20, Linux's 2 x watchdog_thresh; 0 disables). */
  softLockupSecs?: number;
}

export interface WatchdogReport {
  kind: 'hung_task' | 'soft_lockup';
  lines: string[];
  fields: Record<string, unknown>;
  /** As Linux logs them: a hung task from khungtaskd (KERN_ERR), a soft lockup as the stuck CPU's task (KERN_EMERG). */
  level: number;
  who: Pick<LogRecord, 'cpu' | 'pid' | 'comm'>;
}

export class Watchdog {
  private readonly hungMs: number;
  private readonly lockupMs: number;
  /** per thread slot: pid, switch count, blocked since (ms), when its next report is due (ms) */
  private readonly seen = new Map<number, { pid: number; nvcsw: number; since: number; due: number }>();
  /** per CPU: current slot and switch count since when, when the next report is due (ms) */
  private readonly cpus: { slot: number; switches: number; since: number; beat: number; due: number }[];
  /** Hung-task reports still to be printed (Linux's hung_task_warnings). */
  private hungWarnings = HUNG_TASK_WARNINGS;

  constructor(private readonly mem: Memory, o: WatchdogOptions = {}) {
    this.hungMs = (o.hungTaskSecs ?? 120) * 1000;
    this.lockupMs = (o.softLockupSecs ?? 20) * 1000;
    this.cpus = Array.from({ length: mem.nrCpus }, () => ({ slot: NIL, switches: -1, since: mem.clock(), beat: 0, due: Infinity }));
  }

  /** One look at the machine; the reports to print. */
  check(): WatchdogReport[] {
    const out: WatchdogReport[] = [];
    const t = this.mem.clock();
    if (log_waiters(this.mem) > 0) {
      // printk waits for a slow console (the log's reader): the machine is stalled on its output,
      // not locked up. Every clock restarts (Linux touch_all_softlockup_watchdogs).
      this.touch(t);
      return out;
    }
    if (this.hungMs > 0) this.checkHung(t, out);
    if (this.lockupMs > 0) this.checkLockup(t, out);
    return out;
  }

  private touch(t: number): void {
    for (const e of this.cpus) Object.assign(e, { since: t, due: t + this.lockupMs });
    for (const e of this.seen.values()) Object.assign(e, { since: t, due: t + this.hungMs });
  }

  private checkHung(t: number, out: WatchdogReport[]): void {
    const mem = this.mem;
    const w = mem.i32;
    for (let s = 0; s < mem.layout.geometry.maxThreads; s++) {
      const r = mem.threadWord(s);
      const pid = Atomics.load(w, r + THREAD.PID);
      const state = Atomics.load(w, r + THREAD.STATE);
      // Linux's check_hung_uninterruptible_tasks: TASK_UNINTERRUPTIBLE alone; a TASK_KILLABLE
      // sleeper can be killed, a TASK_IDLE one (NOLOAD) waits by design.
      const hung = pid !== 0 && state & TASK_UNINTERRUPTIBLE && !(state & (TASK_WAKEKILL | TASK_NOLOAD)) &&
        !Atomics.load(w, r + THREAD.EXITED) && w[r + THREAD.FLAGS] & TF_STARTED;
      if (!hung) {
        this.seen.delete(s);
        continue;
      }
      const nvcsw = w[r + THREAD.NVCSW];
      const e = this.seen.get(s);
      if (!e || e.pid !== pid || e.nvcsw !== nvcsw) {
        this.seen.set(s, { pid, nvcsw, since: t, due: t + this.hungMs });
        continue;
      }
      if (this.hungWarnings === 0 || t < e.due) continue;
      e.due = t + this.hungMs;
      this.hungWarnings--;
      const comm = mem.comm(s);
      const secs = Math.floor((t - e.since) / 1000);
      const wchan = mem.wmesg(s) || '-';
      const on = blocked_on(mem, s);
      out.push({
        kind: 'hung_task',
        lines: [
          `INFO: task ${comm}:${pid} blocked for more than ${secs} seconds.`,
          '      Not tainted (kmodel)',
          '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
          `task:${comm.padEnd(15)} state:D cpu:${w[r + THREAD.CPU]} pid:${pid} wchan:${wchan}`,
          ` ${comm}/${pid} ${on.text}`,
          ...(this.hungWarnings === 0 ? ['Future hung task reports are suppressed, see sysctl kernel.hung_task_warnings'] : []),
        ],
        fields: { task: comm, pid, cpu: w[r + THREAD.CPU], wchan, seconds: secs, ...(on.holder_pid !== null ? { holder_pid: on.holder_pid } : {}) },
        level: LOGLEVEL_ERR,
        who: { cpu: -1, pid: 0, comm: 'khungtaskd' },
      });
    }
  }

  private checkLockup(t: number, out: WatchdogReport[]): void {
    const mem = this.mem;
    const w = mem.i32;
    for (let c = 0; c < this.cpus.length; c++) {
      const b = mem.layout.percpuWord(c);
      const slot = Atomics.load(w, b + PERCPU.CURRENT);
      // A schedule() that kept its thread counts too: in Linux the watchdog's own thread would have run there.
      const switches = Atomics.load(w, b + PERCPU.NR_SWITCHES) + Atomics.load(w, b + PERCPU.NR_SELF_YIELDS);
      const e = this.cpus[c];
      if (slot === NIL || slot !== e.slot || switches !== e.switches) {
        Object.assign(e, { slot, switches, since: t, beat: Atomics.load(w, b + PERCPU.LOOP_BEAT), due: t + this.lockupMs });
        continue;
      }
      if (t < e.due) continue;
      e.due = t + this.lockupMs;
      const pid = w[mem.threadWord(slot) + THREAD.PID];
      const comm = mem.comm(slot);
      const secs = Math.floor((t - e.since) / 1000);
      const awaits = cpu_awaits(mem, c, e.beat, t - e.since);
      out.push({
        kind: 'soft_lockup',
        lines: [`BUG: soft lockup - CPU#${c} stuck for ${secs}s! [${comm}:${pid}]`,
          awaits ? ` ${comm}/${pid} has not left CPU#${c}, ${awaiting_text}`
            : ` ${comm}/${pid} has not left CPU#${c}: a loop that never blocks or calls schedule(), or a spin on a lock`],
        fields: { stuck_cpu: c, task: comm, task_pid: pid, seconds: secs, ...(awaits ? { awaiting: true } : {}) },
        level: LOGLEVEL_EMERG,
        who: { cpu: c, pid, comm },
      });
    }
  }
}
