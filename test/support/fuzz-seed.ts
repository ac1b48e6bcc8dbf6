// The seed policy of the property-based tests (RELIABILITY.md, "Seeds"): every run draws a new seed,
// so inputs keep changing from run to run, and prints it, so any run can be replayed exactly with
// FUZZ_SEED=<seed> (fast-check also prints the seed and the shrunk counterexample when a property fails).
// Plain TypeScript: used by the Node tests (process.env) and the workerd ones (a Worker binding).

/** The seed to run with: FUZZ_SEED when it is a whole number, otherwise a fresh random one. */
export function fuzzSeed(fromEnvironment: unknown): number {
  const given = typeof fromEnvironment === 'string' && /^-?\d{1,10}$/.test(fromEnvironment.trim()) ? Number(fromEnvironment) : undefined;
  const seed = given ?? (Math.random() * 2 ** 31) | 0;
  return seed | 0; // fast-check seeds are 32-bit integers
}

/** One line for the test output: what ran, with which seed, and how to replay it. */
export function seedLine(what: string, seed: number, runs: number): string {
  return `${what}: ${runs} generated inputs, seed ${seed} (replay: FUZZ_SEED=${seed})`;
}
