import { mean, quantile } from "@tokenrl/eval";

/** numpy-style quantiles of `values` (unsorted) at each q. */
function quantiles(values, qs) {
  const sorted = [...values].sort((a, b) => a - b);
  return Object.fromEntries(qs.map((q) => [`p${Math.round(q * 100)}`, quantile(sorted, q)]));
}

/**
 * What makes the task a fair miniature, measured on the warm-start policy's
 * held-out samples (the RL starting point, sampled as every arm is evaluated):
 *
 * - response length in tokens (the policy's tokenizer is per character);
 * - accuracy by difficulty (the number of operations), and how the held-out
 *   problems split around HTPO's difficulty threshold (group accuracy < 0.6 is
 *   "hard"): both sides must be populated for HTPO's cells to act;
 * - the per-token entropy distribution (nats) of the policy on its own
 *   samples, and the mean entropy of each response's top 20% (HTPO's high
 *   set) against the rest.
 *
 * `samples`: eval SampleRecords; `perProblem`: eval counts; `difficultyOf(id)`;
 * `scored`: tokenrl-bench score output (per-token entropies) for some samples.
 */
export function warmStartStatistics({ samples, perProblem, difficultyOf, scored, threshold = 0.6, highRatio = 0.2 }) {
  const lengths = samples.map((s) => s.responseTokens ?? s.response.length);
  const length = {
    mean: mean(lengths),
    ...quantiles(lengths, [0.1, 0.5, 0.9]),
    max: Math.max(...lengths),
    truncated: samples.filter((s) => s.finishReason === "length").length / samples.length,
  };

  const byDifficulty = new Map();
  for (const p of perProblem) {
    const d = difficultyOf(p.id);
    const row = byDifficulty.get(d) ?? { difficulty: d, problems: 0, correct: 0, samples: 0, solved: 0, hard: 0 };
    row.problems += 1;
    row.correct += p.c;
    row.samples += p.n;
    if (p.c > 0) row.solved += 1;
    if (p.c / p.n < threshold) row.hard += 1;
    byDifficulty.set(d, row);
  }
  const difficulty = [...byDifficulty.values()]
    .sort((a, b) => a.difficulty - b.difficulty)
    .map((r) => ({
      difficulty: r.difficulty,
      problems: r.problems,
      meanAccuracy: r.correct / r.samples,
      passAtN: r.solved / r.problems,
      hardShare: r.hard / r.problems,
    }));

  const acc = perProblem.map((p) => p.c / p.n);
  const groupAccuracy = {
    zero: acc.filter((a) => a === 0).length / acc.length,
    belowThreshold: acc.filter((a) => a > 0 && a < threshold).length / acc.length,
    aboveThreshold: acc.filter((a) => a >= threshold && a < 1).length / acc.length,
    one: acc.filter((a) => a === 1).length / acc.length,
  };

  const all = scored.flatMap((s) => s.entropies);
  const highMeans = [];
  const lowMeans = [];
  for (const s of scored) {
    const sorted = [...s.entropies].sort((a, b) => b - a);
    const k = Math.max(Math.floor(highRatio * sorted.length), 1);
    highMeans.push(mean(sorted.slice(0, k)));
    if (sorted.length > k) lowMeans.push(mean(sorted.slice(k)));
  }
  const entropy = all.length
    ? {
        tokens: all.length,
        responses: scored.length,
        mean: mean(all),
        ...quantiles(all, [0.5, 0.8, 0.9, 0.99]),
        highSetMean: mean(highMeans),
        lowSetMean: lowMeans.length ? mean(lowMeans) : null,
      }
    : null;

  return {
    samples: samples.length,
    problems: perProblem.length,
    length,
    difficulty,
    groupAccuracy,
    entropy,
    threshold,
  };
}
