/** The live progress bar of a campaign: on a terminal only, on stderr, gone when stopped (before the summary). */
import cliProgress from 'cli-progress';

export interface Progress {
  tick(failed: boolean): void;
  stop(): void;
}

export function progress(total: number, what: string): Progress {
  if (!process.stderr.isTTY) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${what} [{bar}] {value}/{total} trials | {failed} failed | {duration_formatted} (eta {eta_formatted})`,
      stream: process.stderr, clearOnComplete: true, hideCursor: true, etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let failures = 0;
  let stopped = false;
  bar.start(total, 0, { failed: 0 });
  return {
    tick(f) {
      if (stopped) return;
      if (f) failures++;
      bar.increment(1, { failed: failures });
    },
    stop() {
      stopped = true;
      bar.stop();
    },
  };
}
