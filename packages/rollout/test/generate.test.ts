import {
  ConfigError,
  InvalidInputError,
  disposeBatch,
  setKernelPath,
  tf,
  useBackend,
  validateBatch,
} from "@tokenrl/core";
import type { Tensor2D } from "@tokenrl/core";
import { generate as policyGenerate, scoreResponses } from "@tokenrl/policy";
import type { KVCache } from "@tokenrl/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { generate, generateBatch, prefillPrompts, toTrainingBatch } from "../src/index.js";
import { tinyPolicy, tokenizer } from "./helpers.js";

const PROMPTS = ["2+2=", "hello, wor", "a"].map((t) => tokenizer.encode(t));

describe.each(TEST_BACKENDS)("generate on %s", (backend) => {
  let model: ReturnType<typeof tinyPolicy>;
  beforeAll(async () => {
    await useBackend(backend);
    model = tinyPolicy();
  });
  afterAll(() => model.dispose());

  it("greedy with the KV cache emits exactly the tokens of full recomputation", async () => {
    const opts = { temperature: 0, maxTokens: 12, ignoreEos: true, tokenizer };
    const cached = await generate(model, PROMPTS, opts);
    const full = await generate(model, PROMPTS, { ...opts, useCache: false });
    expect(cached.sequences.map((s) => s.responseIds)).toEqual(full.sequences.map((s) => s.responseIds));
    cached.sequences.forEach((s, b) =>
      s.rolloutLogProbs.forEach((lp, t) => expect(lp).toBeCloseTo(full.sequences[b]!.rolloutLogProbs[t]!, 4)),
    );
    // One prefill plus one forward per further token.
    expect(cached.stats.forwardCalls).toBe(12);
    expect(cached.stats.generatedTokens).toBe(36);
  });

  it("left padding does not change a row: batched greedy equals each prompt alone", async () => {
    const opts = { temperature: 0, maxTokens: 8, ignoreEos: true };
    const batched = await generate(model, PROMPTS, opts);
    for (let b = 0; b < PROMPTS.length; b++) {
      const alone = await generate(model, [PROMPTS[b]!], opts);
      expect(batched.sequences[b]!.responseIds).toEqual(alone.sequences[0]!.responseIds);
    }
  });

  it("rolloutLogProbs at temperature 1 are the policy's own log-probs of the sampled tokens", async () => {
    const { batch } = await generateBatch(model, PROMPTS, { maxTokens: 10, seed: 3, tokenizer });
    const scored = scoreResponses(model, batch as Parameters<typeof scoreResponses>[1]);
    const a = batch.rolloutLogProbs!.arraySync();
    const b = scored.logProbs.arraySync();
    a.forEach((row, i) => row.forEach((v, t) => expect(v).toBeCloseTo(b[i]![t]!, 4)));
    tf.dispose([scored.logProbs, scored.entropy]);
    disposeBatch(batch);
  });

  it("is reproducible from a seed and differs across seeds", async () => {
    const run = async (seed: number) =>
      (await generate(model, PROMPTS, { maxTokens: 10, seed, ignoreEos: true })).sequences.map((s) => s.responseIds);
    const a = await run(1);
    expect(await run(1)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
  });

  it("finishes rows on a stop token, a stop string and maxTokens, and drops them from the batch", async () => {
    const free = await generate(model, PROMPTS, { temperature: 0, maxTokens: 10, ignoreEos: true, tokenizer });
    // Stop row 0 at the 3rd token by naming that token as a stop token.
    const stopToken = free.sequences[0]!.responseIds[2]!;
    const firstAt = (ids: number[]) => ids.indexOf(stopToken);
    const byToken = await generate(model, PROMPTS, {
      temperature: 0,
      maxTokens: 10,
      ignoreEos: true,
      stopTokenIds: [stopToken],
      tokenizer,
    });
    byToken.sequences.forEach((s, b) => {
      const full = free.sequences[b]!.responseIds;
      const at = firstAt(full);
      if (at >= 0) {
        expect(s.finishReason).toBe("stop");
        expect(s.stoppedBy).toBe(stopToken);
        // The stop token is kept in the response (trained on, like EOS) but not in the text.
        expect(s.responseIds).toEqual(full.slice(0, at + 1));
        expect(s.text).toBe(tokenizer.decode(full.slice(0, at)));
      } else {
        expect(s.finishReason).toBe("length");
        expect(s.responseIds).toEqual(full);
      }
    });
    // Stop string: the text of row 1's tokens 3..4, removed from the output text.
    const text1 = tokenizer.decode(free.sequences[1]!.responseIds);
    const stop = text1.slice(3, 5);
    const byString = await generate(model, [PROMPTS[1]!], {
      temperature: 0,
      maxTokens: 10,
      ignoreEos: true,
      stop: [stop],
      tokenizer,
    });
    const s = byString.sequences[0]!;
    const at = text1.indexOf(stop);
    expect(s.finishReason).toBe("stop");
    expect(s.stoppedBy).toBe(stop);
    expect(s.text).toBe(text1.slice(0, at));
    expect(s.responseIds).toEqual(free.sequences[1]!.responseIds.slice(0, at + stop.length));
    expect(free.sequences.every((q) => q.finishReason === "length" && q.responseIds.length === 10)).toBe(true);
  });

  it("builds the TrainingBatch fields: left-padded prompts, right-padded responses, masks and groupIds", async () => {
    const { batch, sequences } = await generateBatch(model, PROMPTS, {
      temperature: 0,
      maxTokens: 5,
      ignoreEos: true,
      groupIds: [0, 0, 1],
    });
    const { B, T } = validateBatch(batch, ["promptIds", "promptMask", "responseIds", "rolloutLogProbs", "groupIds"]);
    expect([B, T]).toEqual([3, 5]);
    expect(batch.promptIds!.shape).toEqual([3, 10]);
    // "a" is one token, left-padded with 9 pads.
    expect(batch.promptMask!.arraySync()[2]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(batch.promptIds!.arraySync()[2]!.slice(0, 9)).toEqual(new Array(9).fill(tokenizer.padTokenId));
    expect(batch.responseIds!.arraySync()).toEqual(sequences.map((s) => s.responseIds));
    expect(Array.from(batch.groupIds!.dataSync())).toEqual([0, 0, 1]);
    disposeBatch(batch);
    const ragged = toTrainingBatch(
      [
        { promptIds: [5], responseIds: [7, 8, 2], rolloutLogProbs: [-1, -2, -3], finishReason: "stop", text: "" },
        { promptIds: [5, 6], responseIds: [9], rolloutLogProbs: [-4], finishReason: "stop", text: "" },
      ],
      { padTokenId: 0 },
    );
    expect(ragged.responseMask.arraySync()).toEqual([
      [1, 1, 1],
      [1, 0, 0],
    ]);
    expect(ragged.rolloutLogProbs!.arraySync()).toEqual([
      [-1, -2, -3],
      [-4, 0, 0],
    ]);
    disposeBatch(ragged);
  });

  it("leaks no tensors across 100 generation steps", async () => {
    await generate(model, PROMPTS, { maxTokens: 3 }); // warm-up: kernels may cache constants
    const before = tf.memory().numTensors;
    const out = await generate(model, PROMPTS, {
      maxTokens: 100,
      ignoreEos: true,
      topK: 20,
      topP: 0.9,
      minP: 0.01,
      seed: 9,
    });
    expect(out.stats.forwardCalls).toBe(100);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("prefill of repeated prompts", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });

  it("prefills a group's identical prompts once and samples every row as if alone", async () => {
    const model = tinyPolicy();
    const [p, q] = [tokenizer.encode("2+2="), tokenizer.encode("hello")];
    const prompts = [p, p, q, p, q];
    const opts = { temperature: 1, maxTokens: 6, seed: 9, ignoreEos: true };
    const batch = await generate(model, prompts, opts);
    // Row b alone, on its own stream (rowOffset b) and laid out as in the batch (padTo).
    for (const [b, prompt] of prompts.entries()) {
      const alone = await generate(model, [prompt], { ...opts, rowOffset: b, padTo: 5 });
      expect(batch.sequences[b]!.responseIds).toEqual(alone.sequences[0]!.responseIds);
      // Bit for bit: a row's arithmetic does not depend on its batch-mates, given the same layout.
      expect(batch.sequences[b]!.rolloutLogProbs).toEqual(alone.sequences[0]!.rolloutLogProbs);
    }
    // Copies of one prompt still draw different samples (their own streams).
    expect(new Set([0, 1, 3].map((b) => batch.sequences[b]!.responseIds.join(","))).size).toBeGreaterThan(1);
    model.dispose();
  });

  it("rowStreams: any subset of a batch's rows, in any order, draws those rows' tokens of the whole batch", async () => {
    const model = tinyPolicy();
    const [p, q] = [tokenizer.encode("2+2="), tokenizer.encode("hello")];
    const prompts = [p, q, p, q, p, q];
    const opts = { temperature: 1, maxTokens: 6, seed: 4, ignoreEos: true };
    const whole = await generate(model, prompts, opts);
    // Rows dealt round-robin to two callers (what the worker pool does), and one in reverse order.
    for (const rows of [
      [0, 2, 4],
      [1, 3, 5],
      [5, 2],
    ]) {
      const part = await generate(
        model,
        rows.map((b) => prompts[b]!),
        { ...opts, rowStreams: rows, padTo: 5 },
      );
      rows.forEach((b, i) => {
        expect(part.sequences[i]!.responseIds).toEqual(whole.sequences[b]!.responseIds);
        expect(part.sequences[i]!.rolloutLogProbs).toEqual(whole.sequences[b]!.rolloutLogProbs);
      });
    }
    await expect(generate(model, [p], { ...opts, rowStreams: [0, 1] })).rejects.toThrow(/expected one per prompt/);
    await expect(generate(model, [p], { ...opts, rowStreams: [-1] })).rejects.toThrow(/integer >= 0/);
    await expect(generate(model, [p], { ...opts, rowStreams: [0], rowOffset: 1 })).rejects.toThrow(/not both/);
    model.dispose();
  });

  it("prefill: distinct prompts prefilled one by one elsewhere and handed in give the whole call's tokens", async () => {
    const model = tinyPolicy();
    const [p, q, r] = [tokenizer.encode("2+2="), tokenizer.encode("hello"), tokenizer.encode("ab")];
    const prompts = [p, q, p, r, q, p];
    const opts = { temperature: 1, maxTokens: 6, seed: 9, ignoreEos: true };
    const whole = await generate(model, prompts, opts);
    const P = 5;
    const asked: (readonly number[])[] = [];
    const before = tf.memory().numTensors;
    const viaHook = await generate(model, prompts, {
      ...opts,
      prefill: (rows) => {
        asked.push(rows);
        // Each distinct prompt in its own forward (as a worker computes its share), then one cache of them all.
        const parts = rows.map((b) => prefillPrompts(model, [prompts[b]!], { padTo: P, maxLength: P }));
        const data = parts.map((x) => (x.cache as KVCache).toData());
        const cat = (arrays: Float32Array[]) => {
          const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
          let at = 0;
          for (const a of arrays) {
            out.set(a, at);
            at += a.length;
          }
          return out;
        };
        const layers = data[0]!.keys.map((_, l) => l);
        const cache = model.cacheFromData(
          {
            ...data[0]!,
            batchSize: rows.length,
            keys: layers.map((l) => cat(data.map((d) => d.keys[l]!))),
            values: layers.map((l) => cat(data.map((d) => d.values[l]!))),
            mask: cat(data.map((d) => d.mask)),
          },
          P + opts.maxTokens,
        );
        const logits = tf.concat(parts.map((x) => x.logits)) as Tensor2D;
        for (const x of parts) {
          x.logits.dispose();
          x.cache.dispose();
        }
        return { logits, cache };
      },
    });
    expect(asked).toEqual([[0, 1, 3]]);
    expect(viaHook.sequences.map((s) => s.responseIds)).toEqual(whole.sequences.map((s) => s.responseIds));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("prefill: a hook's wrong result is a typed error that frees it; no hook without the cache", async () => {
    const model = tinyPolicy();
    const prompts = [tokenizer.encode("2+2="), tokenizer.encode("hi")];
    const opts = { temperature: 1, maxTokens: 4, seed: 1 };
    const before = tf.memory().numTensors;
    // One row short: the cache and logits of the first prompt only.
    const short = () => prefillPrompts(model, [prompts[0]!], { padTo: 4, maxLength: 8 });
    await expect(generate(model, prompts, { ...opts, prefill: short })).rejects.toThrow(InvalidInputError);
    await expect(generate(model, prompts, { ...opts, prefill: short })).rejects.toThrow(
      /options\.prefill returned logits of shape \[1,/,
    );
    // The right rows, the wrong padded length.
    const unpadded = () => prefillPrompts(model, prompts, { padTo: 6, maxLength: 10 });
    await expect(generate(model, prompts, { ...opts, prefill: unpadded })).rejects.toThrow(
      /2 rows x 6 tokens, expected 2 x 4/,
    );
    // Not a prefill at all, and prefillPrompts without its options.
    const nothing = () => undefined as unknown as ReturnType<typeof prefillPrompts>;
    await expect(generate(model, prompts, { ...opts, prefill: nothing })).rejects.toThrow(
      /must return \{ logits, cache \}/,
    );
    expect(() => prefillPrompts(model, prompts, undefined as never)).toThrow(ConfigError);
    expect(() => prefillPrompts(model, [[]], { maxLength: 4 })).toThrow(/^prefillPrompts: prompts\[0\] is empty/);
    // Right shape, no room for the tokens to come.
    const cramped = () => prefillPrompts(model, prompts, { padTo: 4, maxLength: 4 });
    await expect(generate(model, prompts, { ...opts, prefill: cramped })).rejects.toThrow(
      /maxLength 4, below the 4 prompt \+ 3/,
    );
    expect(tf.memory().numTensors).toBe(before);
    await expect(generate(model, prompts, { ...opts, useCache: false, prefill: short })).rejects.toThrow(ConfigError);
    expect(() => prefillPrompts(model, prompts, { maxLength: 3 })).toThrow(/maxLength/);
    model.dispose();
  });

  it("a prompt that starts with the pad id is not merged with the shorter prompt it pads like", async () => {
    const model = tinyPolicy();
    const pad = model.config.padTokenId ?? tokenizer.padTokenId ?? 0;
    const x = tokenizer.encode("2+2=");
    const prompts = [[pad, ...x], x];
    const opts = { temperature: 0, maxTokens: 6, ignoreEos: true };
    const batched = await generate(model, prompts, opts);
    for (let b = 0; b < prompts.length; b++) {
      const alone = await generate(model, [prompts[b]!], { ...opts, padTo: x.length + 1 });
      expect(batched.sequences[b]!.responseIds).toEqual(alone.sequences[0]!.responseIds);
    }
    model.dispose();
  });
});

describe("one sampler", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });
  afterAll(() => setKernelPath("auto"));

  it.each([
    "host",
    "tensor",
  ] as const)("policy's single-prompt generate draws rollout's tokens and log-probs for the same seed (%s sampling path)", async (path) => {
    setKernelPath(path);
    const model = tinyPolicy();
    const prompt = tokenizer.encode("2+2=");
    for (const params of [
      { temperature: 1 },
      { temperature: 0.7, topK: 5, topP: 0.9 },
      { temperature: 1.2, minP: 0.05, logProbsMode: "raw" as const },
      { temperature: 0 },
    ]) {
      const single = policyGenerate(model, prompt, { ...params, maxTokens: 6, seed: 42, stopIds: [] });
      const batched = await generate(model, [prompt], { ...params, maxTokens: 6, seed: 42, ignoreEos: true });
      expect(single.ids).toEqual(batched.sequences[0]!.responseIds);
      single.logProbs.forEach((lp, t) => expect(lp).toBeCloseTo(batched.sequences[0]!.rolloutLogProbs[t]!, 5));
    }
    model.dispose();
  });

  it("samples the same tokens on the host and the tensor path", async () => {
    const model = tinyPolicy();
    const run = async (path: "host" | "tensor") => {
      setKernelPath(path);
      const out = await generate(model, PROMPTS, {
        temperature: 0.9,
        topK: 20,
        topP: 0.95,
        maxTokens: 8,
        seed: 3,
        ignoreEos: true,
      });
      return out.sequences.map((s) => s.responseIds);
    };
    const host = await run("host");
    expect(await run("tensor")).toEqual(host);
    setKernelPath("auto");
    model.dispose();
  });
});
