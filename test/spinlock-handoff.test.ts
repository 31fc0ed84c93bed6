/**
 * Unit test of the spinlock's hand-over (fairness, as Linux's FIFO qspinlock): a waiter that has
 * waited long asks for the lock (LOCK = 4, HANDOFF = its pid); the holder's release then hands it
 * to that waiter alone (LOCK = 3): the releasing thread's own trylock fails, as any other's does,
 * until the waiter has taken it. Machine memory and one CPU, no workers. (A whole machine shows it
 * too, examples/locks/fair_counter.ts under --kcsan: but how long a waiter waits there is the host's
 * scheduling, so it is no test.)
 */
import { describe, expect, it } from 'vitest';
import { one_cpu } from './helpers/one-cpu.ts';
import { define_spinlock, spin_lock, spin_trylock, spin_unlock, spin_is_locked } from '@kmodel/core/internal/sync/spinlock.ts';
import { SPINLOCK } from '@kmodel/core/internal/sync/spinlock-types.ts';

describe('spinlock hand-over to a starved waiter', () => {
  it('a release with a waiter asking hands the lock to it: nobody else, the releaser included, can take it', () => {
    const c = one_cpu('holder');
    const w = c.mem.i32;
    const lk = define_spinlock('handoff_lk');
    const at = lk.word + SPINLOCK.LOCK;
    spin_lock(lk);
    expect(w[at]).toBe(1);
    // A waiter (pid 9) on another CPU has waited long and asks for it.
    w[lk.word + SPINLOCK.HANDOFF] = 9;
    w[at] = 4;
    spin_unlock(lk);
    expect(w[at]).toBe(3); // handed to pid 9
    expect(spin_is_locked(lk)).toBe(true);
    expect(spin_trylock(lk)).toBe(0); // the releaser's own re-take fails
    // Without a waiter asking, a release frees it.
    w[at] = 2; // (as the waiter takes it: held, others may sleep)
    w[lk.word + SPINLOCK.HANDOFF] = 0;
    spin_unlock(lk);
    expect(w[at]).toBe(0);
    expect(spin_trylock(lk)).toBe(1);
    spin_unlock(lk);
    expect(w[at]).toBe(0);
  });
});

