import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ARMS, COMPARISONS } from "../src/arms.mjs";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");

// Slow (the whole pipeline: a warm-start, 8 arms x 2 seeds of training and evaluation; about
// 1-2 minutes on 2 idle cores). Its numbers answer nothing; it checks that every file is written
// and every statistic is where results.md and docs/results.md say.
describe("pnpm study --quick (slow: 1-2 min on idle cores)", () => {
  it("writes results.md, results.json and report.html with every arm, difference and k", async () => {
    const out = mkdtempSync(join(tmpdir(), "study-quick-"));
    // Asynchronous, so the test worker stays responsive while the study runs; the timeout only
    // guards a hang (a loaded shared machine can stretch the ~1 minute to several).
    await promisify(execFile)(process.execPath, [join(pkg, "bin", "study.mjs"), "--quick", "--out", out, "--quiet"], {
      cwd: pkg,
      encoding: "utf8",
      timeout: 900_000,
    });
    for (const f of ["results.md", "results.json", "report.html"]) expect(existsSync(join(out, f)), f).toBe(true);

    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.study.quick).toBe(true);
    expect(results.study.seeds).toEqual([0, 1]);
    expect(results.study.arms).toEqual(ARMS.map((a) => a.name));
    const n = results.study.budget.heldOut.n;
    expect(n).toBe(16);
    for (const arm of results.study.arms) {
      const m = results.arms[arm].metrics;
      expect(Object.keys(m)).toEqual([`mean@${n}`, ...Array.from({ length: n }, (_, i) => `pass@${i + 1}`)]);
      for (const s of Object.values(m)) {
        expect(s.mean).toBeGreaterThanOrEqual(0);
        expect(s.mean).toBeLessThanOrEqual(1);
        expect(s.stderr).toBeGreaterThanOrEqual(0);
        expect(s.ci[0]).toBeLessThanOrEqual(s.mean + 1e-12);
        expect(s.ci[1]).toBeGreaterThanOrEqual(s.mean - 1e-12);
        expect(s.perSeed).toHaveLength(2);
      }
      // pass@k never falls with k.
      for (let k = 2; k <= n; k++) expect(m[`pass@${k}`].mean).toBeGreaterThanOrEqual(m[`pass@${k - 1}`].mean - 1e-12);
      // mean@n equals pass@1 (both are the mean verdict).
      expect(m[`mean@${n}`].mean).toBeCloseTo(m["pass@1"].mean, 12);
    }
    expect(results.comparisons.map((c) => `${c.a}-${c.b}`)).toEqual(COMPARISONS.map((c) => `${c.a}-${c.b}`));
    for (const c of results.comparisons) {
      const d = c.metrics[`mean@${n}`];
      expect(d.mean).toBeCloseTo(
        results.arms[c.a].metrics[`mean@${n}`].mean - results.arms[c.b].metrics[`mean@${n}`].mean,
        12,
      );
      expect(d.ci[0]).toBeLessThanOrEqual(d.ci[1]);
      expect(d.perSeed).toHaveLength(2);
    }
    expect(results.task.length.mean).toBeGreaterThan(0);
    expect(results.task.entropy.tokens).toBeGreaterThan(0);
    expect(results.task.difficulty.length).toBeGreaterThan(0);
    for (const arm of ["htpo", "htpo-released", "htpo-no-difficulty", "htpo-no-correctness", "htpo-no-entropy"])
      expect(results.dynamics[arm].hardTokenShare, arm).toBeTruthy();
    expect(results.dynamics.dapo.hardTokenShare).toBeUndefined();

    const md = readFileSync(join(out, "results.md"), "utf8");
    expect(md).toContain("--quick");
    expect(md).toContain("| htpo - dapo |");
    expect(md).toContain("| cppo - grpo |");
    expect(md).toContain("## htpo - dapo per k");
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("htpo: entropy per HTPO cell");
    expect(html).toContain("Response length");
    expect(html).toContain("Clip fraction");
    expect(html).toContain("<svg");
  });
});
