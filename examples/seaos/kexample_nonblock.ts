/**
 * The SeaOS document's second module_exit: when the thread needs time to clean up, ask it to
 * join without blocking (KT_JOIN_NONBLOCK), do other work, then wait for it.
 */
import {
  tm_kthread_create, tm_kthread_join, tm_kthread_wait, tm_kthread_is_joining, tm_kthread_destroy,
  KT_JOIN_NONBLOCK, type kthread,
} from '@kmodel/core/seaos';
import { msleep, pr_info } from '@kmodel/core/linux';

let kt: kthread | null = null;

export async function entry(kt: kthread, _arg: null): Promise<number> {
  while (!tm_kthread_is_joining(kt)) await msleep(50);
  pr_info('[kexample]: cleaning up');
  await msleep(200); // the clean-up that takes time
  return 7;
}

export async function module_install(): Promise<number> {
  kt = await tm_kthread_create(null, '[kexample]', 0, entry, null);
  return kt ? 0 : -12;
}

export async function module_exit(): Promise<number> {
  const early = await tm_kthread_join(kt!, KT_JOIN_NONBLOCK);
  pr_info('join (nonblocking) returned %d', early);
  /* . . . */
  const code = await tm_kthread_wait(kt!, 0);
  pr_info('wait returned %d', code);
  tm_kthread_destroy(kt!);
  return 0;
}
