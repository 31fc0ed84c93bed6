/**
 * include/linux/sched.h: the running thread, waking and scheduling, task states, priorities.
 * The kernel is non-preemptive: a thread runs until it blocks or calls schedule(); a better
 * thread woken meanwhile runs at the current thread's next scheduling point.
 */
import {
  schedule_core, schedule_timeout_core, set_current_state as core_set_state, set_thread_prio, rt_to_prio, nice_to_prio,
  prio_to_nice, wake_up_process_core, kernel_entry, task_valid, bad_handle, smp_processor_id, thread_on_cpu,
  TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, type task_struct,
} from '../../contract/index.ts';

export {
  TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_NORMAL, TASK_KILLABLE, TASK_IDLE, TASK_PARKED,
  TASK_DEAD, TASK_NEW, TASK_WAKEKILL, TASK_NOLOAD, __TASK_STOPPED, MAX_SCHEDULE_TIMEOUT, task_struct, current,
  smp_processor_id, num_online_cpus,
} from '../../contract/index.ts';

/**
 * wake_up_process - wake a sleeping (or never-run) thread. Returns 1 if it was woken, 0 if it
 * was running. Context: any.
 */
export function wake_up_process(k: task_struct): number {
  if (!task_valid(k)) return bad_handle('wake_up_process', k), 0;
  return wake_up_process_core(k);
}

/** schedule - give up the CPU; returns when the current thread runs again. Context: may sleep. */
export function schedule(): Promise<void> {
  return schedule_core('schedule');
}

/** cond_resched - let other runnable threads on this CPU run. Context: may sleep. */
export function cond_resched(): Promise<void> {
  return schedule_core('cond_resched');
}

/** yield - cond_resched() (`yield` is a reserved word). */
export { cond_resched as yield_ };

/**
 * schedule_timeout - sleep until woken or @timeout jiffies pass, in the state set before
 * (set_current_state). Returns the jiffies left, 0 if the timeout expired. Context: may sleep.
 */
export function schedule_timeout(timeout: number): Promise<number> {
  return schedule_timeout_core('schedule_timeout', timeout);
}
/** schedule_timeout_interruptible - schedule_timeout() in TASK_INTERRUPTIBLE. Context: may sleep. */
export function schedule_timeout_interruptible(timeout: number): Promise<number> {
  core_set_state(TASK_INTERRUPTIBLE);
  return schedule_timeout_core('schedule_timeout_interruptible', timeout);
}
/** schedule_timeout_uninterruptible - schedule_timeout() in TASK_UNINTERRUPTIBLE. Context: may sleep. */
export function schedule_timeout_uninterruptible(timeout: number): Promise<number> {
  core_set_state(TASK_UNINTERRUPTIBLE);
  return schedule_timeout_core('schedule_timeout_uninterruptible', timeout);
}

/** set_current_state - the state the next schedule() sleeps in (TASK_RUNNING: none). Context: a thread. */
export function set_current_state(state: number): void {
  kernel_entry('set_current_state');
  core_set_state(state);
}
export const __set_current_state = set_current_state;

export const raw_smp_processor_id = smp_processor_id;

/**
 * task_curr - is @p running on its CPU right now? 1 or 0. A thread that set a sleeping state is
 * still running until its schedule() switches away: a waker that needs it asleep (off its CPU, so
 * a wakeup queues it) looks for its state and !task_curr(). Context: any.
 */
export function task_curr(p: task_struct): number {
  kernel_entry('task_curr');
  if (!task_valid(p)) return bad_handle('task_curr', p), 0;
  return thread_on_cpu(p) ? 1 : 0;
}

/** sched_set_fifo - make @p realtime (SCHED_FIFO, priority 50): it runs before every normal thread. */
export function sched_set_fifo(p: task_struct): void {
  set_prio_checked('sched_set_fifo', p, rt_to_prio(50));
}
/** sched_set_fifo_low - realtime at the lowest priority (1): still before every normal thread. */
export function sched_set_fifo_low(p: task_struct): void {
  set_prio_checked('sched_set_fifo_low', p, rt_to_prio(1));
}
/** sched_set_normal - back to SCHED_NORMAL with @nice (-20..19). */
export function sched_set_normal(p: task_struct, nice: number): void {
  set_prio_checked('sched_set_normal', p, nice_to_prio(nice));
}
/** set_user_nice - nice -20 (first) .. 19 (last) among normal threads. */
export function set_user_nice(p: task_struct, nice: number): void {
  set_prio_checked('set_user_nice', p, nice_to_prio(nice));
}
function set_prio_checked(call: string, p: task_struct, prio: number): void {
  kernel_entry(call);
  if (!task_valid(p)) {
    bad_handle(call, p);
    return;
  }
  set_thread_prio(p, prio);
}
/** task_nice - the nice value of a normal thread (0 for realtime ones). */
export function task_nice(p: task_struct): number {
  return prio_to_nice(p.prio);
}
