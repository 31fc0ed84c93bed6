/**
 * Unit test of rwlock_t's hand-over (fairness, as Linux's queued rwlock): a waiter held off long
 * names itself in HANDOFF; then nobody else takes the lock, for reading or writing, the thread
 * that just released it included, and the named waiter takes it even past waiting writers (a
 * reader); with HANDOFF clear, readers wait behind a waiting writer as before. Machine memory and
 * one CPU, no workers. (The whole-machine case, a writer re-taking the lock at once under --kcsan
 * keeping a reader out past the lockup threshold, depends on the host's scheduling: no test.)
 */
import { describe, expect, it } from 'vitest';
import { one_cpu } from './helpers/one-cpu.ts';
import {
  define_rwlock, read_trylock, read_unlock, write_trylock, write_unlock, RWLOCK,
} from '@kmodel/core/internal/sync/rw_spinlock.ts';

describe('rwlock_t hand-over to a starved waiter', () => {
  it('HANDOFF naming another thread holds off every taker; naming this one, it reads past waiting writers; clear, readers wait behind writers', () => {
    const c = one_cpu('taker');
    const w = c.mem.i32;
    const l = define_rwlock('handoff_rw');
    const at = (k: number): number => l.word + k;
    expect(write_trylock(l)).toBe(1);
    write_unlock(l);
    // A waiter (pid 9) on another CPU has waited long: the lock is free, yet only it may take it.
    w[at(RWLOCK.HANDOFF)] = 9;
    expect(write_trylock(l)).toBe(0);
    expect(read_trylock(l)).toBe(0);
    expect(w[at(RWLOCK.CNT)]).toBe(0);
    // This thread is the one named: it reads even with a writer waiting.
    w[at(RWLOCK.HANDOFF)] = 5;
    w[at(RWLOCK.WRITERS_WAITING)] = 1;
    expect(read_trylock(l)).toBe(1);
    read_unlock(l);
    // Nobody named: a waiting writer keeps new readers out (qrwlock's _QW_WAITING), a free lock is a writer's.
    w[at(RWLOCK.HANDOFF)] = 0;
    expect(read_trylock(l)).toBe(0);
    expect(write_trylock(l)).toBe(1);
    write_unlock(l);
    expect(w[at(RWLOCK.CNT)]).toBe(0);
  });
});
