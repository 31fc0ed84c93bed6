/**
 * Modules from the coordinator: insmod builds a module, loads it on every CPU, then runs its
 * init() as a kernel thread on its home CPU; rmmod runs its exit() there, unloads it everywhere
 * and reaps its zombies. interrupt() cuts the one in progress short.
 *
 * Invariants: a module is in the table from the moment its init() may run until rmmod is done;
 * one that fails to load or init is unloaded from every CPU (unless the machine halted) and never
 * listed; `busy` counts the insmod and rmmod calls in progress.
 */
import type { Memory } from '../memory/memory.ts';
import { HEADER, HF_KCSAN, THREAD, TF_NOLOAD } from '../memory/layout.ts';
import { EEXIST, EINTR, ENOEXEC, errname, ETIMEDOUT } from '../arch/errno.ts';
import { LOGLEVEL_ERR, LOGLEVEL_INFO, LOGLEVEL_WARNING } from '../printk/levels.ts';
import { reap } from '../kthread/kthread.ts';
import type { KernelImage } from './kernel-image.ts';
import { build_module } from './module-build.ts';
import { CONTROL_TIMEOUT_MS, type CpuWorkers } from './cpu-workers.ts';
import { InsmodError, MachineError } from './errors.ts';
import type { Halt } from './halt.ts';
import type { KernelLog } from './kernel-log.ts';
import type { ThreadControl } from './thread-control.ts';
import { read_threads } from './proc-read.ts';
import type { ThreadInfo } from './proc-files.ts';

export interface ModuleInfo {
  id: number;
  name: string;
  path: string;
  exports: string[];
  cpu: number;
}

export class Modules {
  private readonly loaded = new Map<string, ModuleInfo>();
  private nextId = 1;
  /** Set by interrupt(): the module operation in progress gives way. */
  private cut = false;
  /** insmod/rmmod calls in progress. */
  busy = 0;

  constructor(
    private readonly mem: Memory,
    private readonly image: KernelImage,
    private readonly halt: Halt,
    private readonly log: KernelLog,
    private readonly cpus: CpuWorkers,
    private readonly threads: ThreadControl,
  ) {}

  async insmod(path: string, cpu: number, initTimeoutMs: number): Promise<ModuleInfo> {
    this.halt.checkUp();
    this.cut = false;
    this.busy++;
    try {
      return await this.load(path, cpu, initTimeoutMs);
    } catch (e) {
      // One line per failure, in the log; the caller gets the same text.
      if (e instanceof InsmodError) this.log.klog(LOGLEVEL_ERR, e.message);
      throw e;
    } finally {
      this.busy--;
    }
  }

  async rmmod(name: string, exitTimeoutMs: number): Promise<void> {
    const m = this.loaded.get(name);
    if (!m) throw new MachineError(`rmmod: ${name}: module not loaded (loaded: ${[...this.loaded.keys()].join(', ') || 'none'})`);
    this.halt.checkUp();
    this.cut = false;
    this.busy++;
    try {
      if (m.exports.includes('exit') || m.exports.includes('module_exit')) {
        const code = await this.call(m, 'exit', exitTimeoutMs);
        if (code === -ETIMEDOUT) this.log.klog(LOGLEVEL_ERR, `rmmod: ${name}: exit() did not return within ${exitTimeoutMs / 1000} s`, 'bug', { bug: 'rmmod_timeout' });
        if (code === -EINTR && this.cut) this.log.klog(LOGLEVEL_WARNING, `rmmod: ${name}: interrupted: exit() was killed before it returned`);
      }
      if (this.halt.why) throw new MachineError(`rmmod: ${name}: ${this.halt.why}`);
      try {
        await this.cpus.ask(`rmmod ${name}`, (c) => c.unloadModule(m.id));
      } catch (e) {
        if (!this.halt.shuttingDown) throw e;
        this.log.klog(LOGLEVEL_WARNING, (e as Error).message);
      }
    } finally {
      this.busy--;
    }
    const hasExit = m.exports.includes('exit') || m.exports.includes('module_exit');
    const threads = this.leftBehind(m, hasExit ? `after ${this.entryName(m, 'exit')}()` : 'at rmmod (the module has no exit())', null);
    this.loaded.delete(name);
    for (const t of threads) if (t.exited) reap(t.slot, this.mem);
    this.log.klog(LOGLEVEL_INFO, `rmmod: ${name} removed`);
  }

  /** Cut the insmod or rmmod in progress short; no effect when none runs. */
  interrupt(): void {
    if (this.busy > 0) this.cut = true;
  }

  list(): ModuleInfo[] {
    return [...this.loaded.values()];
  }

