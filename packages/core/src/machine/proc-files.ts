/** The kernel's own /proc files, formatted from machine memory by the coordinator. */
export interface ThreadInfo {
  pid: number;
  slot: number;
  comm: string;
  /** ps letter: R running/runnable, S interruptible, D uninterruptible, P parked, Z exited. */
  state: string;
  exited: boolean;
  cpu: number;
  prio: number;
  wchan: string;
  /** Scheduling class: N normal, FF realtime FIFO, TS timeshare (Tru64), FX fixed (Tru64). */
  cls: string;
  module: string;
  exitCode: number | null;
  runtimeMs: number;
  switches: number;
}

export interface CpuStat {
  cpu: number;
  busyMs: number;
  idleMs: number;
  switches: number;
  running: number;
}

/** /proc/kthreads: one line per thread. */
export function format_kthreads(ts: ThreadInfo[]): string {
  const head = `${'PID'.padStart(6)} ${'COMM'.padEnd(16)} S ${'CPU'.padStart(3)} ${'CLS'.padStart(3)} ${'PRIO'.padStart(4)} WCHAN\n`;
  return head + ts.map((t) =>
    `${String(t.pid).padStart(6)} ${t.comm.padEnd(16)} ${t.state} ${String(t.cpu).padStart(3)} ${t.cls.padStart(3)} ${String(t.prio).padStart(4)} ${t.wchan}\n`,
  ).join('');
}

/** /proc/stat: per CPU busy and idle time (ms) and context switches; `cpu` sums them. */
export function format_stat(cs: CpuStat[]): string {
  const row = (name: string, busy: number, idle: number, ctxt: number) =>
    `${name.padEnd(6)} ${busy.toFixed(3).padStart(12)} ${idle.toFixed(3).padStart(12)} ${String(ctxt).padStart(10)}\n`;
  const sum = cs.reduce((a, c) => ({ busy: a.busy + c.busyMs, idle: a.idle + c.idleMs, ctxt: a.ctxt + c.switches }), { busy: 0, idle: 0, ctxt: 0 });
  return `${'#'.padEnd(6)} ${'busy_ms'.padStart(12)} ${'idle_ms'.padStart(12)} ${'ctxt'.padStart(10)}\n` +
    row('cpu', sum.busy, sum.idle, sum.ctxt) + cs.map((c) => row(`cpu${c.cpu}`, c.busyMs, c.idleMs, c.switches)).join('') +
    `ctxt ${sum.ctxt}\n`;
}

export function format_modules(ms: { name: string; path: string; id: number }[]): string {
  return ms.map((m) => `${m.name} ${m.id} Live ${m.path}\n`).join('');
}

export interface LockStat {
  name: string;
  acquisitions: number;
  contentions: number;
  waitTotalMs: number;
  waitMaxMs: number;
  /** With lockStat: total and longest hold (ms). */
  holdTotalMs: number;
  holdMaxMs: number;
}

/** /proc/lock_stat: per lock class, after Linux's (times in µs with two decimals, as Linux's; hold times with lockStat). */
export function format_lock_stat(ls: LockStat[]): string {
  const cols = ['contentions', 'waittime-max', 'waittime-total', 'waittime-avg', 'acquisitions', 'holdtime-max', 'holdtime-total', 'holdtime-avg'];
  const head = `lock_stat version 0.4 (kmodel)\n${'class name'.padEnd(32)} ${cols.map((c) => c.padStart(14)).join(' ')}\n`;
  const f = (ms: number) => (ms * 1000).toFixed(2).padStart(14);
  return head + ls.map((l) =>
    `${l.name.padEnd(32)} ${String(l.contentions).padStart(14)} ${f(l.waitMaxMs)} ${f(l.waitTotalMs)} ${f(l.contentions ? l.waitTotalMs / l.contentions : 0)} ` +
    `${String(l.acquisitions).padStart(14)} ${f(l.holdMaxMs)} ${f(l.holdTotalMs)} ${f(l.acquisitions ? l.holdTotalMs / l.acquisitions : 0)}\n`,
  ).join('');
}
