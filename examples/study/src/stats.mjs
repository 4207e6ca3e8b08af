import { mean, pairedDifference, passAtK, stdev } from "@tokenrl/eval";

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
 * Variance components of a seed x problem grid of paired differences
 * d[s][p] = mu + a_s + b_p + e_sp (two-way random effects, ANOVA estimates,
 * clipped at 0): seed-to-seed (training luck), problem (problems that favour
 * one arm) and residual (evaluation sampling noise and seed x problem
 * interaction). Var(mean) = seed/S + problem/P + residual/(S P).
 */
export function varianceComponents(d) {
  const S = d.length;
  const P = d[0].length;
  const grand = mean(d.flat());
  const rowMeans = d.map((row) => mean(row));
  const colMeans = Array.from({ length: P }, (_, p) => mean(d.map((row) => row[p])));
  let ssSeed = 0;
  for (const m of rowMeans) ssSeed += P * (m - grand) ** 2;
  let ssProblem = 0;
  for (const m of colMeans) ssProblem += S * (m - grand) ** 2;
  let ssResidual = 0;
  for (let s = 0; s < S; s++)
    for (let p = 0; p < P; p++) ssResidual += (d[s][p] - rowMeans[s] - colMeans[p] + grand) ** 2;
  const msSeed = S > 1 ? ssSeed / (S - 1) : Number.NaN;
  const msProblem = P > 1 ? ssProblem / (P - 1) : Number.NaN;
  const msResidual = S > 1 && P > 1 ? ssResidual / ((S - 1) * (P - 1)) : Number.NaN;
  return {
    seed: Math.max(0, (msSeed - msResidual) / P),
    problem: Math.max(0, (msProblem - msResidual) / S),
    residual: msResidual,
  };
}

/**
 * The paired difference a - b (by seed and problem) with its two-way
 * bootstrap CI, the per-seed differences, and how many seeds (on the same
 * problems) would resolve a difference of `resolve` (default 2 points), from
 * the measured variance components: the smallest S with
 * z sqrt(seed/S + problem/P + residual/(S P)) <= resolve, for z = 1.96 (a 95%
 * CI of +-resolve) and z = 1.96 + 0.84 (80% power at the 5% level).
 * Infinity when the problem term alone is too large (more problems needed).
 */
export function armDifference(gridA, gridB, options = {}) {
  const resolve = options.resolve ?? 0.02;
  const d = pairedDifference(gridA, gridB, { seed: 0, ...(options.resamples ? { resamples: options.resamples } : {}) });
  const diff = gridA.map((row, s) => row.map((v, p) => v - gridB[s][p]));
  const perSeed = diff.map((row) => mean(row));
  const P = diff[0].length;
  const components = varianceComponents(diff);
  const seedsFor = (z) => {
    if (!Number.isFinite(components.residual)) return null;
    const room = (resolve / z) ** 2 - components.problem / P;
    if (room <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(2, Math.ceil((components.seed + components.residual / P) / room));
  };
  return {
    ...d,
    perSeed,
    sdOverSeeds: perSeed.length > 1 ? stdev(perSeed) : null,
    components,
    /** Seeds for a 95% CI of +-resolve (same problems). */
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
