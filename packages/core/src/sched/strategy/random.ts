/**
 * The random strategy: a uniform random walk over the enabled CPUs. The choice at point `step` is a
 * hash of (seed, step, n) alone, so it keeps no state and the same seed walks the same way.
 */
import { decision_hash } from '../../arch/hash.ts';
import { STRATEGY_RANDOM, type PointContext, type Strategy } from './strategy.ts';

/** decision_hash's salt for the random walk: apart from chaos (1, 2, 3, 7), KCSAN (5) and PCT (13, 14). */
const SALT_WALK = 12;

export const random_strategy: Strategy = {
  code: STRATEGY_RANDOM,
  name: 'random',
  pick(p: PointContext): number {
    return p.enabled[decision_hash(p.seed, p.step, p.n, SALT_WALK) % p.n];
  },
};
