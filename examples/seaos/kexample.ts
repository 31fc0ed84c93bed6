/**
 * The SeaOS document's module example: module_install creates "[kexample]", which works until
 * its creator joins it; module_exit joins (blocking) and uses the exit code.
 */
import { tm_kthread_create, tm_kthread_join, tm_kthread_is_joining, tm_kthread_destroy, type kthread } from '@kmodel/core/seaos';
import { msleep, pr_info } from '@kmodel/core/linux';

let kt: kthread | null = null;

export async function entry(kt: kthread, _arg: null): Promise<number> {
  let rounds = 0;
  while (!tm_kthread_is_joining(kt)) {
    /* blah blah */
    await msleep(100);
    rounds++;
  }
  pr_info('[kexample]: asked to join after %d rounds of work', rounds);
  return 0;
}

export async function module_install(): Promise<number> {
  kt = await tm_kthread_create(null, '[kexample]', 0, entry, null);
  return kt ? 0 : -12;
}

export async function module_exit(): Promise<number> {
  const code = await tm_kthread_join(kt!, 0);
  /* do something with exit code */
  pr_info('[kexample] exited with code %d (flags %#x)', code, kt!.flags);
  tm_kthread_destroy(kt!);
  return 0;
}
