import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { tf, useBackend } from "@tokenrl/core";
import { runPolicyCli } from "../src/commands.js";
import { CharTokenizer, loadPolicy } from "../src/index.js";

const tmp = mkdtempSync(join(tmpdir(), "policy-cli-"));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const code = await runPolicyCli(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("tokenrl-policy CLI", () => {
  const dir = join(tmp, "ckpt");
  beforeAll(async () => {
    process.env.TOKENRL_BACKEND = "wasm";
    await useBackend("wasm");
    const config = {
      model_type: "llama",
      vocab_size: 128,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      tie_word_embeddings: true,
    };
    writeFileSync(join(tmp, "config.json"), JSON.stringify(config));
    const r = await run(["init", "--config", join(tmp, "config.json"), "--out", dir, "--seed", "4"]);
    expect(r.code).toBe(0);
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    delete process.env.TOKENRL_BACKEND;
  });

  it("init writes an HF checkpoint with the character tokenizer and its special ids", async () => {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config).toMatchObject({
      model_type: "llama",
      eos_token_id: 2,
      bos_token_id: 1,
      pad_token_id: 0,
      tie_word_embeddings: true,
    });
    const { model, tokenizer } = await loadPolicy(dir);
    expect(tokenizer.encode("ab")).toEqual(new CharTokenizer().encode("ab"));
    model.dispose();
  });

  it("score prints one entry per id, null first, log-probs <= 0 and entropies within [0, log V]", async () => {
    const r = await run(["score", "--model", dir, "--text", "abc"]);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out);
    expect(got.ids).toEqual(new CharTokenizer().encode("abc"));
    expect(got.logProbs[0]).toBeNull();
    expect(got.entropies[0]).toBeNull();
    for (let i = 1; i < 3; i++) {
      expect(got.logProbs[i]).toBeLessThanOrEqual(0);
      expect(got.entropies[i]).toBeGreaterThan(0);
      expect(got.entropies[i]).toBeLessThanOrEqual(Math.log(128) + 1e-5);
    }
    const withBos = JSON.parse((await run(["score", "--model", dir, "--text", "abc", "--add-special-tokens"])).out);
    expect(withBos.ids).toEqual([1, ...got.ids]);
  });

  it("generate at temperature 0 is greedy: each token is the argmax the score command implies", async () => {
    const r = await run([
      "generate",
      "--model",
      dir,
      "--prompt",
      "ab",
      "--max-tokens",
      "3",
      "--temperature",
      "0",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out);
    expect(got.ids.length).toBeGreaterThan(0);
    expect(got.ids.length).toBeLessThanOrEqual(3);
    // re-scoring prompt + generated text gives the same log-prob for the first generated token
    const { model } = await loadPolicy(dir);
    const prompt = new CharTokenizer().encode("ab");
    const logits = tf.tidy(() => {
      const out = model.forward(tf.tensor2d([prompt], [1, 2], "int32"));
      out.cache.dispose();
      return tf.reshape(tf.slice(out.logits, [0, 1, 0], [1, 1, -1]), [-1]);
    });
    const row = Array.from(logits.dataSync());
    expect(got.ids[0]).toBe(row.indexOf(Math.max(...row)));
    logits.dispose();
    model.dispose();
    const sampled = JSON.parse(
      (
        await run([
          "generate",
          "--model",
          dir,
          "--prompt",
          "ab",
          "--max-tokens",
          "4",
          "--top-k",
          "5",
          "--top-p",
          "0.9",
          "--seed",
          "3",
          "--json",
        ])
      ).out,
    );
    const again = JSON.parse(
      (
        await run([
          "generate",
          "--model",
          dir,
          "--prompt",
          "ab",
          "--max-tokens",
          "4",
          "--top-k",
          "5",
          "--top-p",
          "0.9",
          "--seed",
          "3",
          "--json",
        ])
      ).out,
    );
    expect(again.ids).toEqual(sampled.ids);
    // Raw log-probs are the model's own softmax: never above the processed (renormalised top-k/top-p) ones.
    const raw = JSON.parse(
      (
        await run([
          "generate",
          "--model",
          dir,
          "--prompt",
          "ab",
          "--max-tokens",
          "4",
          "--top-k",
          "5",
          "--top-p",
          "0.9",
          "--seed",
          "3",
          "--logprobs-mode",
          "raw",
          "--json",
        ])
      ).out,
    );
    expect(raw.ids).toEqual(sampled.ids);
    raw.logProbs.forEach((lp: number, t: number) => expect(lp).toBeLessThanOrEqual(sampled.logProbs[t] + 1e-6));
    const bad = await run(["generate", "--model", dir, "--prompt", "ab", "--logprobs-mode", "bogus"]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("--logprobs-mode");
  });

  it("--help works on every command and a missing flag is an error naming it", async () => {
    for (const cmd of ["init", "score", "generate"]) {
      const r = await run([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`tokenrl-policy ${cmd}`);
    }
    expect((await run(["--help"])).out).toContain("Commands:");
    const bad = await run(["score", "--model", dir]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("--text is required");
  });
});
