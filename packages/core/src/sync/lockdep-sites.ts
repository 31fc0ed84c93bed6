/**
 * lockdep's call sites (memory/layout.ts: the site table and the edge-site table): where each lock
 * order was first taken, for the circular report's chain, and where a spinlock was taken, for
 * the lockup report (--lock-sites). A site is its text, interned once in the arena; an edge's site
 * is found by open addressing on its key, a * MAX_LOCK_CLASSES + b + 1.
 *
 * Invariants: sites and edge slots are only added, under LOCKDEP.LOCK; an edge slot's KEY is
 * stored last (Atomics), so a reader that finds the key reads its SITE.
 */
import { LOCKDEP, LOCK_EDGE, LOCK_EDGE_SLOTS, LOCK_SITE, LOCK_SITES, MAX_LOCK_CLASSES } from '../memory/layout.ts';
import { type Memory } from '../memory/memory.ts';
import { arena_alloc } from '../memory/arena.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The edge-site table's slot for `key` (a * MAX_LOCK_CLASSES + b + 1): where it is, or the empty one it would take. */
function edge_slot(mem: Memory, key: number): number {
  const base = mem.layout.edgeSites >> 2;
  let i = Math.imul(key, 0x9e3779b1) >>> 17; // 15 bits: LOCK_EDGE_SLOTS
  for (;;) {
    const s = base + (i & (LOCK_EDGE_SLOTS - 1)) * LOCK_EDGE.WORDS;
    const k = mem.i32[s + LOCK_EDGE.KEY];
    if (k === key || k === 0) return s;
    i++; // never full: at most MAX_LOCK_EDGES (half the slots) are taken
  }
}

/** Under the lockdep lock: record the site of a new edge. */
export function edge_slot_set(mem: Memory, key: number, site: number): void {
  const s = edge_slot(mem, key);
  mem.i32[s + LOCK_EDGE.SITE] = site;
  Atomics.store(mem.i32, s + LOCK_EDGE.KEY, key);
}

const siteCache = new Map<string, number>();

/** The id of a call site's text in the site table (interned: one entry per distinct text). */
export function intern_site(mem: Memory, text: string): number {
  let id = siteCache.get(text);
  if (id === undefined) {
    const w = mem.i32;
    const ld = mem.layout.lockdepBase >> 2;
    raw_spin_lock(w, ld + LOCKDEP.LOCK);
    id = add_site(mem, text);
    raw_spin_unlock(w, ld + LOCKDEP.LOCK);
    if (id >= 0) siteCache.set(text, id);
  }
  return id;
}

/** The text of site `id`. */
export function site_text(mem: Memory, id: number): string {
  if (id < 0) return '?';
  const s = (mem.layout.sites >> 2) + id * LOCK_SITE.WORDS;
  const at = mem.i32[s + LOCK_SITE.TEXT];
  return decoder.decode(mem.u8.slice(at, at + mem.i32[s + LOCK_SITE.LEN]));
}

/** Under the lockdep lock: a new site of text `text` (-1 when the table or the arena is full). */
export function add_site(mem: Memory, text: string): number {
  const w = mem.i32;
  const ld = mem.layout.lockdepBase >> 2;
  if (w[ld + LOCKDEP.NSITES] >= LOCK_SITES) return -1;
  const bytes = encoder.encode(text || '?');
  let at: number;
  try {
    at = arena_alloc(mem, bytes.length, 1);
  } catch {
    return -1;
  }
  mem.u8.set(bytes, at);
  const id = w[ld + LOCKDEP.NSITES]++;
  const s = (mem.layout.sites >> 2) + id * LOCK_SITE.WORDS;
  w[s + LOCK_SITE.TEXT] = at;
  w[s + LOCK_SITE.LEN] = bytes.length;
  return id;
}

/** The call trace (its lines) of the acquisition that first made the edge a -> b; none if not recorded. */
export function edge_site(mem: Memory, a: number, b: number): string[] {
  const s = edge_slot(mem, a * MAX_LOCK_CLASSES + b + 1);
  const id = mem.i32[s + LOCK_EDGE.KEY] === 0 ? -1 : mem.i32[s + LOCK_EDGE.SITE] - 1;
  return id < 0 ? [] : site_text(mem, id).split('\n');
}
