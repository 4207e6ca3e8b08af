import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";
import { train } from "../src/train.js";

// A run small enough for a test: a 1-layer, 16-wide model, 4 prompts x 4 samples; the warm-up
// makes some answers right so that dynamic sampling keeps groups to train on.
const TINY = {
  model: { hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1 },
  sft: { steps: 20, batchSize: 32, learningRate: 1e-2 },
  rl: { steps: 4, promptsPerStep: 4, groupSize: 4, maxGenerationBatches: 2, miniBatches: 2 },
  eval: { examples: 8, every: 2 },
  checkpoint: { every: 1 },
};

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function rlRecords(out: string) {
  return readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((r) => r.phase === "rl")
    .map(({ seconds: _s, rolloutSeconds: _r, ...rest }) => rest);
}

describe("train", () => {
  it("runs warm-up and HTPO, writing metrics, a Hugging Face checkpoint and a report", async () => {
    const out = mkdtempSync(join(tmpdir(), "trainer-run-"));
    const result = await train(resolveConfig(TINY, { out }), { progress: false });
    expect(result.completed).toBe(true);
    const records = result.records;
    expect(records.filter((r) => r.phase === "sft")).toHaveLength(20);
    const rl = records.filter((r) => r.phase === "rl");
    expect(rl.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    const trained = rl.filter((r) => !r.skipped);
    expect(trained.length).toBeGreaterThan(0);
    for (const r of trained) {
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(r.nonFiniteMiniBatches).toBe(0);
      // HTPO reports its eight cells and the two detach subsets.
      const cells = Object.keys(r).filter((k) => /^policy\/cells\/.+\/tokens$/.test(k));
      expect(cells.length).toBe(10);
    }
    for (const f of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "optimizer.safetensors",
      "trainer-state.json",
    ]) {
      expect(existsSync(join(out, "checkpoint", f)), f).toBe(true);
    }
    const html = readFileSync(result.reportPath, "utf8");
    expect(html).toContain("<svg");
    expect(html).toContain('id="final-accuracy"');
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.summary.rlSteps).toBe(4);
    expect(report.summary.finalAccuracy).toBe(result.finalEval.accuracy);
  });

  it("refuses to resume a checkpoint written with another configuration", async () => {
    const out = mkdtempSync(join(tmpdir(), "trainer-mismatch-"));
    await train(resolveConfig(TINY, { out, rl: { ...TINY.rl, steps: 1 } }), { progress: false });
    await expect(
      train(resolveConfig(TINY, { out, rl: { ...TINY.rl, groupSize: 2 } }), { progress: false }),
    ).rejects.toThrow(/was written by a run with a different configuration/);
  });

  it("resumes a run killed with SIGKILL and ends exactly where an uninterrupted run ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trainer-kill-"));
    const configPath = join(dir, "config.json");
    writeFileSync(configPath, JSON.stringify({ ...TINY, rl: { ...TINY.rl, steps: 6 } }));
    const run = (out: string, killAfterRlStep?: number) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, [cli, "--config", configPath, "--out", out, "--quiet"], {
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (d) => {
          stderr += d;
        });
        let timer: NodeJS.Timeout | undefined;
        if (killAfterRlStep !== undefined) {
          timer = setInterval(() => {
            const path = join(out, "metrics.jsonl");
            if (!existsSync(path)) return;
            const steps = readFileSync(path, "utf8")
              .split("\n")
              .filter((l) => l.includes('"phase":"rl"')).length;
            if (steps >= killAfterRlStep) child.kill("SIGKILL");
          }, 5);
        }
        child.on("error", reject);
        child.on("exit", (code, signal) => {
          if (timer) clearInterval(timer);
          if (code !== 0 && signal !== "SIGKILL") reject(new Error(`exit ${code}: ${stderr}`));
          else resolve(code);
        });
      });
    const straight = join(dir, "straight");
    const killed = join(dir, "killed");
    expect(await run(straight)).toBe(0);
    expect(await run(killed, 3)).toBeNull();
    expect(rlRecords(killed).length).toBeLessThan(6);
    expect(await run(killed)).toBe(0);
    expect(rlRecords(killed)).toEqual(rlRecords(straight));
    const weights = (out: string) => readFileSync(join(out, "checkpoint", "model.safetensors"));
    expect(weights(killed).equals(weights(straight))).toBe(true);
  });
});
