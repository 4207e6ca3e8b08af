import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate } from "../src/commands/eval.js";
import { tinyCheckpoint } from "./helpers.js";

describe("eval on an environment's held-out tasks", () => {
  it("runs n agent episodes per offline ALFWorld game and scores them by the episode reward", async () => {
    const ckpt = await tinyCheckpoint(4);
    const dir = mkdtempSync(join(tmpdir(), "bench-alf-"));
    const spec = join(dir, "alfworld.json");
    writeFileSync(spec, JSON.stringify({ name: "alfworld", maxTurns: 2, maxTurnTokens: 6, maxResponseTokens: 600 }));
    const out = join(dir, "out");
    const { results } = await evaluate({
      benchmark: spec,
      model: ckpt,
      limit: 2,
      n: 2,
      ks: [1, 2],
      temperature: 1,
      topP: 1,
      seed: 0,
      concurrency: 1,
      out,
      quiet: true,
    });
    expect(results.problems).toBe(2);
    const lines = readFileSync(join(out, "samples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(typeof l.episodeReward).toBe("number");
      // A random 1-layer policy does not solve a household game in two turns: reward 0, not correct.
      expect(l.correct).toBe(l.episodeReward >= 1);
      expect(l.responseTokens).toBeGreaterThan(0);
    }
    expect(results.metrics["mean@2"]).toBe(lines.filter((l) => l.correct).length / 4);
    await expect(
      evaluate({
        benchmark: spec,
        model: "m",
        baseUrl: "http://127.0.0.1:9",
        n: 1,
        ks: [1],
        temperature: 1,
        topP: 1,
        seed: 0,
        concurrency: 1,
        quiet: true,
      }),
    ).rejects.toThrow(/agent task: its episodes run through the agent loop on a local checkpoint/);
  });
});
