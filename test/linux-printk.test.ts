/**
 * printk levels and formats, module /proc files, error pointers and errno values of the Linux
 * personality, on a 2-CPU machine with the default HZ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scenarios } from './fixtures/linux-machine.ts';

describe('Linux printk, /proc and errno (2 CPUs)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 2 }, 'linux-printk');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('printk(KERN_ERR "x") is a record of level 3; pr_info 6, pr_debug 7; every KERN_*/pr_* level lands in the record', async () => {
    await s.run('levels');
    const mine = s.records((r) => r.comm === 'levels');
    const x = mine.filter((r) => r.msg === 'x');
    expect(x).toHaveLength(1);
    expect(x[0].level).toBe(3);
    const level = (msg: string) => mine.find((r) => r.msg === `levels: ${msg}`)?.level;
    expect(level('kern_info')).toBe(6);
    expect(level('kern_debug')).toBe(7);
    expect(level('no_prefix')).toBe(4);
    expect(level('pr_emerg')).toBe(0);
    expect(level('pr_err')).toBe(3);
    expect(level('pr_warn')).toBe(4);
    expect(level('pr_notice')).toBe(5);
    expect(level('pr_info')).toBe(6);
    expect(level('pr_debug')).toBe(7);
    expect(mine.every((r) => !r.msg.includes('\x01'))).toBe(true);
  });

  it('printk formats %d %5d %s %x %lu %c %% like C', async () => {
    await s.run('formats');
    const msgs = s.records((r) => r.comm === 'formats').map((r) => r.msg);
    expect(msgs).toContain('formats: [42] [   42] [str] [ff] [4294967295] [A] [%]');
    expect(msgs).toContain('formats: [formats] [100%] [ok]');
    expect(s.values('formats').hz_lu).toBe('250');
  });

  const formatted = (id: string): string | undefined => {
    const prefix = `fmtcase ${id}: `;
    return s.records((r) => r.comm === 'formats' && r.msg.startsWith(prefix))[0]?.msg.slice(prefix.length);
  };
  const CASES: [string, string, string][] = [
    ['left', '%-5d', '[7    ]'],
    ['zero_pad', '%05d', '[00042]'],
    ['i', '%i', '[-3]'],
    ['ld', '%ld', '[-12]'],
    ['llu', '%llu', '[12345678901]'],
    ['u', '%u', '[9]'],
    ['width_s', '%3s', '[  a]'],
    ['left_s', '%-3s', '[b  ]'],
    ['hex_pad', '%08x', '[0000beef]'],
    ['x_neg', '%x of -1', '[ffffffff]'],
    ['alt_x', '%#x', '[0xff]'],
  ];
  for (const [id, what, want] of CASES) {
    it(`printk format ${what} prints ${want}`, () => {
      expect(formatted(id)).toBe(want);
    });
  }
  // C's conversions fast-printf lacked; vsprintf is now our own.
  it('printk format %X prints uppercase hex: FF', () => {
    expect(formatted('upper_x')).toBe('[FF]');
  });
  it('printk format "%X %d" of (255, 7) keeps the arguments in place: "FF 7"', () => {
    expect(formatted('upper_x_then_d')).toBe('[FF 7]');
  });
  it('printk format %.2s prints at most 2 characters', () => {
    expect(formatted('precision_s')).toBe('[ab]');
  });
  it('printk format %+d prints the sign: +5', () => {
    expect(formatted('plus')).toBe('[+5]');
  });
  it('printk format %*d takes the width from the argument list', () => {
    expect(formatted('star_width')).toBe('[  42]');
  });
  it('printk format %u of -1 prints 4294967295', () => {
    expect(formatted('u_neg')).toBe('[4294967295]');
  });
  it('printk format %llx of 2^40 prints 10000000000', () => {
    expect(formatted('llx_64')).toBe('[10000000000]');
  });

  it('proc_create_single + seq_printf: machine.readProc shows what the show function prints at each read', async () => {
    await s.start('proc');
    await s.paused('proc', 'created');
    const v = s.values('proc');
    expect(v.entry).toBe('linux_printk_value');
    expect(v.duplicate).toBe('null');
    expect(await s.m.readProc('/proc/linux_printk_value')).toBe('value = 1\nend\n');
    await s.resume('proc');
    await s.paused('proc', 'changed');
    expect(await s.m.readProc('linux_printk_value')).toBe('value = 2\nend\n');
  });

  it('remove_proc_entry removes the file: readProc then rejects with "no such file"', async () => {
    await s.resume('proc');
    expect((await s.done('proc')).removed).toBe('true');
    await expect(s.m.readProc('/proc/linux_printk_value')).rejects.toThrow(/no such file/);
  });

  it('errno constants have Linux\'s values: EINTR 4, EINVAL 22, ENOMEM 12, ENOSYS 38, ERESTARTSYS 512', async () => {
    const v = await s.run('errno');
    expect(v.EINTR).toBe('4');
    expect(v.EINVAL).toBe('22');
    expect(v.ENOMEM).toBe('12');
    expect(v.ENOSYS).toBe('38');
    expect(v.ERESTARTSYS).toBe('512');
    expect(v.EAGAIN).toBe('11');
    expect(v.EBUSY).toBe('16');
    expect(v.ETIMEDOUT).toBe('110');
    expect(v.MAX_ERRNO).toBe('4095');
  });

  it('IS_ERR / PTR_ERR / ERR_PTR: ERR_PTR(-ENOMEM) is an error carrying -12; 0, a task and values below -MAX_ERRNO are not', () => {
    const v = s.values('errno');
    expect(v.is_err_enomem).toBe('true');
    expect(v.ptr_err_enomem).toBe('-12');
    expect(v.is_err_max).toBe('true');
    expect(v.is_err_beyond_max).toBe('false');
    expect(v.is_err_zero).toBe('false');
    expect(v.is_err_current).toBe('false');
    expect(v.is_err_or_null_null).toBe('true');
  });

  it('kthread_create_on_cpu on an offline CPU and kthread_create of a non-exported function return ERR_PTR(-EINVAL), with a report', () => {
    const v = s.values('errno');
    expect(v.offline_cpu_is_err).toBe('true');
    expect(v.offline_cpu_ptr_err).toBe('-22');
    expect(v.not_exported_is_err).toBe('true');
    expect(v.not_exported_ptr_err).toBe('-22');
    const bugs = s.m.reports('bug').filter((r) => r.comm === 'errno');
    expect(bugs.map((r) => r.fields?.call)).toEqual(['kthread_create_on_cpu', 'kthread_create']);
  });

  it('no kernel reports beyond the two provoked misuses', () => {
    expect(s.m.reports().filter((r) => r.comm !== 'errno').map((r) => r.msg)).toEqual([]);
  });

  it('rmmod stops every scenario thread and leaves no thread but kthreadd, without a report', async () => {
    const r = await s.rmmod();
    expect(r.reports).toEqual([]);
    expect(r.left).toEqual([]);
  });
});
