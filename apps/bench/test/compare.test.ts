import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compare } from "../src/commands/compare.js";

const TRAINER = resolve(import.meta.dirname, "../../trainer/dist/cli.js");
const BENCH_CLI = resolve(import.meta.dirname, "../dist/cli.js");

/** A few steps of a tiny model: the point is the plumbing (train, held-out eval, pairing, CI), not the numbers. */
const TINY = [
  "sft.steps=2",
  "sft.batchSize=4",
  "rl.promptsPerStep=2",
  "rl.groupSize=2",
  "rl.maxGenerationBatches=1",
  "eval.examples=2",
  "model.hiddenSize=16",
  "model.intermediateSize=32",
  "model.numLayers=1",
  "model.numHeads=2",
  "model.numKvHeads=1",
];

describe("compare", () => {
  it.skipIf(!existsSync(TRAINER) || !existsSync(BENCH_CLI))(
    "2 recipes x 2 seeds on the built-in reasoning task write the table with a confidence interval (needs the trainer and bench builds)",
    async () => {
      const out = mkdtempSync(join(tmpdir(), "bench-compare-"));
      const budget = {
        recipes: ["htpo", "dapo"],
        seeds: [0, 1],
        out,
        task: "arith-chain",
        set: TINY,
        n: 2,
        ks: [1, 2],
        problems: 3,
        temperature: 1,
        maxTokens: 16,
        jobs: 2,
        quiet: true,
        resamples: 200,
      };
      const r = await compare({ ...budget, steps: 1 });
      expect(r.recipes.map((x) => x.recipe)).toEqual(["htpo", "dapo"]);
      // 2 runs at a time share the cores: each trainer gets the rest as policy workers (planRuns).
      const workers = Math.max(1, Math.floor(availableParallelism() / 2));
      const summary = JSON.parse(readFileSync(join(out, "runs", "htpo-seed0", "summary.json"), "utf8"));
      expect(summary.workers.policy).toBe(workers);
      expect(r.settings).toMatchObject({ jobs: 2, workersPerRun: workers });
      // The worker count is not part of what makes a finished run reusable (it changes no result).
      expect(readFileSync(join(out, "runs", "htpo-seed0", "compare-run.json"), "utf8")).not.toContain("--workers");
      for (const x of r.recipes) {
        expect(x.runs.map((run) => run.seed)).toEqual([0, 1]);
        for (const run of x.runs) {
          expect(existsSync(join(run.dir, "summary.json"))).toBe(true);
          expect(run.heldOut).toBeDefined();
        }
        // mean over seeds is the mean of the two runs' held-out mean@2.
        expect(x.mean["mean@2"]).toBeCloseTo((x.runs[0]!.metrics["mean@2"]! + x.runs[1]!.metrics["mean@2"]!) / 2, 12);
      }
      const d = r.differences.find((x) => x.metric === "mean@2")!;
      expect(d).toMatchObject({ a: "htpo", b: "dapo", seeds: 2, problems: 3, level: 0.95 });
      expect(d.mean).toBeCloseTo(r.recipes[0]!.mean["mean@2"]! - r.recipes[1]!.mean["mean@2"]!, 12);
      expect(d.ci[0]).toBeLessThanOrEqual(d.mean + 1e-12);
      expect(d.ci[1]).toBeGreaterThanOrEqual(d.mean - 1e-12);
      const md = readFileSync(join(out, "results.md"), "utf8");
      expect(md).toMatch(/\| htpo - dapo \| mean@2 \| [+-]?\d+\.\d \| \[-?\d+\.\d, -?\d+\.\d\] \|/);
      expect(md).toMatch(/\| htpo \| 2 \| /);
      expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).differences.length).toBeGreaterThan(0);
      expect(readFileSync(join(out, "report.html"), "utf8")).toContain('id="differences"');
      // The same --out with another budget is refused, not silently mixed with the old runs.
      await expect(compare({ ...budget, steps: 2 })).rejects.toThrow(/was trained with other arguments/);
    },
  );
});
