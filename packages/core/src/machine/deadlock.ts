/**
 * The deadlock report of controlled scheduling: when no thread can run and no timer is pending,
 * every blocked thread, what it waits on and who holds that, read from machine memory alone (the
 * coordinator's; every CPU stopped, so the memory is one instant).
 *
 * What a sleeper waits on is its WCHAN (0: none, it sleeps in schedule() until someone wakes it):
 *  - a shared object's own address (the arena's symbol table says which, and its header the kind):
 *    a mutex (holder: its OWNER word), a sleeping rwlock (Tru64 complex lock: the writer's pid;
 *    readers are counted, not recorded), a completion, a wait queue;
 *  - a thread record's EXITED word (kthread_stop and every exit wait) or PARKED word (kthread_park):
 *    the thread that has to exit or park;
 *  - a kthreadd request slot: kthreadd's answer to a creation;
 *  - any other address: an event (Tru64 assert_wait queues exclusive) or a word slept on
 *    (sleep_until), named by WMESG and by the shared array it lies in.
 * The waits-for relation (a sleeper -> the thread whose action it waits for) has at most one edge
 * out of each thread, so each cycle is found by walking from every thread once.
 */
import {
  HEADER, LOCKDEP, LOCK_CLASS_NAME, NIL, REQUEST_BYTES, REQUEST_SLOTS, SYMBOL, SYMBOL_SLOTS, THREAD,
  TF_DAEMON, TF_KILL, TF_NOLOAD, TF_STARTED,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { OBJ } from '../memory/arena.ts';
import { TASK_PARKED, TASK_RUNNING, task_state_letter } from '../sched/state.ts';
import { KIND } from '../shared/declare.ts';
import { mutex_owner_at } from '../sync/mutex.ts';
import { rwlock_state_at } from '../sync/rwlock.ts';
import { completion_done_at } from '../sync/completion.ts';
import { semaphore_state_at } from '../sync/semaphore.ts';

export type WaitKind = 'mutex' | 'rwlock' | 'completion' | 'semaphore' | 'wait_channel' | 'thread' | 'event' | 'sleep';

export interface BlockedThread {
  pid: number;
  comm: string;
  /** ps letter: S interruptible, D uninterruptible, P parked, ... */
  state: string;
  module: string;
  waits: WaitKind;
  /** The name of what it waits on (a lock's or channel's name, a thread's comm/pid); '' for a bare sleep. */
  on: string;
  /** The wait channel (machine address), 0 for none. */
  addr: number;
  /** The thread whose action it waits for (a lock's holder, the thread to exit), null if none is known. */
  holder_pid: number | null;
}

export interface DeadlockReport {
  lines: string[];
  fields: Record<string, unknown>;
  cycle: boolean;
}

/** A shared object in the arena: where, how large, what kind, its declared key (namespace:name). */
interface SharedSym {
  addr: number;
  size: number;
  kind: number;
  key: string;
}

const decoder = new TextDecoder();

/** Every shared object, by address. */
function symbols(mem: Memory): SharedSym[] {
  const w = mem.i32;
  const out: SharedSym[] = [];
  for (let i = 0; i < SYMBOL_SLOTS; i++) {
    const s = mem.layout.symbolWord(i);
    if (w[s + SYMBOL.HASH] === 0) continue;
    const addr = w[s + SYMBOL.ADDR];
    const at = w[s + SYMBOL.NAME];
    out.push({
      addr, size: w[(addr >> 2) + OBJ.SIZE], kind: w[(addr >> 2) + OBJ.KIND],
      key: decoder.decode(mem.u8.slice(at, at + w[s + SYMBOL.NAME_LEN])),
    });
  }
  return out.sort((a, b) => a.addr - b.addr);
}

/** The object `a` lies in, or null. */
function symbol_at(syms: SharedSym[], a: number): SharedSym | null {
  let lo = 0;
  let hi = syms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid].addr <= a) lo = mid + 1;
    else hi = mid - 1;
  }
  const s = hi >= 0 ? syms[hi] : null;
  return s && a < s.addr + Math.max(s.size, 1) ? s : null;
}

