import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinBenchmarkPath } from "../src/benchmark.js";
import { type ScriptedRequest, runCli, scriptedServer } from "./helpers.js";

/** AIME 2024 as shipped: {id, problem, answer}. */
const aime = readFileSync(builtinBenchmarkPath("aime24"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as { id: string; problem: string; answer: string });

const N = 8;
/** Problem i is answered correctly in exactly CORRECT(i) of its N samples: 0..8 cycling. */
const CORRECT = (i: number) => (i * 5) % (N + 1);

/**
 * Answers each problem correctly in a known number of its n samples, wrongly
 * (a different integer, or no boxed answer at all) in the others.
 */
function answerAime(r: ScriptedRequest) {
  const i = aime.findIndex((p) => r.prompt.startsWith(p.problem));
  if (i < 0) return null;
  const gold = Number(aime[i]!.answer);
  return Array.from({ length: r.n }, (_, j) => ({
    text:
      j < CORRECT(i)
        ? `Step by step ... so the answer is \\boxed{${gold}}.`
        : j % 2
          ? `I think it is \\boxed{${gold + 1 + j}}.`
          : "I cannot finish this.",
    finishReason: (j % 3 === 2 ? "length" : "stop") as "stop" | "length",
  }));
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

describe("eval of a scripted OpenAI-compatible server on AIME 2024", () => {
  let server: Awaited<ReturnType<typeof scriptedServer>>;
  let url = "";
  let requests: ScriptedRequest[] = [];
  beforeAll(async () => {
    server = await scriptedServer(answerAime);
    url = server.url;
    requests = server.requests;
  });
  afterAll(() => server.close());

  it("reproduces the exactly computed pass@1, pass@4 and mean@n, and resumes without asking again", async () => {
    const out = mkdtempSync(join(tmpdir(), "bench-aime-"));
    const args = ["eval", "--benchmark", "aime24", "--base-url", url, "--model", "scripted", "--n", String(N)];
    const run = await runCli([...args, "--k", "1,4,8", "--concurrency", "4", "--seed", "3", "--out", out, "--quiet"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(aime).toHaveLength(30);
    // Hand computation: pass@k per problem = 1 - C(N-c, k) / C(N, k), averaged over the 30 problems.
    const cs = aime.map((_, i) => CORRECT(i));
    const passAt = (k: number) => cs.reduce((s, c) => s + (1 - binom(N - c, k) / binom(N, k)), 0) / cs.length;
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results).toMatchObject({ benchmark: "aime24", model: `scripted@${url}`, n: N, verifyErrors: 0 });
    expect(results.metrics["pass@1"]).toBeCloseTo(cs.reduce((s, c) => s + c / N, 0) / 30, 12);
    expect(results.metrics["pass@4"]).toBeCloseTo(passAt(4), 12);
    expect(results.metrics["pass@8"]).toBeCloseTo(cs.filter((c) => c > 0).length / 30, 12);
    expect(results.metrics[`mean@${N}`]).toBeCloseTo(cs.reduce((s, c) => s + c, 0) / (30 * N), 12);
    // maj@N: the correct answer wins when it has the most votes; wrong answers are all distinct, so c >= 2 wins,
    // c = 1 wins only when it is the first of the ties (sample 0 is the correct one), c = 0 loses.
    expect(results.metrics[`maj@${N}`]).toBeCloseTo(cs.filter((c) => c >= 1).length / 30, 12);
    for (const key of ["pass@1", "pass@4", "pass@8", `mean@${N}`, `maj@${N}`])
      expect(results.stderr[key]).toBeGreaterThan(0);
    // One request per problem, with n and a per-problem seed.
    expect(requests).toHaveLength(30);
    expect(new Set(requests.map((r) => r.seed)).size).toBe(30);
    expect(requests.every((r) => r.n === N && r.temperature === 0.6 && r.max_tokens === 1024)).toBe(true);
    const lines = readFileSync(join(out, "samples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(30 * N);
    const first = lines.find((l) => l.problemId === aime[1]!.id && l.sample === 0);
    expect(first).toMatchObject({ extracted: aime[1]!.answer, correct: true });

    // The report draws pass@k for every k in 1..N from the per-problem counts.
    expect(readFileSync(join(out, "report.html"), "utf8")).toMatch(/data-series="scripted@[^"]+" data-points="8"/);

    // Again with the same --out: everything is read back, nothing is asked.
    const again = await runCli([...args, "--k", "1,4,8", "--seed", "3", "--out", out, "--quiet"]);
    expect(again.code).toBe(0);
    expect(requests).toHaveLength(30);
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).metrics).toEqual(results.metrics);
    // A different sampling setting on the same --out is refused, naming it.
    const changed = await runCli([...args, "--temperature", "1", "--out", out, "--quiet"]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/temperature=0.6, this run has 1; use another --out or --fresh/);
  });
});
