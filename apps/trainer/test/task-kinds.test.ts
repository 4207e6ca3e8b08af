import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectIsolation } from "@tokenrl/reward-code";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";
import { train } from "../src/train.js";
import { records } from "./helpers.js";

// A few steps of each task kind through the whole loop: the verifier pool (math),
// the sandbox (code), the offline multi-turn environment (ALFWorld). GRPO without
// dynamic sampling, so every step updates even when no sample is right.
const dir = mkdtempSync(join(tmpdir(), "trainer-kinds-"));
const jsonl = (name: string, rows: object[]) => {
  const path = join(dir, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n"));
  return path;
};
const base = {
  workers: 1,
  preset: "grpo",
  model: {
    hiddenSize: 16,
    intermediateSize: 32,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    maxPositionEmbeddings: 2048,
  },
  sft: { steps: 1, batchSize: 4, learningRate: 1e-2 },
  rl: { steps: 2, promptsPerStep: 2, groupSize: 2, miniBatches: 1 },
  eval: { examples: 2, every: 0 },
  checkpoint: { every: 0 },
};

function checkRun(out: string) {
  const rl = records(out, "rl");
  expect(rl.map((r) => r.step)).toEqual([1, 2]);
  for (const r of rl) {
    expect(Number.isFinite(r["critic/score/mean"])).toBe(true);
    expect(Number.isFinite(r["actor/pg_loss"])).toBe(true);
    expect(r["reward/verify_failures"]).toBe(0);
  }
}

describe("every task kind trains through the loop", () => {
  it("math JSONL through the verifier pool", async () => {
    const path = jsonl(
      "math.jsonl",
      Array.from({ length: 12 }, (_, i) => ({
        id: `p${i}`,
        problem: `What is ${i} + ${i + 1}?`,
        answer: String(2 * i + 1),
      })),
    );
    const out = join(dir, "math");
    await train(resolveConfig(base, { out, task: { name: "math-jsonl", options: { path, maxResponseLength: 16 } } }), {
      progress: false,
    });
    checkRun(out);
  }, 180_000);

  it.skipIf(!detectIsolation({}).python)(
    "code JSONL through the sandbox (needs python3)",
    async () => {
      const path = jsonl(
        "code.jsonl",
        Array.from({ length: 8 }, (_, i) => ({
          question_id: `c${i}`,
          question_content: `Read an integer and print it plus ${i}.`,
          starter_code: "",
          public_test_cases: JSON.stringify([{ input: "1\n", output: `${1 + i}\n`, testtype: "stdin" }]),
          metadata: "{}",
        })),
      );
      const out = join(dir, "code");
      await train(
        resolveConfig(base, {
          out,
          task: {
            name: "code-jsonl",
            options: { path, maxResponseLength: 16, runner: { concurrency: 1, limits: { timeLimitSec: 4 } } },
          },
        }),
        { progress: false },
      );
      checkRun(out);
    },
    180_000,
  );

  it("offline ALFWorld, multi-turn, environment tokens masked out", async () => {
    const out = join(dir, "alfworld");
    await train(
      resolveConfig(base, {
        out,
        sft: { steps: 0 },
        task: { name: "alfworld", options: { maxTurns: 2, maxTurnTokens: 8, maxResponseTokens: 256, preamble: false } },
      }),
      { progress: false },
    );
    checkRun(out);
    const samples = records(out, "rl");
    expect(samples[0]!["response_length/mean"]).toBeGreaterThan(0);
  }, 180_000);
});
