import type { CpuTrace } from '@kmodel/core/internal/machine/cpu-protocol.ts';

/** `switches` switch records over `cpus` CPUs among `threads` threads, about 0.37 ms apart on each CPU, some idle. */
export function switch_trace(switches: number, cpus: number, threads: number): CpuTrace[] {
  const names: [number, string][] = Array.from({ length: threads }, (_, i) => [100 + i, `worker/${i}`]);
  const out: CpuTrace[] = Array.from({ length: cpus }, () => ({ events: [], names }));
  let x = 12345;
  for (let i = 0; i < switches; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const cpu = i % cpus;
    const t = Math.floor(i / cpus) * 0.37 * cpus + (x % 1000) / 10_000;
    out[cpu].events.push(t, x % 17 === 0 ? 0 : 100 + (x >>> 8) % threads);
  }
  return out;
}
