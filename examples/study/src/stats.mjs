import { bootstrapStderr, mean, pairedDifference, passAtK, stdev } from "@tokenrl/eval";

/** z for a two-sided 95% interval, and z_0.975 + z_0.80 for 80% power at that level. */
const Z95 = 1.959964;
const Z_POWER80 = Z95 + 0.841621;

/** The metrics the study reports: mean@n and pass@k for every k = 1..n. */
export function metricNames(n) {
  return [`mean@${n}`, ...Array.from({ length: n }, (_, i) => `pass@${i + 1}`)];
}

/** A problem's value of a metric from its counts: mean@n = c/n, pass@k by Chen et al.'s estimator. */
export function problemValue(metric, n, c) {
  const k = /^pass@(\d+)$/.exec(metric);
  if (k) return passAtK(n, c, Number(k[1]));
  if (/^mean@\d+$/.test(metric)) return c / n;
  throw new Error(`unknown metric ${metric}`);
}

/**
 * `grid[s][p]`: the metric of problem p in seed s's evaluation. Every
 * evaluation must hold the same problem ids (the study evaluates every run on
 * the same held-out problems), else the runs cannot be paired.
 */
export function metricGrid(evals, metric) {
  const ids = evals[0].perProblem.map((p) => p.id);
  return evals.map((e, s) => {
    const byId = new Map(e.perProblem.map((p) => [p.id, p]));
    if (byId.size !== ids.length || ids.some((id) => !byId.has(id)))
      throw new Error(`evaluation ${s} holds other held-out problems than evaluation 0; runs cannot be paired`);
    return ids.map((id) => {
      const p = byId.get(id);
      return problemValue(metric, p.n, p.c);
    });
  });
}

/**
 * One arm's metric over seeds and problems: the mean, its bootstrap standard
 * error and 95% interval (the same two-way bootstrap as the paired
 * differences, resampling seeds and problems, i.e. the difference to a
 * constant 0), and the per-seed means with their spread.
 */
export function armStatistic(grid, options = {}) {
  const zeros = grid.map((row) => row.map(() => 0));
  const d = pairedDifference(grid, zeros, { seed: 0, ...options });
  const perSeed = grid.map((row) => mean(row));
  return {
    mean: d.mean,
    stderr: d.stderr,
    ci: d.ci,
    perSeed,
    sdOverSeeds: stdev(perSeed),
    seeds: d.seeds,
    problems: d.problems,
  };
}

/**
 * The paired difference a - b (by seed and problem) with its two-way
 * bootstrap CI, the per-seed differences, and how many seeds would resolve a
 * difference of `resolve` (default 2 points), from the measured variance:
 * Var(estimate) ~= var_seeds(d_s) / S + se_problems^2, where d_s is seed s's
 * mean difference and se_problems the bootstrap error over problems of the
 * seed-averaged per-problem differences (it does not shrink with seeds).
 */
export function armDifference(gridA, gridB, options = {}) {
  const resolve = options.resolve ?? 0.02;
  const d = pairedDifference(gridA, gridB, { seed: 0, ...(options.resamples ? { resamples: options.resamples } : {}) });
  const perSeed = gridA.map((row, s) => mean(row.map((v, p) => v - gridB[s][p])));
  const P = gridA[0].length;
  const perProblem = Array.from({ length: P }, (_, p) => mean(gridA.map((row, s) => row[p] - gridB[s][p])));
  const seProblems = bootstrapStderr(perProblem, { seed: 1 });
  const seedVar = perSeed.length > 1 ? stdev(perSeed) ** 2 : Number.NaN;
  const seedsFor = (z) => {
    const room = (resolve / z) ** 2 - seProblems ** 2;
    if (!Number.isFinite(seedVar)) return null;
    if (room <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(2, Math.ceil(seedVar / room));
  };
  return {
    ...d,
    perSeed,
    sdOverSeeds: perSeed.length > 1 ? Math.sqrt(seedVar) : null,
    seProblems,
    /** Seeds for a 95% CI of +-resolve (same problems). Infinity: the problem set alone is too small. */
    seedsForHalfWidth: seedsFor(Z95),
    /** Seeds for 80% power to detect a true difference of `resolve` at the 5% level (two-sided). */
    seedsForPower80: seedsFor(Z_POWER80),
  };
}

/** Whether a CI excludes 0, in words. */
export function verdict(ci) {
  if (ci[0] === 0 && ci[1] === 0) return "no difference measured";
  if (ci[0] > 0) return "a > b";
  if (ci[1] < 0) return "a < b";
  return "inside the noise";
}
