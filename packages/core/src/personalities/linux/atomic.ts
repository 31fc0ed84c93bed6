/** include/linux/atomic.h: atomic_t, one word of machine memory; every operation is seq-cst. */
import { define_atomic, type atomic_t } from '../../contract/index.ts';

export * from '../../contract/atomic.ts';

/** DEFINE_ATOMIC - the atomic_t @name, initialised to @i (C: `atomic_t name = ATOMIC_INIT(i)`). */
export function DEFINE_ATOMIC(name: string, i = 0): atomic_t {
  return define_atomic(name, i);
}
