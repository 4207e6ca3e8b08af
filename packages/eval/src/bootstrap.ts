import { ConfigError, InvalidInputError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";

export interface BootstrapOptions {
  /** Resamples. Default 1000. */
  resamples?: number;
  /** Seed of the resampling stream; the same seed gives the same numbers. Default 0. */
  seed?: number;
}

function resolve(options: BootstrapOptions): { resamples: number; seed: number } {
  const resamples = options.resamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 2)
    throw new ConfigError("bootstrap.resamples", `must be an integer >= 2, got ${resamples}`);
  return { resamples, seed: options.seed ?? 0 };
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new InvalidInputError("mean: no values");
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * Sample standard deviation (ddof = 1); 0 for a single value. Computed on the
 * values shifted by the first one, so a constant input gives exactly 0 (the
 * float mean of [0.1, 0.1, 0.1] is not 0.1).
 */
export function stdev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const c = values[0]!;
  let m = 0;
  for (const v of values) m += v - c;
  m /= values.length;
  let s = 0;
  for (const v of values) s += (v - c - m) ** 2;
  return Math.sqrt(s / (values.length - 1));
}

/**
 * Bootstrap standard error of the mean of per-problem values: the standard
 * deviation (ddof = 1) of the means of `resamples` resamples of the problems
 * with replacement. Seeded, so a result file's stderr is reproducible.
 */
export function bootstrapStderr(values: readonly number[], options: BootstrapOptions = {}): number {
  if (values.length === 0) throw new InvalidInputError("bootstrapStderr: no values");
  const { resamples, seed } = resolve(options);
  const rng = createRng(seed);
  const P = values.length;
  const means = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < P; i++) s += values[rng.int(P)]!;
    means[r] = s / P;
  }
  return stdev(means);
}

/** The q-quantile (0..1) of sorted values, linear interpolation between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new InvalidInputError("quantile: no values");
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface PairedDifference {
  /** mean over seeds and problems of a - b. */
  mean: number;
  /** Bootstrap standard error of `mean`. */
  stderr: number;
  /** Percentile bootstrap confidence interval of `mean`. */
  ci: [number, number];
  /** Confidence level of `ci`, e.g. 0.95. */
  level: number;
  seeds: number;
  problems: number;
}

/**
 * Paired difference between two arms scored on the same grid: `a[s][p]` and
 * `b[s][p]` are arm A's and arm B's per-problem scores (e.g. mean@n) for seed s
 * and problem p. Pairing removes the problem difficulty and the per-seed luck
 * both arms share. The bootstrap resamples seeds and problems independently
 * with replacement (a two-way bootstrap), so the interval covers both the
 * seed-to-seed spread of training and the finite problem set; with one seed it
 * is the usual problem bootstrap.
 */
export function pairedDifference(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  options: BootstrapOptions & { level?: number } = {},
): PairedDifference {
  const S = a.length;
  if (S === 0 || b.length !== S)
    throw new InvalidInputError(`pairedDifference: need the same non-zero number of seeds, got ${S} and ${b.length}`);
  const P = a[0]!.length;
  if (P === 0) throw new InvalidInputError("pairedDifference: no problems");
  const d: number[][] = a.map((row, s) => {
    const other = b[s]!;
    if (row.length !== P || other.length !== P)
      throw new InvalidInputError(
        `pairedDifference: seed ${s} has ${row.length} and ${other.length} problems, expected ${P} in both arms`,
      );
    return row.map((v, p) => v - other[p]!);
  });
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new ConfigError("level", `must be in (0, 1), got ${level}`);
  const { resamples, seed } = resolve(options);
  const rng = createRng(seed);
  const stats = new Array<number>(resamples);
  const seedIdx = new Array<number>(S);
  for (let r = 0; r < resamples; r++) {
    for (let s = 0; s < S; s++) seedIdx[s] = rng.int(S);
    let sum = 0;
    for (let p = 0; p < P; p++) {
      const pi = rng.int(P);
      for (let s = 0; s < S; s++) sum += d[seedIdx[s]!]![pi]!;
    }
    stats[r] = sum / (S * P);
  }
  const sorted = [...stats].sort((x, y) => x - y);
  return {
    mean: mean(d.flat()),
    stderr: stdev(stats),
    ci: [quantile(sorted, (1 - level) / 2), quantile(sorted, 1 - (1 - level) / 2)],
    level,
    seeds: S,
    problems: P,
  };
}
