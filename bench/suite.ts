/** The benchmark suite entry (`kmodel bench`). */
export async function runBench(_o: { quick: boolean }): Promise<number> {
  process.stderr.write('kmodel bench: the benchmark suite is being written\n');
  return 1;
}
