import type { Recipe } from "@tokenrl/train";
import type { MetricsRecord } from "@tokenrl/train/node";
import type { TrainConfig } from "./config.js";

export interface RunSummary {
  config: TrainConfig;
  configHash: string;
  recipe: Recipe;
  completed: boolean;
  /** Held-out greedy pass@1 as fractions (null when not measured). */
  heldOut: { start: number | null; afterWarmup: number | null; final: number | null };
  steps: { sft: number; rl: number; skippedRl: number };
  /** Best value over RL steps of each headline metric (and the held-out pass@1 over evaluations). */
  best: Record<string, number>;
  /** The last RL step's metrics. */
  final: Record<string, unknown>;
  /** Seconds per phase summed over every process of the run (sft, rl and its parts, eval), and this process's wall time. */
  timeS: Record<string, number>;
  /** Tokens per partition cell summed over the RL steps (HTPO's cells; empty for recipes without cells). */
  cellTokens: Record<string, number>;
  /** RL steps per second and tokens per second over the RL phase. */
  throughput: { rlStepsPerSecond: number | null; tokensPerSecond: number | null };
  versions: Record<string, string>;
  /** Threads this process planned (@tokenrl/train/workers `planWorkers`): policy workers (1 = in this thread), reward workers, and why. */
  workers?: { policy: number; reward: number; reason: string; exclusive?: boolean };
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export function buildSummary(input: {
  config: TrainConfig;
  hash: string;
  recipe: Recipe;
  records: MetricsRecord[];
  completed: boolean;
  versions: Record<string, string>;
  wallSeconds: number;
  workers?: { policy: number; reward: number; reason: string; exclusive?: boolean };
}): RunSummary {
  const { records } = input;
  const evalOf = (tag: string) => {
    const r = records.filter((x) => x.phase === "eval" && x.tag === tag).at(-1);
    return num(r?.["heldOut/pass@1"]) ?? null;
  };
  const sft = records.filter((r) => r.phase === "sft");
  const rl = records.filter((r) => r.phase === "rl");
  const sum = (rs: MetricsRecord[], key: string) => rs.reduce((a, r) => a + (num(r[key]) ?? 0), 0);
  const best: Record<string, number> = {};
  for (const key of ["critic/score/mean", "accuracy"]) {
    const values = rl.map((r) => num(r[key])).filter((v): v is number => v !== undefined);
    if (values.length) best[key] = Math.max(...values);
  }
  const heldOutValues = records
    .filter((r) => r.phase === "eval")
    .map((r) => num(r["heldOut/pass@1"]))
    .filter((v): v is number => v !== undefined);
  if (heldOutValues.length) best["heldOut/pass@1"] = Math.max(...heldOutValues);
  const rlSeconds = sum(rl, "timing_s/step");
  const tokens = sum(rl, "perf/total_num_tokens");
  const timeS = {
    sft: sum(sft, "timing_s/step"),
    rl: rlSeconds,
    "rl/gen": sum(rl, "timing_s/gen"),
    "rl/reward": sum(rl, "timing_s/reward"),
    "rl/old_log_prob": sum(rl, "timing_s/old_log_prob"),
    "rl/update": sum(rl, "timing_s/update"),
    eval: sum(
      records.filter((r) => r.phase === "eval"),
      "timing_s/eval",
    ),
    wallThisProcess: input.wallSeconds,
  };
  const cellTokens: Record<string, number> = {};
  for (const r of rl) {
    for (const [k, v] of Object.entries(r)) {
      const m = /^actor\/cells\/(.+)\/tokens$/.exec(k);
      if (m && typeof v === "number") cellTokens[m[1]!] = (cellTokens[m[1]!] ?? 0) + v;
    }
  }
  const { phase: _p, ...last } = rl.at(-1) ?? { phase: "rl" };
  return {
    config: input.config,
    configHash: input.hash,
    recipe: input.recipe,
    completed: input.completed,
    heldOut: { start: evalOf("start"), afterWarmup: evalOf("afterWarmup"), final: evalOf("final") },
    steps: { sft: sft.length, rl: rl.length, skippedRl: rl.filter((r) => r.skipped).length },
    best,
    final: last,
    timeS,
    cellTokens,
    throughput: {
      rlStepsPerSecond: rlSeconds > 0 ? rl.length / rlSeconds : null,
      tokensPerSecond: rlSeconds > 0 ? tokens / rlSeconds : null,
    },
    versions: input.versions,
    ...(input.workers ? { workers: input.workers } : {}),
  };
}
