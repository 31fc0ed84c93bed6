/**
 * include/linux/sched/signal.h: signals to kernel threads. A kthread starts with every signal
 * ignored (SIGKILL included) and takes only those it allow_signal()s; a signal sent to it is then
 * pending and ends an interruptible sleep.
 */
import {
  send_signal, signal_pending as core_signal_pending, flush_signals as core_flush_signals, kernel_sigaction,
  valid_signal, kernel_entry, task_valid, bad_handle, idle_handle_misuse, misuse, type task_struct,
} from '../../contract/index.ts';

export { SIGHUP, SIGINT, SIGKILL, SIGTERM, SIGUSR1, SIGUSR2 } from '../../contract/index.ts';

/**
 * send_sig - make @sig pending on @p and wake it from an interruptible sleep. A kthread that has
 * not allow_signal()ed @sig discards it. Returns 0 (also when discarded), -EINVAL for a bad @sig.
 * Context: any.
 */
export function send_sig(sig: number, p: task_struct, _priv: number): number {
  kernel_entry('send_sig');
  if (!task_valid(p)) return bad_handle('send_sig', p);
  return send_signal(p, sig);
}
/**
 * allow_signal - the current kthread accepts @sig from now on: sent, it is pending and ends an
 * interruptible sleep. Kthreads start with every signal ignored, SIGKILL included.
 */
export function allow_signal(sig: number): void {
  const t = kernel_entry('allow_signal');
  if (sigaction_checked('allow_signal', t.slot, sig)) kernel_sigaction(t.handle, sig, false);
}
/** disallow_signal - the current kthread ignores @sig again; a pending @sig is flushed. */
export function disallow_signal(sig: number): void {
  const t = kernel_entry('disallow_signal');
  if (sigaction_checked('disallow_signal', t.slot, sig)) kernel_sigaction(t.handle, sig, true);
}
function sigaction_checked(call: string, slot: number, sig: number): boolean {
  if (slot < 0) return false;
  if (valid_signal(sig)) return true;
  misuse(call, `${String(sig)} is not a signal number (1..31)`, { sig: String(sig) });
  return false;
}
/** signal_pending - has @p a signal pending? Context: any. */
export function signal_pending(p: task_struct): boolean {
  if (idle_handle_misuse('signal_pending', p)) return false;
  return core_signal_pending(p);
}
/** flush_signals - forget @p's pending signals. Context: any. */
export function flush_signals(p: task_struct): void {
  if (idle_handle_misuse('flush_signals', p)) return;
  core_flush_signals(p);
}
