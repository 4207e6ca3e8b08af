import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtinBenchmarkPath } from "../src/benchmark.js";
import { evaluate } from "../src/commands/eval.js";
import { scriptedServer } from "./helpers.js";

const rows = readFileSync(builtinBenchmarkPath("math500"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as { id: string; problem: string; answer: string });

describe("MATH-500 through the real verifier", () => {
  it("a response boxing the gold LaTeX answer is correct for all 500 problems, a perturbed one for none", async () => {
    // Sample 0 boxes the gold answer inside a sentence; sample 1 boxes gold + 1 (never equal).
    const server = await scriptedServer((r) => {
      const p = rows.find((q) => r.prompt.startsWith(q.problem))!;
      const texts = [`Simplifying, the answer is $\\boxed{${p.answer}}$.`, `So we get $\\boxed{${p.answer}+1}$.`];
      return texts.slice(0, r.n).map((text) => ({ text }));
    });
    try {
      const { results, run } = await evaluate({
        benchmark: "math500",
        baseUrl: server.url,
        model: "scripted",
        n: 2,
        ks: [1, 2],
        temperature: 0.6,
        topP: 0.95,
        seed: 0,
        concurrency: 8,
        quiet: true,
      });
      expect(results.problems).toBe(500);
      const wrongGold = run.samples.filter((s) => s.sample === 0 && !s.correct).map((s) => s.problemId);
      expect(wrongGold).toEqual([]);
      expect(run.samples.filter((s) => s.sample === 1 && s.correct)).toEqual([]);
      expect(results.metrics["pass@1"]).toBe(0.5);
      expect(results.metrics["pass@2"]).toBe(1);
      expect(results.verifyErrors).toBe(0);
    } finally {
      await server.close();
    }
  });
});
