/**
 * atomic_t: one word of machine memory, every operation an Atomics op (seq-cst, like a locked x86 op).
 *
 * Every operation first checks that it was given an atomic_t; anything else is reported in the
 * operation's name and no memory is touched. Such an operation returns what ends a caller's loop
 * rather than one that spins on it: reads and the _return/fetch forms 0, atomic_cmpxchg the
 * expected value (a cmpxchg retry loop stops), the tests (_and_test, add_unless, inc_not_zero) false.
 */
import { this_cpu } from '../sched/cpu.ts';
import { atomic_t_point } from '../debug/access-points.ts';
import { SHARED } from '../shared/marshal.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';
import { bad_sync_object } from './bad-object.ts';

export class atomic_t extends SharedStruct {
  readonly [SHARED] = 'atomic';
}

/** The atomic_t `name`, initialised to `i` by its first declaration. */
export function define_atomic(name: string, i = 0): atomic_t {
  return new atomic_t(declare(name, KIND.atomic, 8, (a) => { this_cpu.mem.i32[a >> 2] = i; }), name);
}
shared_kind('atomic', (addr, name) => new atomic_t(addr, name));

const w = (): Int32Array => this_cpu.mem.i32;

/** `v` is not an atomic_t: report it for `call`, which returns `r` (`said` in the report). */
function bad<T>(call: string, v: unknown, r: T, said: string): T {
  bad_sync_object(call, v, 'atomic_t', said);
  return r;
}
const NOTHING = 'nothing changed';

/** Under the controlled scheduler every atomic_t operation is followed by a scheduling point. */
function done<T extends number | boolean | void>(v: atomic_t, op: string, r: T, value: number, wrote: boolean): T {
  if (this_cpu.controlled) atomic_t_point(v.name, v.word, op, value, wrote);
  return r;
}

export const atomic_read = (v: atomic_t): number => {
  if (!(v instanceof atomic_t)) return bad('atomic_read', v, 0, '0 returned');
  const r = Atomics.load(w(), v.word);
  return done(v, 'atomic_read', r, r, false);
};
export const atomic_set = (v: atomic_t, i: number): void => {
  if (!(v instanceof atomic_t)) return bad('atomic_set', v, undefined, NOTHING);
  done(v, 'atomic_set', void Atomics.store(w(), v.word, i), i, true);
};
export const atomic_add = (i: number, v: atomic_t): void => {
  if (!(v instanceof atomic_t)) return bad('atomic_add', v, undefined, NOTHING);
  done(v, 'atomic_add', void Atomics.add(w(), v.word, i), i, true);
};
export const atomic_sub = (i: number, v: atomic_t): void => {
  if (!(v instanceof atomic_t)) return bad('atomic_sub', v, undefined, NOTHING);
  done(v, 'atomic_sub', void Atomics.sub(w(), v.word, i), i, true);
};
export const atomic_inc = (v: atomic_t): void => {
  if (!(v instanceof atomic_t)) return bad('atomic_inc', v, undefined, NOTHING);
  done(v, 'atomic_inc', void Atomics.add(w(), v.word, 1), 1, true);
};
export const atomic_dec = (v: atomic_t): void => {
  if (!(v instanceof atomic_t)) return bad('atomic_dec', v, undefined, NOTHING);
  done(v, 'atomic_dec', void Atomics.sub(w(), v.word, 1), 1, true);
};

function add_return(call: string, i: number, v: atomic_t): number {
  const r = (Atomics.add(w(), v.word, i) + i) | 0;
  return done(v, call, r, r, true);
}
function sub_return(call: string, i: number, v: atomic_t): number {
  const r = (Atomics.sub(w(), v.word, i) - i) | 0;
  return done(v, call, r, r, true);
}
const RET0 = '0 returned, nothing changed';
const FALSE = 'false returned, nothing changed';

export const atomic_add_return = (i: number, v: atomic_t): number =>
  v instanceof atomic_t ? add_return('atomic_add_return', i, v) : bad('atomic_add_return', v, 0, RET0);
export const atomic_sub_return = (i: number, v: atomic_t): number =>
  v instanceof atomic_t ? sub_return('atomic_sub_return', i, v) : bad('atomic_sub_return', v, 0, RET0);
export const atomic_inc_return = (v: atomic_t): number =>
  v instanceof atomic_t ? add_return('atomic_add_return', 1, v) : bad('atomic_inc_return', v, 0, RET0);
export const atomic_dec_return = (v: atomic_t): number =>
  v instanceof atomic_t ? sub_return('atomic_sub_return', 1, v) : bad('atomic_dec_return', v, 0, RET0);
export const atomic_fetch_add = (i: number, v: atomic_t): number => {
  if (!(v instanceof atomic_t)) return bad('atomic_fetch_add', v, 0, RET0);
  const r = Atomics.add(w(), v.word, i);
  return done(v, 'atomic_fetch_add', r, r, true);
};
export const atomic_dec_and_test = (v: atomic_t): boolean =>
  v instanceof atomic_t ? sub_return('atomic_sub_return', 1, v) === 0 : bad('atomic_dec_and_test', v, false, FALSE);
export const atomic_inc_and_test = (v: atomic_t): boolean =>
  v instanceof atomic_t ? add_return('atomic_add_return', 1, v) === 0 : bad('atomic_inc_and_test', v, false, FALSE);
export const atomic_sub_and_test = (i: number, v: atomic_t): boolean =>
  v instanceof atomic_t ? sub_return('atomic_sub_return', i, v) === 0 : bad('atomic_sub_and_test', v, false, FALSE);
export const atomic_xchg = (v: atomic_t, n: number): number => {
  if (!(v instanceof atomic_t)) return bad('atomic_xchg', v, 0, RET0);
  const r = Atomics.exchange(w(), v.word, n);
  return done(v, 'atomic_xchg', r, r, true);
};
export const atomic_cmpxchg = (v: atomic_t, old: number, n: number): number => {
  if (!(v instanceof atomic_t)) return bad('atomic_cmpxchg', v, old, `${old} (the expected value) returned, nothing changed`);
  const r = Atomics.compareExchange(w(), v.word, old, n);
  return done(v, 'atomic_cmpxchg', r, r, r === old);
};
function add_unless(v: atomic_t, a: number, u: number): boolean {
  for (;;) {
    const c = Atomics.load(w(), v.word);
    if (c === u) return done(v, 'atomic_add_unless', false, c, false);
    if (Atomics.compareExchange(w(), v.word, c, (c + a) | 0) === c) return done(v, 'atomic_add_unless', true, c, true);
  }
}
export function atomic_add_unless(v: atomic_t, a: number, u: number): boolean {
  if (!(v instanceof atomic_t)) return bad('atomic_add_unless', v, false, FALSE);
  return add_unless(v, a, u);
}
export const atomic_inc_not_zero = (v: atomic_t): boolean =>
  v instanceof atomic_t ? add_unless(v, 1, 0) : bad('atomic_inc_not_zero', v, false, FALSE);
