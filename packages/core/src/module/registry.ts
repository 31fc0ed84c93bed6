/**
 * Kernel text on one CPU: the modules this CPU has loaded and the built-in entry points.
 * Every CPU loads every module, so a thread entry is named portably by (module id, export name);
 * this registry turns a function back into that name and the name into this CPU's function.
 */
export interface LoadedModule {
  id: number;
  name: string;
  path: string;
  ns: Record<string, unknown>;
}

/** Module id 0 is the kernel itself (kthreadd, the insmod/rmmod trampolines). */
const KERNEL_MODULE = 0;

const modules = new Map<number, LoadedModule>();
const entries = new Map<Function, { module: number; name: string }>();
const builtins = new Map<string, Function>();

/** The module whose top level is executing right now (declarations bind to it). */
export let loading: LoadedModule | null = null;

export function set_loading(m: LoadedModule | null): void {
  loading = m;
}

/** Built-in entries are named '@name' so they never collide with a module's exports. */
export function register_builtin(name: string, fn: Function): void {
  builtins.set(`@${name}`, fn);
  entries.set(fn, { module: KERNEL_MODULE, name: `@${name}` });
}

export function add_module(m: LoadedModule): void {
  modules.set(m.id, m);
  for (const [name, v] of Object.entries(m.ns)) {
    if (typeof v === 'function' && !entries.has(v)) entries.set(v, { module: m.id, name });
  }
}

/** Forget a removed module: its exports are no thread entries any more. */
export function remove_module(id: number): void {
  modules.delete(id);
  for (const [fn, e] of entries) if (e.module === id) entries.delete(fn);
}

export function get_module(id: number): LoadedModule | undefined {
  return modules.get(id);
}

/** (module, export name) of a thread entry function, if it is one. */
export function entry_of(fn: unknown): { module: number; name: string } | undefined {
  return typeof fn === 'function' ? entries.get(fn) : undefined;
}

export function resolve_entry(module: number, name: string): Function | undefined {
  if (name.startsWith('@')) return builtins.get(name);
  const v = modules.get(module)?.ns[name];
  return typeof v === 'function' ? v : undefined;
}
