/**
 * The built-in thread entries: kthreadd's loop, and the trampoline that runs a module's
 * init/exit as a kernel thread.
 */
import { HEADER } from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import { prepare_to_wait_chan, finish_wait_chan } from '../sched/sleep.ts';
import { TASK_INTERRUPTIBLE } from '../sched/state.ts';
import { kthreadd_chan, kthreadd_serve } from './kthreadd.ts';
import { get_module, register_builtin } from '../module/registry.ts';
import { missing_await_at_return, returned_unawaited } from '../sched/context.ts';

export async function kthreadd(): Promise<number> {
  const cpu = this_cpu;
  const w = cpu.mem.i32;
  for (;;) {
    const seq = Atomics.load(w, HEADER.REQ_PENDING);
    kthreadd_serve(cpu.mem);
    prepare_to_wait_chan(kthreadd_chan(), TASK_INTERRUPTIBLE, 'kthreadd');
    if (Atomics.load(w, HEADER.REQ_PENDING) === seq) await cpu.schedule();
    finish_wait_chan();
  }
}

/** Runs `fn` ('init' or 'exit') of module `m`; its result is the thread's exit code. */
export async function module_call(data: { m: number; f: string }): Promise<number> {
  const mod = get_module(data.m);
  const fn = mod?.ns[data.f];
  if (typeof fn !== 'function') return 0;
  const r = await (fn as () => unknown)();
  // The awaits between init()'s return and the thread's own check clear the mark of a call that
  // did not block (Task.unawaitedReturn): looked at here, right after the function's own return.
  const t = this_cpu.current;
  if (returned_unawaited(t, fn)) missing_await_at_return(t, `${data.f}() of module ${mod!.name} (${mod!.path})`);
  return typeof r === 'number' ? r | 0 : 0;
}

export function register_kernel_entries(): void {
  register_builtin('kthreadd', kthreadd);
  register_builtin('module_call', module_call);
}
