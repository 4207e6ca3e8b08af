import { ConfigError, InvalidInputError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";
import type { BootstrapOptions } from "./bootstrap.js";
import { type EvalMetrics, computeMetrics } from "./metrics.js";
import type { EvalProblem, SampleRecord, SampleSource, SampleStore, Verifier } from "./types.js";

export interface EvalProgress {
  /** Problems with all n samples scored. */
  done: number;
  total: number;
  /** Running pass@1 (= mean verdict) over the finished problems; NaN before the first. */
  passAt1: number;
  /** Problems of `done` taken from the store instead of generated. */
  resumed: number;
}

export interface RunEvalOptions extends BootstrapOptions {
  problems: readonly EvalProblem[];
  source: SampleSource;
  verifier: Verifier;
  /** Samples per problem. */
  n: number;
  /** pass@k for these k (each <= n). Default [1]. */
  ks?: readonly number[];
  /** Seed of the evaluation: problem p's request seed is `problemSeed(seed, p.id)`. Default 0. */
  seed?: number;
  /** Problems in flight at once. Default 1. */
  concurrency?: number;
  /** Per-sample results; records already there are not generated again. */
  store?: SampleStore;
  onProgress?: (progress: EvalProgress) => void;
}

export interface EvalRun extends EvalMetrics {
  /** Every sample, grouped by problem in benchmark order, sample order within. */
  samples: SampleRecord[];
  /** Problems generated in this call (the rest came from the store). */
  generated: number;
}

/** The request seed of one problem: a 32-bit value from the evaluation seed and the problem id, independent of order and subset. */
export function problemSeed(seed: number, problemId: string): number {
  return createRng(seed).fork(`problem:${problemId}`).uint32();
}

/**
 * n samples per problem through `source`, verified by `verifier`, then the
 * metrics of `computeMetrics`. With a `store`, finished samples are read back
 * and only the missing ones are generated and appended (a problem is
 * regenerated from its seed, so the same samples come back). A source or
 * verifier that fails stops the run after the problems in flight are stored.
 */
export async function runEval(options: RunEvalOptions): Promise<EvalRun> {
  const { problems, source, verifier, n } = options;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError("n", `must be an integer >= 1, got ${n}`);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError("concurrency", `must be an integer >= 1, got ${concurrency}`);
  if (problems.length === 0) throw new InvalidInputError("runEval: the benchmark has no problems");
  const ids = new Set<string>();
  for (const p of problems) {
    if (ids.has(p.id)) throw new InvalidInputError(`runEval: problem id "${p.id}" occurs twice; ids must be unique`);
    ids.add(p.id);
  }
  const ks = options.ks ?? [1];
  for (const k of ks)
    if (!Number.isInteger(k) || k < 1 || k > n)
      throw new ConfigError("k", `each k must be an integer in [1, n=${n}], got ${k}`);
  const seed = options.seed ?? 0;

  const have = new Map<string, Map<number, SampleRecord>>();
  for (const r of options.store ? await options.store.load() : []) {
    if (!ids.has(r.problemId) || r.sample >= n) continue;
    const byIndex = have.get(r.problemId) ?? new Map<number, SampleRecord>();
    if (!byIndex.has(r.sample)) byIndex.set(r.sample, r);
    have.set(r.problemId, byIndex);
  }
  const complete = (id: string) => (have.get(id)?.size ?? 0) === n;
  const resumed = problems.filter((p) => complete(p.id)).length;
  let done = resumed;
  let correctSum = 0;
  for (const p of problems)
    if (complete(p.id)) for (const r of have.get(p.id)!.values()) correctSum += r.correct ? 1 / n : 0;
  const report = () =>
    options.onProgress?.({ done, total: problems.length, passAt1: done ? correctSum / done : Number.NaN, resumed });
  report();

  const todo = problems.filter((p) => !complete(p.id));
  let next = 0;
  let failure: unknown;
  async function worker(): Promise<void> {
    while (failure === undefined && next < todo.length) {
      const problem = todo[next++]!;
      try {
        const s = problemSeed(seed, problem.id);
        const samples = await source.sample(problem, n, s);
        if (samples.length !== n)
          throw new InvalidInputError(
            `problem "${problem.id}": asked the engine for ${n} samples, got ${samples.length}`,
          );
        const existing = have.get(problem.id) ?? new Map<number, SampleRecord>();
        const missing = samples.map((g, i) => ({ g, i })).filter(({ i }) => !existing.has(i));
        const verdicts = await verifier.verify(
          missing.map(({ g }) => ({
            problem,
            response: g.text,
            finishReason: g.finishReason,
            ...(g.tokens !== undefined ? { responseTokens: g.tokens } : {}),
            ...(g.episodeReward !== undefined ? { episodeReward: g.episodeReward } : {}),
          })),
        );
        const records: SampleRecord[] = missing.map(({ g, i }, j) => ({
          problemId: problem.id,
          sample: i,
          seed: s,
          response: g.text,
          extracted: verdicts[j]!.extracted,
          correct: verdicts[j]!.correct,
          finishReason: g.finishReason,
          ...(g.tokens !== undefined ? { responseTokens: g.tokens } : {}),
          ...(g.episodeReward !== undefined ? { episodeReward: g.episodeReward } : {}),
          ...(verdicts[j]!.error !== undefined ? { verifyError: verdicts[j]!.error } : {}),
        }));
        if (options.store) await options.store.append(records);
        for (const r of records) existing.set(r.sample, r);
        have.set(problem.id, existing);
        done++;
        for (const r of existing.values()) correctSum += r.correct ? 1 / n : 0;
        report();
      } catch (err) {
        failure ??= err;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));
  if (failure !== undefined) throw failure;

  const samples = problems.flatMap((p) => [...have.get(p.id)!.values()].sort((a, b) => a.sample - b.sample));
  const metrics = computeMetrics(
    problems.map((p) => {
      const rs = [...have.get(p.id)!.values()].sort((a, b) => a.sample - b.sample);
      return { id: p.id, correct: rs.map((r) => r.correct), answers: rs.map((r) => r.extracted) };
    }),
    { ks, ...(options.resamples !== undefined ? { resamples: options.resamples } : {}), seed: options.seed ?? 0 },
  );
  return { ...metrics, samples, generated: todo.length };
}
