import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type EvalProblem, type SampleSource, type Verifier, memoryStore, problemSeed, runEval } from "../src/index.js";
import { jsonlSampleStore } from "../src/node.js";

const problems: EvalProblem[] = ["p0", "p1", "p2", "p3"].map((id, i) => ({ id, problem: `q${i}`, answer: String(i) }));
// Problem i is answered correctly in exactly CORRECT[i] of its n = 4 samples (the first ones).
const CORRECT = [0, 1, 3, 4];

function scripted(): SampleSource & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async sample(problem, n, seed) {
      calls.push(problem.id);
      const i = Number(problem.answer);
      return Array.from({ length: n }, (_, j) => ({
        text: `seed ${seed} answer \\boxed{${j < CORRECT[i]! ? i : 100 + j}}`,
        finishReason: "stop" as const,
      }));
    },
  };
}

const boxed: Verifier = {
  async verify(items) {
    return items.map(({ problem, response }) => {
      const extracted = /\\boxed\{([^}]*)\}/.exec(response)?.[1] ?? "";
      return { extracted, correct: extracted === problem.answer };
    });
  },
};

describe("runEval", () => {
  it("computes pass@k, mean@n and maj@n from the verdicts", async () => {
    const source = scripted();
    const progress: number[] = [];
    const run = await runEval({
      problems,
      source,
      verifier: boxed,
      n: 4,
      ks: [1, 2, 4],
      concurrency: 2,
      onProgress: (p) => progress.push(p.done),
    });
    // pass@1 = (0 + 1/4 + 3/4 + 1) / 4 = 0.5
    expect(run.metrics["pass@1"]).toBeCloseTo(0.5, 15);
    // pass@2: c=1 -> 1 - C(3,2)/C(4,2) = 1/2; c=3 -> 1; c=4 -> 1
    expect(run.metrics["pass@2"]).toBeCloseTo((0 + 0.5 + 1 + 1) / 4, 15);
    expect(run.metrics["pass@4"]).toBeCloseTo(3 / 4, 15);
    expect(run.metrics["mean@4"]).toBeCloseTo(0.5, 15);
    // Wrong answers are all distinct (100+j), so the majority is the correct one whenever c >= 2,
    // and for c = 1 the tie goes to the first sample, which is the correct one.
    expect(run.metrics["maj@4"]).toBeCloseTo(3 / 4, 15);
    expect(run.samples).toHaveLength(16);
    expect(run.samples[0]).toMatchObject({ problemId: "p0", sample: 0, seed: problemSeed(0, "p0") });
    expect(progress).toEqual([0, 1, 2, 3, 4]);
  });

  it("resumes: finished problems are not generated again, and the result is the same", async () => {
    const full = await runEval({ problems, source: scripted(), verifier: boxed, n: 4, ks: [1, 4] });
    // Keep p0 and p2 whole, half of p1.
    const kept = full.samples.filter(
      (r) => r.problemId === "p0" || r.problemId === "p2" || (r.problemId === "p1" && r.sample < 2),
    );
    const store = memoryStore(kept);
    const source = scripted();
    const again = await runEval({ problems, source, verifier: boxed, n: 4, ks: [1, 4], store });
    expect(source.calls.sort()).toEqual(["p1", "p3"]);
    expect(again.generated).toBe(2);
    expect(store.records).toHaveLength(16);
    expect(again.metrics).toEqual(full.metrics);
    expect(again.stderr).toEqual(full.stderr);
    expect(again.samples).toEqual(full.samples);
  });

  it("stores samples.jsonl and drops a last line cut short by a kill", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-store-"));
    const path = join(dir, "samples.jsonl");
    const first = await runEval({ problems, source: scripted(), verifier: boxed, n: 4, store: jsonlSampleStore(path) });
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(16);
    // Simulate a kill during the write of p3's record: half a line at the end.
    const cut = `${lines.slice(0, 12).join("\n")}\n${lines[12]!.slice(0, 20)}`;
    writeFileSync(path, cut);
    const source = scripted();
    const resumed = await runEval({ problems, source, verifier: boxed, n: 4, store: jsonlSampleStore(path) });
    expect(source.calls).toEqual(["p3"]);
    expect(resumed.metrics).toEqual(first.metrics);
    const after = readFileSync(path, "utf8").trim().split("\n");
    expect(after.filter((l) => l.startsWith("{") && l.endsWith("}"))).toHaveLength(16);
    expect((await jsonlSampleStore(path).load()).length).toBe(16);
  });

  it("a foreign line in samples.jsonl is an error naming the line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-store-"));
    const path = join(dir, "samples.jsonl");
    writeFileSync(path, '{"hello":1}\n{"problemId":"p0"}\n');
    await expect(jsonlSampleStore(path).load()).rejects.toThrow(/samples.jsonl:1: not a sample record/);
  });

  it("rejects k > n, duplicate ids and an engine that returns too few samples", async () => {
    await expect(runEval({ problems, source: scripted(), verifier: boxed, n: 2, ks: [4] })).rejects.toThrow(
      /k must be an integer in \[1, n=2\], got 4/,
    );
    await expect(
      runEval({ problems: [problems[0]!, problems[0]!], source: scripted(), verifier: boxed, n: 1 }),
    ).rejects.toThrow(/"p0" occurs twice/);
    const short: SampleSource = { sample: async () => [{ text: "x", finishReason: "stop" }] };
    await expect(runEval({ problems, source: short, verifier: boxed, n: 3 })).rejects.toThrow(
      /asked the engine for 3 samples, got 1/,
    );
  });

  it("problem seeds depend on the seed and the id, not the order", () => {
    expect(problemSeed(0, "p1")).toBe(problemSeed(0, "p1"));
    expect(problemSeed(0, "p1")).not.toBe(problemSeed(1, "p1"));
    expect(problemSeed(0, "p1")).not.toBe(problemSeed(0, "p2"));
  });
});
