/**
 * The if_fta driver fragments of the Tru64 UNIX guide, chapter 9, as one runnable module.
 *
 *  - ftaprobe starts the "interrupt" thread with kernel_isrthread(first_task, fta_rec_intr,
 *    BASEPRI_SYSTEM); each simulated interrupt runs ftaintr: fta_transition_state(PI_OPERATIONAL)
 *    (which starts the error-recovery thread once, with kernel_thread_w_arg), then
 *    thread_wakeup_one (code fragment 1) or thread_wakeup (code fragment 2) on
 *    &sc->error_recovery_flag.
 *  - fta_error_recovery blocks with assert_wait_mesg + thread_block and terminates itself when it
 *    wakes with THREAD_SHOULD_TERMINATE (thread_terminate + thread_halt_self).
 *  - fta_error_recovery_mp is the mpsleep loop under the simple lock lk_fta_kern_str.
 *  - fta_cmd_req queues a DMA request under the complex lock cmd_buf_q_lock and waits for it with
 *    thread_set_timeout(hz * 2).
 *  - On unload, fta_transition_state(PI_SHUTDOWN) terminates the error-recovery threads with
 *    thread_terminate (the other-thread fragment).
 *
 * C's `struct fta_kern_str *sc` is a shared int32 array (one word per field); `&sc->field` is
 * addressof(sc, FIELD). Thread handles that C keeps in globals live in shared.task variables.
 */
import {
  kernel_thread_w_arg, kernel_isrthread, first_task, current_thread, assert_wait_mesg, thread_block,
  thread_wakeup, thread_wakeup_one, thread_set_timeout, thread_terminate, thread_halt_self, mpsleep,
  decl_simple_lock_data, simple_lock_init, simple_lock, simple_unlock, decl_lock_data, lock_init,
  lock_write, lock_done, addressof, hz, printf, THREAD_SHOULD_TERMINATE, THREAD_TIMED_OUT,
  KERN_SUCCESS, BASEPRI_SYSTEM, PCATCH, MS_LOCK_SIMPLE, MS_LOCK_ON_ERROR, TRUE, FALSE,
} from '@kmodel/core/tru64';
import { shared } from '@kmodel/core';

const ADAP = 'fta';
/* struct fta_kern_str, one word per field */
const REINIT_THREAD_STARTED = 0; // reinit thread running?
const ERROR_RECOVERY_FLAG = 1; // flag to wake up a process
const IS_STATE = 2;
const IF_UNIT = 3; // struct ifnet's if_unit
const RESETS = 4; // adapter resets done (by either recovery thread)
const CMD_DONE = 5; // DMA requests the adapter completed
const THREADS = 6; // our threads still alive
const INTERRUPTS = 7;

const PI_OPERATIONAL = 1;
const PI_SHUTDOWN = 2;
const RUN_NOT = 0;

const sc = shared.int32Array('fta_kern_str', 8);
const cmdbuf = shared.int32Array('cmd_buf', 2); // one DMA request: [0] = command, [1] = done
const lk_fta_kern_str = decl_simple_lock_data('lk_fta_kern_str');
const cmd_buf_q_lock = decl_lock_data('cmd_buf_q_lock');
const err_recov_thread = shared.task('err_recov_thread');
const err_recov_mp_thread = shared.task('err_recov_mp_thread');

/** fta_transition_state: performs the fixed functions of each state. */
async function fta_transition_state(s: Int32Array, unit: number, state: number): Promise<void> {
  switch (state) {
    case PI_OPERATIONAL: {
      if (s[REINIT_THREAD_STARTED] === FALSE) {
        s[REINIT_THREAD_STARTED] = TRUE; // first: another interrupt may come while we create
        const thread = await kernel_thread_w_arg(first_task, fta_error_recovery, s);
        if (thread === null) printf('%s%d: Cannot start error recovery thread.\n', ADAP, unit);
        err_recov_thread.set(thread);
        const mp = await kernel_thread_w_arg(first_task, fta_error_recovery_mp, s);
        if (mp === null) printf('%s%d: Cannot start error recovery thread.\n', ADAP, unit);
        err_recov_mp_thread.set(mp);
      }
      break;
    }
    /* After performing all other cases, no more need for the kernel threads */
    case PI_SHUTDOWN: {
      s[IS_STATE] = PI_SHUTDOWN;
      const ret_val = thread_terminate(err_recov_thread.get()!);
      const ret_mp = thread_terminate(err_recov_mp_thread.get()!);
      printf('%s%d: thread_terminate: %s, %s\n', ADAP, unit, ret_val === KERN_SUCCESS ? 'KERN_SUCCESS' : ret_val,
        ret_mp === KERN_SUCCESS ? 'KERN_SUCCESS' : ret_mp);
      break;
    }
  }
}

/** The error-recovery thread: resets the adapter each time it is woken. */
export async function fta_error_recovery(s: Int32Array): Promise<void> {
  Atomics.add(s, THREADS, 1);
  for (;;) {
    assert_wait_mesg(addressof(s, ERROR_RECOVERY_FLAG), TRUE, 'ftaerr');
    await thread_block();
    if (current_thread().wait_result === THREAD_SHOULD_TERMINATE) {
      printf('%s%d: error recovery thread terminating\n', ADAP, s[IF_UNIT]);
      Atomics.sub(s, THREADS, 1);
      thread_terminate(current_thread()); // C: thread_terminate(err_recov_thread)
      thread_halt_self();
    }
    /* Performs tasks to reset the adapter */
    Atomics.add(s, RESETS, 1);
  }
}

