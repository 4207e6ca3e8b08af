import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate } from "../src/commands/eval.js";
import { scriptedServer } from "./helpers.js";

const FENCE = "```";

describe("eval on code problems with tests", () => {
  it("runs each sample's program against the problem's tests in the sandbox: right code passes, wrong code fails", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-code-"));
    const data = join(dir, "code.jsonl");
    const problems = [
      {
        id: "sum",
        problem: "Read two integers a and b from one line and print a+b.",
        input_output: { inputs: ["1 2\n", "5 7\n"], outputs: ["3\n", "12\n"] },
      },
      {
        id: "rev",
        problem: "Read one line and print it reversed.",
        input_output: { inputs: ["abc\n"], outputs: ["cba\n"] },
      },
    ];
    writeFileSync(
      data,
      problems.map((p) => JSON.stringify({ ...p, input_output: JSON.stringify(p.input_output) })).join("\n"),
    );
    const spec = join(dir, "task.json");
    writeFileSync(spec, JSON.stringify({ name: "code-jsonl", test: data }));
    const right: Record<string, string> = {
      sum: "a, b = map(int, input().split())\nprint(a + b)",
      rev: "print(input()[::-1])",
    };
    // Sample 0 solves the problem, sample 1 prints a constant.
    const server = await scriptedServer((r) => {
      const p = problems.find((q) => r.prompt.startsWith(q.problem))!;
      return [right[p.id]!, "print(42)"]
        .slice(0, r.n)
        .map((c) => ({ text: `Here:\n${FENCE}python\n${c}\n${FENCE}\n` }));
    });
    try {
      const out = join(dir, "out");
      const { results } = await evaluate({
        benchmark: spec,
        baseUrl: server.url,
        model: "scripted",
        n: 2,
        ks: [1, 2],
        temperature: 0.6,
        topP: 0.95,
        seed: 0,
        concurrency: 2,
        out,
        quiet: true,
      });
      const samples = readFileSync(join(out, "samples.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(samples.map((s) => [s.sample, s.correct]).sort()).toEqual([
        [0, true],
        [0, true],
        [1, false],
        [1, false],
      ]);
      expect(results.metrics["pass@1"]).toBe(0.5);
      expect(results.metrics["pass@2"]).toBe(1);
      expect(results.verifyErrors).toBe(0);
    } finally {
      await server.close();
    }
  });
});
