/**
 * The coordinator's own records keep the log in uptime order: a line stamped when klog() is
 * called, whose drain then takes a CPU record stored later, is accepted with that newer uptime,
 * after it.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { log_append, type LogRecord } from '@kmodel/core/internal/printk/logbuf.ts';
import { KernelLog } from '@kmodel/core/internal/machine/kernel-log.ts';
import { DmesgBuffer } from '@kmodel/core/internal/machine/dmesg-buf.ts';

describe('KernelLog', () => {
  it('accepts a coordinator line after the newer CPU records its drain took, at their uptime', () => {
    const mem = Memory.create({ cpus: 1, maxThreads: 8, logBytes: 1 << 12, arenaBytes: 1 << 20 }, 250, 1);
    const log = new KernelLog(mem, null, new DmesgBuffer(), () => false);
    const seen: LogRecord[] = [];
    log.onLog((r) => void seen.push(r));
    // A CPU record stored "later" than the coordinator's next stamp: 1000 s of uptime.
    log_append(mem, 6, 0, 7, 'writer', 1000, 'from the CPU\n', 0, '');
    log.klog(6, 'from the coordinator');
    expect(seen.map((r) => [r.seq, r.comm, r.msg.trim(), r.uptime])).toEqual([
      [1, 'writer', 'from the CPU', 1000],
      [2, 'kmodel', 'from the coordinator', 1000],
    ]);
  });
});
