/**
 * The strategies by code (CONTROL.STRATEGY) and by name (the command line, a schedule file).
 * Adding one: its file, and a line in ALL.
 */
import { guided_strategy } from './guided.ts';
import { pct_strategy } from './pct.ts';
import { random_strategy } from './random.ts';
import { replay_strategy } from './replay.ts';
import type { Strategy } from './strategy.ts';

const ALL: readonly Strategy[] = [random_strategy, pct_strategy, replay_strategy, guided_strategy];

export const STRATEGY_NAMES = ['random', 'pct', 'replay', 'guided'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export function strategy_by_code(code: number): Strategy {
  for (const s of ALL) if (s.code === code) return s;
  throw new RangeError(`no scheduling strategy with code ${code}`);
}

export function strategy_by_name(name: string): Strategy | undefined {
  for (const s of ALL) if (s.name === name) return s;
  return undefined;
}
