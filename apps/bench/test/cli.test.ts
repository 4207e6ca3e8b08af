import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli-main.js";
import { runCli } from "./helpers.js";

describe("tokenrl-bench CLI", () => {
  it("--help lists every command, and every command has --help", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) {
      expect(top.stdout).toContain(`  ${c.name}`);
      const h = await runCli([c.name, "--help"]);
      expect(h.code, c.name).toBe(0);
      expect(h.stdout, c.name).toMatch(new RegExp(`^tokenrl-bench ${c.name}: `));
      expect(h.stdout, c.name).toContain("usage: tokenrl-bench");
    }
  });

  it("bad usage exits 2 with a one-line reason", async () => {
    const unknown = await runCli(["evaluate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "evaluate"; commands: eval, compare, report, serve, score/);
    const flag = await runCli(["eval", "--benchmark", "aime24", "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--bogus/);
    // score: the flag named is the one that is missing.
    const noResponse = await runCli(["score", "--model", "x", "--prompt", "2+2="]);
    expect(noResponse.code).toBe(2);
    expect(noResponse.stderr).toMatch(/--response/);
    const both = await runCli(["score", "--model", "x", "--texts", "t.jsonl", "--response", "4"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
    const k = await runCli(["eval", "--benchmark", "aime24", "--model", "x", "--n", "2", "--k", "1,4"]);
    expect(k.code).toBe(2);
    expect(k.stderr).toMatch(/each k must be in \[1, n=2\], got 4/);
    const bench = await runCli(["eval", "--benchmark", "aime2024", "--model", "x"]);
    expect(bench.stderr).toMatch(/"aime2024" is neither a built-in \(aime24, amc23, math500\)/);
  });

  it("report gathers eval folders and run folders into one HTML file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-report-"));
    const evalDir = join(dir, "aime");
    const runDir = join(dir, "run");
    for (const d of [evalDir, runDir]) await import("node:fs").then((fs) => fs.mkdirSync(d));
    writeFileSync(
      join(evalDir, "results.json"),
      JSON.stringify({
        benchmark: "aime24",
        model: "m",
        n: 4,
        metrics: { "pass@1": 0.25, "pass@4": 0.5, "mean@4": 0.25 },
        stderr: { "pass@1": 0.1 },
      }),
    );
    writeFileSync(
      join(runDir, "metrics.jsonl"),
      [1, 2, 3]
        .map((step) => JSON.stringify({ phase: "rl", step, "critic/score/mean": step / 4, "actor/entropy": 1 / step }))
        .join("\n"),
    );
    const r = await runCli(["report", evalDir, runDir, "--out", join(dir, "r.html"), "--title", "mine"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 runs, 1 evaluations/);
    const html = readFileSync(join(dir, "r.html"), "utf8");
    expect(html).toContain("<title>mine</title>");
    expect(html).toContain('data-series="m" data-points="2"');
    expect(html).toContain('data-series="critic/score/mean" data-points="3"');
    expect(html).toContain("25.0 ± 10.0");
    const none = await runCli(["report", dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/holds neither a training run/);
  });
});
