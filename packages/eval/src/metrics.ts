import { InvalidInputError } from "@tokenrl/base/errors";
import { type BootstrapOptions, bootstrapStderr, mean } from "./bootstrap.js";
import { majorityIndex } from "./majority.js";
import { passAtK } from "./pass-at-k.js";

/** The n verdicts of one problem, in sample order. */
export interface ProblemOutcome {
  id: string;
  /** Verdict of each sample. */
  correct: readonly boolean[];
  /** The answer extracted from each sample ("" when none), for the majority vote. */
  answers: readonly string[];
}

export interface ProblemScore {
  id: string;
  n: number;
  /** Correct samples. */
  c: number;
  /** pass@k of this problem for each requested k, keyed "pass@k". */
  passAtK: Record<string, number>;
  /** The majority answer ("" when no sample had one) and whether it is correct. */
  majAnswer: string;
  majCorrect: boolean;
}

export interface EvalMetrics {
  /** Samples per problem. */
  n: number;
  problems: number;
  /** "pass@k" for each k, "mean@N" and "maj@N", averaged over problems. */
  metrics: Record<string, number>;
  /** Bootstrap standard error of each metric over problems (same keys). */
  stderr: Record<string, number>;
  perProblem: ProblemScore[];
}

/**
 * pass@k for each k (Chen et al.'s unbiased estimator per problem, averaged
 * over problems), mean@N (the mean verdict over all N samples, verl's name for
 * avg@N) and maj@N (the majority answer's verdict), each with a seeded
 * bootstrap standard error over problems. Every problem must have the same n,
 * and every k must be in [1, n].
 */
export function computeMetrics(
  outcomes: readonly ProblemOutcome[],
  options: BootstrapOptions & { ks?: readonly number[] } = {},
): EvalMetrics {
  if (outcomes.length === 0) throw new InvalidInputError("computeMetrics: no problems");
  const n = outcomes[0]!.correct.length;
  for (const o of outcomes) {
    if (o.correct.length !== n)
      throw new InvalidInputError(
        `computeMetrics: problem "${o.id}" has ${o.correct.length} samples, the first problem has ${n}; every problem needs the same n`,
      );
    if (o.answers.length !== n)
      throw new InvalidInputError(
        `computeMetrics: problem "${o.id}" has ${o.answers.length} answers for ${n} verdicts`,
      );
  }
  if (n < 1) throw new InvalidInputError("computeMetrics: problems have no samples");
  const ks = [...new Set(options.ks ?? [1])].sort((x, y) => x - y);
  for (const k of ks)
    if (!Number.isInteger(k) || k < 1 || k > n)
      throw new InvalidInputError(
        `computeMetrics: k=${k} is outside [1, n=${n}]; sample at least k responses per problem`,
      );
  const perProblem: ProblemScore[] = outcomes.map((o) => {
    const c = o.correct.filter(Boolean).length;
    const m = majorityIndex(o.answers);
    return {
      id: o.id,
      n,
      c,
      passAtK: Object.fromEntries(ks.map((k) => [`pass@${k}`, passAtK(n, c, k)])),
      majAnswer: m >= 0 ? o.answers[m]!.trim() : "",
      majCorrect: m >= 0 && o.correct[m] === true,
    };
  });
  const columns: Record<string, number[]> = {};
  for (const k of ks) columns[`pass@${k}`] = perProblem.map((p) => p.passAtK[`pass@${k}`]!);
  columns[`mean@${n}`] = perProblem.map((p) => p.c / n);
  columns[`maj@${n}`] = perProblem.map((p) => (p.majCorrect ? 1 : 0));
  const metrics: Record<string, number> = {};
  const stderr: Record<string, number> = {};
  for (const [name, values] of Object.entries(columns)) {
    metrics[name] = mean(values);
    stderr[name] = bootstrapStderr(values, options);
  }
  return { n, problems: outcomes.length, metrics, stderr, perProblem };
}