/** The same thread with the SMP sleep: mpsleep releases lk_fta_kern_str while it sleeps. */
export async function fta_error_recovery_mp(s: Int32Array): Promise<void> {
  Atomics.add(s, THREADS, 1);
  simple_lock(lk_fta_kern_str);
  while (s[IS_STATE] === RUN_NOT) {
    for (;;) {
      const err = await mpsleep(addressof(s, ERROR_RECOVERY_FLAG), PCATCH, 'ftaerr', 0, lk_fta_kern_str,
        MS_LOCK_SIMPLE | MS_LOCK_ON_ERROR);
      if (err && current_thread().wait_result === THREAD_SHOULD_TERMINATE) {
        simple_unlock(lk_fta_kern_str); // MS_LOCK_ON_ERROR gave it back to us
        printf('%s%d: mpsleep error recovery thread terminating\n', ADAP, s[IF_UNIT]);
        Atomics.sub(s, THREADS, 1);
        thread_terminate(current_thread());
        thread_halt_self();
      }
      /* Performs tasks to reset the adapter (we hold lk_fta_kern_str again) */
      Atomics.add(s, RESETS, 1);
    }
  }
  simple_unlock(lk_fta_kern_str);
}

/** ftaintr: the interrupt service: a state change, then wake the error recovery. */
async function ftaintr(unit: number): Promise<void> {
  await fta_transition_state(sc, unit, PI_OPERATIONAL);
  const n = Atomics.add(sc, INTERRUPTS, 1);
  if (n % 2 === 0) thread_wakeup_one(addressof(sc, ERROR_RECOVERY_FLAG)); // code fragment 1
  else thread_wakeup(addressof(sc, ERROR_RECOVERY_FLAG)); // code fragment 2
}

/** The fixed-priority interrupt thread: an "interrupt" every tenth of a second. */
export async function fta_rec_intr(): Promise<void> {
  Atomics.add(sc, THREADS, 1);
  while (sc[IS_STATE] !== PI_SHUTDOWN) {
    assert_wait_mesg(addressof(sc, INTERRUPTS), FALSE, 'ftaintr');
    thread_set_timeout(hz / 10);
    await thread_block();
    if (sc[IS_STATE] !== PI_SHUTDOWN) await ftaintr(sc[IF_UNIT]);
  }
  Atomics.sub(sc, THREADS, 1);
}

/** fta_cmd_req: put a DMA request on the adapter's queue and wait up to two seconds for it. */
async function fta_cmd_req(buf: Int32Array, s: Int32Array, command: number): Promise<number> {
  await lock_write(cmd_buf_q_lock);
  buf[0] = command;
  buf[1] = 0;
  assert_wait_mesg(addressof(buf), TRUE, 'dmareq');
  lock_done(cmd_buf_q_lock);
  thread_set_timeout(hz * 2);
  await thread_block();
  const timed_out = current_thread().wait_result === THREAD_TIMED_OUT;
  if (timed_out) {
    await lock_write(cmd_buf_q_lock); // withdraw the request the adapter never took
    buf[0] = 0;
    lock_done(cmd_buf_q_lock);
  }
  printf('%s%d: DMA command %d %s\n', ADAP, s[IF_UNIT], command, timed_out ? 'timed out' : 'completed');
  return timed_out ? -1 : 0;
}

/** The "adapter": polls the request queue and completes the first DMA request it finds. */
export async function fta_adapter(s: Int32Array): Promise<void> {
  Atomics.add(s, THREADS, 1);
  for (;;) {
    await lock_write(cmd_buf_q_lock);
    if (cmdbuf[0] !== 0 && cmdbuf[1] === 0) {
      cmdbuf[1] = 1;
      Atomics.add(s, CMD_DONE, 1);
      thread_wakeup(addressof(cmdbuf));
      lock_done(cmd_buf_q_lock);
      break;
    }
    assert_wait_mesg(addressof(cmdbuf, 1), FALSE, 'ftadma');
    lock_done(cmd_buf_q_lock);
    thread_set_timeout(1); // the DMA engine looks at the queue every tick
    await thread_block();
  }
  Atomics.sub(s, THREADS, 1);
}

export async function init(): Promise<number> {
  sc[IF_UNIT] = 0;
  sc[IS_STATE] = RUN_NOT;
  simple_lock_init(lk_fta_kern_str);
  lock_init(cmd_buf_q_lock, TRUE);
  /* ftaprobe */
  const thread = await kernel_isrthread(first_task, fta_rec_intr, BASEPRI_SYSTEM);
  if (thread === null) return -12;
  // One DMA request nobody completes (it times out after hz * 2 ticks), one the adapter completes.
  await fta_cmd_req(cmdbuf, sc, 7);
  await kernel_thread_w_arg(first_task, fta_adapter, sc);
  await fta_cmd_req(cmdbuf, sc, 8);
  printf('%s%d: %d interrupts, %d adapter resets so far\n', ADAP, sc[IF_UNIT], Atomics.load(sc, INTERRUPTS), Atomics.load(sc, RESETS));
  return 0;
}

export async function exit(): Promise<void> {
  await fta_transition_state(sc, sc[IF_UNIT], PI_SHUTDOWN);
  // Tru64 has no join: wait (in ticks) until the threads have gone.
  while (Atomics.load(sc, THREADS) > 0) {
    assert_wait_mesg(addressof(sc, THREADS), FALSE, 'ftadown');
    thread_set_timeout(1);
    await thread_block();
  }
  printf('%s%d: unloaded after %d interrupts and %d adapter resets\n', ADAP, sc[IF_UNIT], Atomics.load(sc, INTERRUPTS), Atomics.load(sc, RESETS));
}