/** A declared key without its namespace: a module load's (`name#id:`) or the kernel's own (`kernel:`). */
function short_name(key: string): string {
  return key.replace(/^[^:]*#\d+:/, '').replace(/^kernel:/, '');
}

const ELEMENT_BYTES: Record<number, number> = {
  [KIND.int32Array]: 4, [KIND.uint32Array]: 4, [KIND.float64Array]: 8, [KIND.bigInt64Array]: 8, [KIND.uint8Array]: 1,
};

/** Where `a` is, in the words of a declaration: `flags[3]`, `sc+8`, or the object's name. */
function place(sym: SharedSym, a: number): string {
  const name = short_name(sym.key);
  const off = a - sym.addr;
  const bpe = ELEMENT_BYTES[sym.kind];
  if (bpe !== undefined) return `${name}[${Math.floor(off / bpe)}]`;
  return off === 0 ? name : `${name}+${off}`;
}

/** A lock's name: its lockdep class's if it has one, else its declared name. */
function lock_name(mem: Memory, sym: SharedSym): string {
  const cls = mem.i32[(sym.addr >> 2) + OBJ.CLASS] - 1;
  if (cls >= 0 && cls < mem.i32[(mem.layout.lockdepBase >> 2) + LOCKDEP.NCLASSES]) {
    const n = mem.readString(mem.layout.classNames + cls * LOCK_CLASS_NAME, LOCK_CLASS_NAME);
    if (n) return n;
  }
  return short_name(sym.key);
}

function hex(a: number): string {
  return `0x${a.toString(16)}`;
}

/** The slot of the live thread `pid`, NIL if none. */
function slot_of(mem: Memory, pid: number): number {
  for (let s = 0; s < mem.layout.geometry.maxThreads; s++) if (mem.i32[mem.threadWord(s) + THREAD.PID] === pid) return s;
  return NIL;
}

/** `comm/pid` of the thread `pid` (at `slot` if known), with what became of it if it is gone. */
function who(mem: Memory, pid: number, slot = NIL): string {
  const s = slot >= 0 && slot < mem.layout.geometry.maxThreads && mem.i32[mem.threadWord(slot) + THREAD.PID] === pid
    ? slot : slot_of(mem, pid);
  if (s === NIL) return `pid ${pid} (exited and reaped)`;
  const t = mem.threadWord(s);
  const end = mem.i32[t + THREAD.FLAGS] & TF_KILL ? ' (killed)' : mem.i32[t + THREAD.EXITED] ? ' (exited)' : '';
  return `${mem.comm(s)}/${pid}${end}`;
}

/** What one sleeper waits on, in words and as fields. */
interface Wait {
  waits: WaitKind;
  on: string;
  holder: number | null;
  text: string;
}

function thread_word_wait(mem: Memory, chan: number, wmesg: string): Wait | null {
  const base = mem.layout.threadBase;
  const bytes = THREAD.WORDS * 4;
  if (chan < base || chan >= base + mem.layout.geometry.maxThreads * bytes) return null;
  const slot = Math.floor((chan - base) / bytes);
  const field = ((chan - base) % bytes) >> 2;
  if (field !== THREAD.EXITED && field !== THREAD.PARKED) return null;
  const what = field === THREAD.EXITED ? 'exit' : 'park';
  const t = mem.threadWord(slot);
  const pid = mem.i32[t + THREAD.PID];
  const why = wmesg ? ` (${wmesg})` : '';
  if (pid === 0) {
    return { waits: 'thread', on: `slot ${slot}`, holder: null, text: `waits for the thread of slot ${slot} to ${what}${why}; the slot is free` };
  }
  const name = `${mem.comm(slot)}/${pid}`;
  const done = field === THREAD.EXITED ? mem.i32[t + THREAD.EXITED] !== 0 : mem.i32[t + THREAD.PARKED] !== 0;
  return {
    waits: 'thread', on: name, holder: pid,
    text: `waits for thread ${name} to ${what}${why}${done ? `, but it has already ${what === 'exit' ? 'exited' : 'parked'}` : ''}`,
  };
}

function object_wait(mem: Memory, sym: SharedSym, chan: number): Wait | null {
  if (chan !== sym.addr) return null;
  const at = hex(chan);
  switch (sym.kind) {
    case KIND.mutex: {
      const name = lock_name(mem, sym);
      const o = mutex_owner_at(mem, chan);
      const held = o.pid ? `held by ${who(mem, o.pid, o.slot)}` : 'which nobody holds';
      return { waits: 'mutex', on: name, holder: o.pid || null, text: `waits for mutex ${name} (${at}), ${held}` };
    }
    case KIND.rwlock: {
      const name = lock_name(mem, sym);
      const l = rwlock_state_at(mem, chan);
      const held = l.writer
        ? `held for writing by ${who(mem, l.writer)}`
        : l.readers > 0
          ? `held for reading by ${l.readers} thread${l.readers > 1 ? 's' : ''} (readers are not recorded)`
          : 'which nobody holds';
      const queued = l.want_write > 0 ? `, ${l.want_write} writer${l.want_write > 1 ? 's' : ''} waiting` : '';
      return { waits: 'rwlock', on: name, holder: l.writer || null, text: `waits for rwlock ${name} (${at}), ${held}${queued}` };
    }
    case KIND.completion: {
      const name = short_name(sym.key);
      const done = completion_done_at(mem, chan) !== 0 ? ', which is already complete' : '';
      return { waits: 'completion', on: name, holder: null, text: `waits for completion ${name} (${at})${done}` };
    }
    case KIND.semaphore: { // no owner: never a link of a deadlock cycle
      const name = short_name(sym.key);
      const st = semaphore_state_at(mem, chan);
      return { waits: 'semaphore', on: name, holder: null, text: `waits for semaphore ${name} (${at}), ${st.count} free, ${st.waiters} waiting` };
    }
    case KIND.wait_queue: {
      const name = short_name(sym.key);
      return { waits: 'wait_channel', on: name, holder: null, text: `waits on wait channel "${name}" (${at})` };
    }
    default:
      return null;
  }
}

function describe_wait(mem: Memory, syms: SharedSym[], slot: number): Wait {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const chan = w[t + THREAD.WCHAN];
  const state = w[t + THREAD.STATE];
  if (chan === 0) {
    // WMESG is not cleared when a sleep ends: with no channel it names an earlier sleep.
    if (state & TASK_PARKED) return { waits: 'sleep', on: '', holder: null, text: 'is parked (kthread_parkme), until kthread_unpark' };
    if (!(w[t + THREAD.FLAGS] & TF_STARTED)) {
      return { waits: 'sleep', on: '', holder: null, text: 'was created and never woken (wake_up_process)' };
    }
    return { waits: 'sleep', on: '', holder: null, text: 'sleeps in schedule() with no timeout' };
  }
  const wmesg = mem.wmesg(slot);
  const req = mem.layout.requestBase;
  if (chan >= req && chan < req + REQUEST_SLOTS * REQUEST_BYTES) {
    const ks = w[HEADER.KTHREADD_SLOT];
    const kpid = ks >= 0 ? w[mem.threadWord(ks) + THREAD.PID] : 0;
    return { waits: 'thread', on: 'kthreadd', holder: kpid || null, text: `waits for kthreadd to answer a thread creation (${hex(chan)})` };
  }
  const rec = thread_word_wait(mem, chan, wmesg);
  if (rec) return rec;
  const sym = symbol_at(syms, chan);
  const obj = sym ? object_wait(mem, sym, chan) : null;
  if (obj) return obj;
  const name = wmesg || '?';
  const where = sym ? `${hex(chan)}, ${place(sym, chan)}` : hex(chan);
  // Tru64 assert_wait queues exclusive; a word slept on (sleep_until) does not.
  if (w[t + THREAD.SQ_EXCL]) return { waits: 'event', on: name, holder: null, text: `waits on event "${name}" (${where})` };
  return { waits: 'wait_channel', on: name, holder: null, text: `waits on wait channel "${name}" (${where})` };
}

/**
 * Threads the report leaves out: free and exited records, runnable ones, kthreadd (TF_DAEMON), and
 * an insmod/rmmod trampoline (TF_NOLOAD) not yet run: it is idle, not blocked. A trampoline that
 * has run sleeps inside the module's init or exit, and is listed.
 */
function blocked(mem: Memory, slot: number): boolean {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  if (w[t + THREAD.PID] === 0 || w[t + THREAD.EXITED] !== 0 || w[t + THREAD.STATE] === TASK_RUNNING) return false;
  const flags = w[t + THREAD.FLAGS];
  if (flags & TF_DAEMON) return false;
  return !(flags & TF_NOLOAD) || (flags & TF_STARTED) !== 0;
}

/** The cycles of the waits-for relation (pid -> the pid it waits for), each from its lowest pid. */
function cycles(next: Map<number, number>): number[][] {
  const out: number[][] = [];
  const done = new Set<number>();
  for (const start of [...next.keys()].sort((a, b) => a - b)) {
    const path: number[] = [];
    const on = new Map<number, number>();
    let p: number | undefined = start;
    while (p !== undefined && !done.has(p) && !on.has(p)) {
      on.set(p, path.length);
      path.push(p);
      p = next.get(p);
    }
    if (p !== undefined && on.has(p)) {
      const c = path.slice(on.get(p)!);
      const low = c.indexOf(Math.min(...c));
      out.push([...c.slice(low), ...c.slice(0, low)]);
    }
    for (const q of path) done.add(q);
  }
  return out;
}

/**
 * The `deadlock` report: a first line in Linux's style, one line per blocked thread (what it waits
 * on and who holds that), then a line per cycle of the waits-for relation. `modules` names module
 * ids (0 is the kernel). A pure function of `mem`.
 */
export function describe_deadlock(mem: Memory, modules: ReadonlyMap<number, string>): DeadlockReport {
  const syms = symbols(mem);
  const threads: BlockedThread[] = [];
  const texts: string[] = [];
  const names = new Map<number, string>();
  const next = new Map<number, number>();
  for (let s = 0; s < mem.layout.geometry.maxThreads; s++) {
    if (!blocked(mem, s)) continue;
    const t = mem.threadWord(s);
    const pid = mem.i32[t + THREAD.PID];
    const comm = mem.comm(s);
    const state = task_state_letter(mem.i32[t + THREAD.STATE], false);
    const module = mem.i32[t + THREAD.MODULE];
    const wait = describe_wait(mem, syms, s);
    threads.push({
      pid, comm, state, module: modules.get(module) ?? (module === 0 ? 'kernel' : `#${module}`),
      waits: wait.waits, on: wait.on, addr: mem.i32[t + THREAD.WCHAN], holder_pid: wait.holder,
    });
    texts.push(`  ${comm}/${pid} (${state}) ${wait.text}`);
    names.set(pid, `${comm}/${pid}`);
    if (wait.holder !== null) next.set(pid, wait.holder);
  }
  const order = threads.map((_, i) => i).sort((a, b) => threads[a].pid - threads[b].pid);
  const lines = ['INFO: deadlock: no thread can run and no timer is pending', ...order.map((i) => texts[i])];
  if (threads.length === 0) lines.push('  no thread is blocked: every thread has exited, or is idle');
  // Only edges between listed threads can close a cycle.
  for (const [p, q] of next) if (!names.has(q)) next.delete(p);
  const found = cycles(next);
  for (const c of found) lines.push(`  cycle: ${[...c, c[0]].map((p) => names.get(p)).join(' -> ')}`);
  return {
    lines,
    fields: { threads: order.map((i) => threads[i]), cycle: found[0] ?? null, ...(found.length > 1 ? { cycles: found } : {}) },
    cycle: found.length > 0,
  };
}

/**
 * What thread `slot` sleeps waiting for, as the deadlock report says it ("waits for mutex M (0x...),
 * held by owner/4"), and the pid of the thread it waits on (a lock's holder), or null: for the
 * hung-task report, Linux's debug_show_all_locks() in kmodel's terms.
 */
export function blocked_on(mem: Memory, slot: number): { text: string; holder_pid: number | null } {
  const wait = describe_wait(mem, symbols(mem), slot);
  return { text: wait.text, holder_pid: wait.holder };
}

/**
 * Does a live thread sleep waiting for a lock (a mutex, a counting semaphore, or a sleeping
 * rwlock: Tru64's complex lock)? Tells a deadlock from a machine whose threads merely sleep until rmmod stops them.
 * (kmodel has no rw semaphore; a user's own lock under lockdep_map sleeps on a channel of its own
 * choosing, which does not say it is a lock.)
 */
export function blocked_on_lock(mem: Memory): boolean {
  let syms: SharedSym[] | null = null;
  for (let s = 0; s < mem.layout.geometry.maxThreads; s++) {
    if (!blocked(mem, s)) continue;
    const chan = mem.i32[mem.threadWord(s) + THREAD.WCHAN];
    if (chan === 0) continue;
    syms ??= symbols(mem);
    const sym = symbol_at(syms, chan);
    if (sym && sym.addr === chan && (sym.kind === KIND.mutex || sym.kind === KIND.rwlock || sym.kind === KIND.semaphore)) return true;
  }
  return false;
}
