/**
 * What `kmodel campaign` needs before it runs anything: the checks of its options and its
 * defaults. Apart from campaign.ts, so that parsing the command line does not load the pool
 * (piscina) and the progress bar (cli-progress).
 */
import { randomInt } from 'node:crypto';
import { controlled_usage, type ControlledFlags } from '../options.ts';

/** The options a campaign checks before it runs (ModuleCampaignOptions has them all). */
export interface CampaignFlags extends ControlledFlags {
  chaos?: unknown;
  scheduleDir?: string;
  queue?: unknown;
  jobs?: number;
}

/** Where a controlled campaign writes schedule files without --schedule-dir (relative to the working directory). */
export const DEFAULT_SCHEDULE_DIR = 'kmodel-schedules';

/** Why these campaign options do not go together (one line for a usage error), or null. */
export function campaign_usage_error(o: CampaignFlags): string | null {
  const why = controlled_usage(o);
  if (why) return `error: ${why}`;
  if (!o.controlled && o.scheduleDir !== undefined) return 'error: --schedule-dir goes with --controlled';
  if (o.queue && o.jobs !== undefined) return 'error: --jobs sizes the pool of this host; with --queue each kmodel worker has its own --jobs';
  return null;
}

/** A base seed when --seed is absent: below 2^30, so BASE + trial stays a valid seed. */
export function random_seed(): number {
  return randomInt(2 ** 30);
}
