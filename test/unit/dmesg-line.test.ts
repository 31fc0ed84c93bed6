/** dmesg_line: a record as `kmodel run`'s pretty lines show it. */
import { describe, expect, it } from 'vitest';
import { dmesg_line } from '@kmodel/core/internal/machine/logger.ts';

describe('dmesg_line', () => {
  it('a CPU\'s record: [uptime] cpuN comm/pid:, on every line of a report', () => {
    expect(dmesg_line({ uptime: 1.5, cpu: 2, pid: 7, comm: 'worker', msg: 'a\nb' })).toBe('[    1.500000] cpu2 worker/7: a\n[    1.500000] cpu2 worker/7: b');
  });
  it('a CPU-less record says who printed it: the coordinator (kmodel) or khungtaskd', () => {
    expect(dmesg_line({ uptime: 0, cpu: -1, pid: 0, comm: 'kmodel', msg: 'insmod: m loaded' })).toBe('[    0.000000] kmodel: insmod: m loaded');
    expect(dmesg_line({ uptime: 3, cpu: -1, pid: 0, comm: 'khungtaskd', msg: 'INFO: task x:4 blocked' })).toBe('[    3.000000] khungtaskd: INFO: task x:4 blocked');
  });
});
