import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf } from "@tokenrl/core";
import { generate } from "@tokenrl/rollout";
import { beforeAll, describe, expect, it } from "vitest";
import { scoreTexts } from "../src/commands/score.js";
import { loadLocal } from "../src/engine.js";
import { runCli, tinyCheckpoint } from "./helpers.js";

let ckpt: string;
beforeAll(async () => {
  ckpt = await tinyCheckpoint(5);
});

describe("score", () => {
  it("gives the log-probs the sampler drew the tokens with (temperature 1, raw mode), and entropies in [0, log V]", async () => {
    const { policy } = await loadLocal(ckpt, false);
    try {
      const prompt = "Q: 2+2=";
      const ids = policy.tokenizer.encode(prompt);
      const { sequences } = await generate(policy.model, [ids], {
        temperature: 1,
        maxTokens: 8,
        logProbsMode: "raw",
        ignoreEos: true,
        seed: 4,
        tokenizer: policy.tokenizer,
      });
      const seq = sequences[0]!;
      const response = policy.tokenizer.decode(seq.responseIds);
      expect(policy.tokenizer.encode(response)).toEqual(seq.responseIds);
      const before = tf.memory().numTensors;
      const [scored] = scoreTexts(policy, [{ prompt, response }]);
      expect(tf.memory().numTensors).toBe(before);
      expect(scored!.tokenIds).toEqual(seq.responseIds);
      scored!.logProbs.forEach((lp, t) => expect(lp).toBeCloseTo(seq.rolloutLogProbs[t]!, 4));
      expect(scored!.totalLogProb).toBeCloseTo(
        seq.rolloutLogProbs.reduce((a, b) => a + b, 0),
        3,
      );
      const V = policy.model.config.vocabSize;
      for (const h of scored!.entropies) {
        expect(h).toBeGreaterThan(0);
        expect(h).toBeLessThanOrEqual(Math.log(V) + 1e-5);
      }
    } finally {
      policy.model.dispose();
    }
  });

  it("the CLI reads JSONL texts and writes JSON; a bad line is named", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-score-"));
    writeFileSync(
      join(dir, "texts.jsonl"),
      `${JSON.stringify({ prompt: "a", response: "bc" })}\n${JSON.stringify({ prompt: "x", response: "y" })}\n`,
    );
    const r = await runCli([
      "score",
      "--model",
      ckpt,
      "--texts",
      join(dir, "texts.jsonl"),
      "--out",
      join(dir, "s.json"),
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, "s.json"), "utf8"));
    expect(out).toHaveLength(2);
    expect(out[0].tokens).toEqual(["b", "c"]);
    expect(out[0].logProbs).toHaveLength(2);
    writeFileSync(join(dir, "bad.jsonl"), '{"prompt":"a"}\n');
    const bad = await runCli(["score", "--model", ckpt, "--texts", join(dir, "bad.jsonl")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad.jsonl:1: needs a string "response"/);
  });
});
