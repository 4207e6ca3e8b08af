import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { builtinBenchmarkPath } from "../src/benchmark.js";
import { evaluate } from "../src/commands/eval.js";

const rows = readFileSync(builtinBenchmarkPath("math500"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as { id: string; problem: string; answer: string });

describe("MATH-500 through the real verifier", () => {
  it("a response boxing the gold LaTeX answer is correct for all 500 problems, a perturbed one for none", async () => {
    // Sample 0 boxes the gold answer inside a sentence; sample 1 boxes gold + 1 (never equal).
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        const r = JSON.parse(body) as { prompt: string; n: number };
        const p = rows.find((q) => r.prompt.startsWith(q.problem))!;
        const texts = [`Simplifying, the answer is $\\boxed{${p.answer}}$.`, `So we get $\\boxed{${p.answer}+1}$.`];
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: texts.slice(0, r.n).map((text, index) => ({ index, text, finish_reason: "stop" })),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { results, run } = await evaluate({
        benchmark: "math500",
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
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
      server.close();
    }
  });
});