  /** Module names by id, for the thread table. */
  names(): Map<number, string> {
    return new Map([...this.loaded.values()].map((m) => [m.id, m.name]));
  }

  /** The threads of module `name`, zombies included. */
  threadsOf(name: string): ThreadInfo[] {
    return read_threads(this.mem, this.names()).filter((t) => t.module === name);
  }

  private async load(path: string, cpu: number, initTimeoutMs: number): Promise<ModuleInfo> {
    // Global KCSAN under the parallel scheduler instruments the module's code (the controlled one keeps its Proxies).
    const kcsan = (this.mem.i32[HEADER.FLAGS] & HF_KCSAN) !== 0 && this.mem.layout.controlBase === 0;
    const built = await build_module(this.image, path, { kcsan });
    if (this.loaded.has(built.name)) {
      throw new InsmodError(`insmod: ${path}: module ${built.name} is already loaded (-EEXIST)`, -EEXIST, built.name);
    }
    const m: ModuleInfo = { id: this.nextId++, name: built.name, path: built.path, exports: built.exports, cpu };
    const fail = async (why: string, code: number): Promise<never> => {
      this.loaded.delete(m.name);
      if (!this.halt.why) await this.cpus.ask(`unload ${m.name}`, (c) => c.unloadModule(m.id)).catch(() => {});
      throw new InsmodError(`insmod: ${path}: ${this.halt.why ? `${why}: ${this.halt.why}` : why}`, code, m.name);
    };
    let results;
    try {
      results = await this.cpus.ask(`insmod ${m.name}`, (c) => c.loadModule(m.id, m.name, m.path, built.url), CONTROL_TIMEOUT_MS * 2);
    } catch {
      return fail('the module did not load on every CPU', -ETIMEDOUT);
    }
    const failed = results.find((r) => !r.ok);
    if (failed) return fail(`module top level failed: ${failed.error}`, -ENOEXEC);
    if (this.cut) return fail('interrupted before init() ran', -EINTR);
    this.loaded.set(m.name, m);
    const code = await this.call(m, 'init', initTimeoutMs);
    this.log.drain();
    if (code < 0) {
      const init = `${this.entryName(m, 'init')}()`;
      const why = code === -ETIMEDOUT ? `${init} did not return within ${initTimeoutMs / 1000} s (--init-timeout)`
        : code === -EINTR && (this.cut || this.halt.why) ? `interrupted: ${init} was killed before it returned`
          : `${init} failed with ${errname(code)}`;
      if (!this.cut && !this.halt.why) {
        if (code === -ETIMEDOUT) this.leftBehind(m, `when ${init} timed out`, `${init} never got to stop them`);
        else this.leftBehind(m, `after ${init} failed`, 'stop the threads it started before it returns an error');
      }
      return fail(why, code);
    }
    this.log.klog(LOGLEVEL_INFO, `insmod: ${m.name} loaded`);
    return m;
  }

  /** The export that is `m`'s init() or exit() (SeaOS names them module_install / module_exit). */
  private entryName(m: ModuleInfo, fn: 'init' | 'exit'): string {
    return m.exports.includes(fn) ? fn : fn === 'init' ? 'module_install' : 'module_exit';
  }

  /** init() or exit() of `m` as a kernel thread on its home CPU. */
  private call(m: ModuleInfo, fn: 'init' | 'exit', timeoutMs: number): Promise<number> {
    return this.threads.moduleCall(m.id, m.cpu, this.entryName(m, fn), fn === 'init' ? 'insmod' : 'rmmod', timeoutMs, () => this.cut);
  }

  /**
   * The threads of `m` (zombies included), with a warning naming those still running `when` (its
   * code is about to be unloaded: in Linux they would run freed text); `advice` ends the line.
   */
  private leftBehind(m: ModuleInfo, when: string, advice: string | null): ThreadInfo[] {
    const threads = this.threadsOf(m.name);
    // init() and exit() themselves (TF_NOLOAD module calls) are no threads the module started.
    const live = threads.filter((t) => !t.exited && (Atomics.load(this.mem.i32, this.mem.threadWord(t.slot) + THREAD.FLAGS) & TF_NOLOAD) === 0);
    if (live.length) {
      const op = advice ? 'insmod' : 'rmmod';
      this.log.klog(LOGLEVEL_WARNING, `${op}: ${m.name}: threads still running ${when}: ${live.map((t) => `${t.comm}/${t.pid}`).join(', ')}${advice ? ` (${advice})` : ''}`, 'warn', {
        threads: live.map((t) => t.pid),
      });
    }
    return threads;
  }
}
