/**
 * /proc files created by modules (proc_create_single + seq_file). An entry lives on the CPU whose
 * thread created it: the show function is module code of that CPU. The coordinator reads a file
 * by asking the CPUs; the show function then runs in that CPU's idle context (it may take
 * spinlocks, it may not sleep).
 */
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry } from '../sched/context.ts';
import { vsprintf } from '../printk/format.ts';
import { get_module, set_loading, loading } from '../module/registry.ts';

export class seq_file {
  /** @internal */ out: string[] = [];
  /** The `data` argument given to proc_create_single. */
  constructor(readonly private_: unknown) {}
}

export type ShowFn = (m: seq_file, v?: unknown) => unknown;

export interface ProcEntry {
  name: string;
  mode: number;
  show: ShowFn;
  data: unknown;
  module: number;
}

const entries = new Map<string, ProcEntry>();

export interface proc_dir_entry {
  readonly name: string;
}

function normalize(name: string): string {
  return name.replace(/^\/?proc\//, '').replace(/^\//, '');
}

export function proc_create_single_data(
  name: string, mode: number, parent: proc_dir_entry | null, show: ShowFn, data: unknown,
): proc_dir_entry | null {
  kernel_entry('proc_create_single');
  const full = normalize(parent ? `${parent.name}/${name}` : name);
  if (entries.has(full)) return null;
  entries.set(full, { name: full, mode, show, data, module: loading?.id ?? this_cpu.current.module });
  return { name: full };
}

export function remove_proc_entry(name: string, parent: proc_dir_entry | null): void {
  kernel_entry('remove_proc_entry');
  entries.delete(normalize(parent ? `${parent.name}/${name}` : name));
}

export function seq_printf(m: seq_file, fmt: string, ...args: unknown[]): void {
  m.out.push(vsprintf(fmt, args));
}
export function seq_puts(m: seq_file, s: string): void {
  m.out.push(s);
}
export function seq_putc(m: seq_file, c: string | number): void {
  m.out.push(typeof c === 'number' ? String.fromCharCode(c) : c);
}

/** Run a file's show function here; null if this CPU has no such file. */
export function proc_read_local(name: string): string | null {
  const e = entries.get(normalize(name));
  if (!e) return null;
  const m = new seq_file(e.data);
  const prev = loading;
  set_loading(get_module(e.module) ?? null);
  try {
    e.show(m, undefined);
  } finally {
    set_loading(prev);
  }
  return m.out.join('');
}

export function proc_list_local(): string[] {
  return [...entries.keys()];
}

/** Forget the files of a module being removed. */
export function proc_remove_module(module: number): string[] {
  const gone: string[] = [];
  for (const [k, e] of entries) if (e.module === module) { entries.delete(k); gone.push(k); }
  return gone;
}
