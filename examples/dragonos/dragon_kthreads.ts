/**
 * DragonOS kernel threads: kthread_create leaves the thread stopped until process_wakeup();
 * the thread polls kthread_should_stop(); kthread_stop returns its exit code. A second thread,
 * started with kthread_run_rt, ends itself with kthread_exit() from inside a helper.
 */
import {
  kthread_create, kthread_run_rt, process_wakeup, kthread_stop, kthread_should_stop, kthread_exit,
  IS_ERR, PTR_ERR, type process_control_block,
} from '@kmodel/core/dragonos';
import { msleep, pr_info, current } from '@kmodel/core/linux';

let worker: process_control_block;
let rt: process_control_block;

export async function poller(data: { period: number }): Promise<number> {
  let polls = 0;
  while (!kthread_should_stop()) {
    await msleep(data.period);
    polls++;
  }
  pr_info('%s: stopping after %d polls', current.comm, polls);
  return polls;
}

function finish(result: number): never {
  kthread_exit(result); // does not return: kthread_stop receives `result`
}

export async function rt_worker(n: number): Promise<number> {
  pr_info('%s: realtime (prio %d), counting to %d', current.comm, current.prio, n);
  for (let i = 1; ; i++) if (i === n) finish(i * 10);
}

export async function init(): Promise<number> {
  const p = await kthread_create(poller, { period: 50 }, 'dragon_poll%d', 0);
  if (IS_ERR(p)) return PTR_ERR(p);
  worker = p;
  pr_info('created %s/%d, stopped until process_wakeup()', worker.comm, worker.pid);
  process_wakeup(worker);
  const r = await kthread_run_rt(rt_worker, 5, 'dragon_rt');
  if (IS_ERR(r)) return PTR_ERR(r);
  rt = r;
  return 0;
}

export async function exit(): Promise<void> {
  pr_info('kthread_stop(%s) = %d', 'dragon_rt', await kthread_stop(rt));
  pr_info('kthread_stop(%s) = %d', 'dragon_poll0', await kthread_stop(worker));
}
