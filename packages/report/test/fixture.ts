import type { ReportInput } from "../src/index.js";

/** A run and two evaluations shaped as the trainer and tokenrl-bench write them. */
export function fixture(): ReportInput {
  const cells = ["easy_pos_high", "easy_pos_low", "hard_neg_high", "hard_neg_low"];
  const rl = Array.from({ length: 12 }, (_, i) => {
    const step = i + 1;
    const r: Record<string, number | string> = {
      phase: "rl",
      step,
      "critic/score/mean": 0.2 + 0.05 * i,
      accuracy: 0.2 + 0.05 * i,
      "actor/entropy": 1.5 - 0.05 * i,
      "response_length/mean": 40 + i,
      "actor/pg_clipfrac": 0.02 + 0.001 * i,
      "policy/maskedFraction": 0.1,
      "actor/ppo_kl": 0.001 * i,
      "actor/pg_loss": 0.1 / step,
      "actor/grad_norm": 1,
    };
    cells.forEach((c, j) => {
      r[`policy/cells/${c}/entropyMean`] = 1 + 0.1 * j - 0.02 * i;
      r[`policy/cells/${c}/tokens`] = 100 + 10 * j;
    });
    return r;
  });
  const records = [
    ...[1, 2, 3].map((step) => ({ phase: "sft", step, loss: 2 / step })),
    { phase: "eval", step: 0, accuracy: 0.25 },
    ...rl,
    { phase: "eval", step: 12, accuracy: 0.75 },
  ] as ReportInput["runs"] extends (infer R)[] | undefined ? (R extends { records: infer X } ? X : never) : never;
  return {
    title: "tokenrl report: <htpo> & friends",
    summary: [
      { label: "preset", value: "htpo" },
      { label: "held-out pass@1", value: "25.0% -> 75.0%", id: "final-accuracy" },
    ],
    runs: [{ name: "htpo-seed0", records }],
    evals: [
      {
        name: "model-a",
        benchmark: "aime24",
        n: 16,
        metrics: {
          "pass@1": 0.1,
          "pass@2": 0.17,
          "pass@4": 0.26,
          "pass@8": 0.35,
          "pass@16": 0.43,
          "mean@16": 0.1,
          "maj@16": 0.13,
        },
        stderr: {
          "pass@1": 0.03,
          "pass@2": 0.04,
          "pass@4": 0.05,
          "pass@8": 0.06,
          "pass@16": 0.07,
          "mean@16": 0.03,
          "maj@16": 0.06,
        },
      },
      {
        name: "model-b",
        benchmark: "aime24",
        n: 16,
        metrics: {
          "pass@1": 0.15,
          "pass@2": 0.22,
          "pass@4": 0.3,
          "pass@8": 0.38,
          "pass@16": 0.45,
          "mean@16": 0.15,
          "maj@16": 0.2,
        },
      },
    ],
    tables: [
      {
        title: "Generations",
        columns: ["prompt", "response", "correct"],
        rows: [["1+2=", "<b>3</b>", "yes"]],
      },
    ],
  };
}
