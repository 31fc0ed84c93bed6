/**
 * The control surface a CPU exposes to the coordinator over comlink: module loading and /proc,
 * the protocol core defines (machine/cpu-protocol.ts). Control calls run between threads (in the
 * CPU's idle context), never inside one.
 */
import { point_details, spin_site } from '@kmodel/core/internal/sched/control.ts';
import type { PointDetail, SpinSite } from '@kmodel/core/internal/sched/control-detail.ts';
import { fileURLToPath } from 'node:url';
import { add_module, remove_module, set_loading, type LoadedModule } from '@kmodel/core/internal/module/registry.ts';
import { proc_read_local, proc_remove_module, proc_list_local } from '@kmodel/core/internal/proc/procfs.ts';
import { this_cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { chaos_log } from '@kmodel/core/internal/sched/chaos.ts';
import { module_frames } from '@kmodel/core/internal/arch/stack.ts';
import { public_paths } from '@kmodel/core/internal/module/import-paths.ts';
import { KernelBug } from '@kmodel/core/internal/arch/kernel-bug.ts';
import type { CpuProtocol, CpuTrace, LoadResult } from '@kmodel/core/internal/machine/cpu-protocol.ts';

/**
 * An error from module code, in the module author's terms: what, and the module line it came
 * from; kernel-image files named by their import path, the module's bundle by its source file.
 */
function describe(e: unknown, mod?: { url: string; path: string }): string {
  let text: string;
  if (!(e instanceof Error)) text = String(e);
  else {
    const where = module_frames(e.stack, 1)[0]?.slice(3) ?? mod?.path;
    // A KernelBug was reported where it happened; its message says what and where.
    text = e instanceof KernelBug ? `BUG: ${e.message}` : `${e.name}: ${e.message}${where ? ` (${where})` : ''}`;
  }
  if (mod) text = text.replaceAll(mod.url, mod.path).replaceAll(fileURLToPath(mod.url), mod.path);
  return public_paths(text);
}

export class CpuControl implements CpuProtocol {
  ping(): number {
    return this_cpu.id;
  }

  loadModule(id: number, name: string, path: string, url: string): Promise<LoadResult> {
    return this_cpu.runAsyncControl(async () => {
      const m: LoadedModule = { id, name, path, ns: {} };
      set_loading(m);
      try {
        // One URL per load: a module inserted again runs its top level again (fresh per-CPU state).
        m.ns = (await import(`${url}?load=${id}`)) as Record<string, unknown>;
      } catch (e) {
        return { ok: false, error: describe(e, { url, path }) };
      } finally {
        set_loading(null);
      }
      add_module(m);
      return { ok: true, exports: Object.keys(m.ns) };
    });
  }

  unloadModule(id: number): string[] {
    remove_module(id);
    return proc_remove_module(id);
  }

  readProc(name: string): string | null | { error: string } {
    try {
      return proc_read_local(name);
    } catch (e) {
      return { error: describe(e) };
    }
  }

  /** The switch trace: [ms since boot, pid, ...] and the names of the pids in it. */
  trace(): CpuTrace {
    return this_cpu.trace?.snapshot() ?? { events: [], names: [] };
  }

  controlDetail(): PointDetail[] {
    return point_details;
  }

  spinSite(): SpinSite | null {
    return spin_site();
  }

  chaosLog(): string[] {
    return chaos_log.slice();
  }

  procFiles(): string[] {
    return proc_list_local();
  }
}
