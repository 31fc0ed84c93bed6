/** now() minus process.hrtime (ms), read in the tightest of many brackets: one number per realm. */
export function clock_offset(now: () => number): number {
  const hr = (): number => {
    const [s, ns] = process.hrtime();
    return s * 1e3 + ns / 1e6;
  };
  let width = Infinity;
  let offset = 0;
  for (let i = 0; i < 200; i++) {
    const a = hr();
    const n = now();
    const b = hr();
    if (b - a < width) {
      width = b - a;
      offset = n - (a + b) / 2;
    }
  }
  return offset;
}
