import { ConfigError, createRng, tf, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { processLogits, resolveSamplingParams, sampleTokens } from "../src/index.js";

// Logits [0, ln 2, ln 4] give probabilities 1/7, 2/7, 4/7.
const LOGITS = [0, Math.log(2), Math.log(4)];

function probsOf(params: Parameters<typeof processLogits>[1]): number[] {
  const logits = tf.tensor2d([LOGITS]);
  const lp = processLogits(logits, params);
  const out = Array.from(tf.exp(lp).dataSync());
  tf.dispose([logits, lp]);
  return out;
}

describe.each(TEST_BACKENDS)("logits processing on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("temperature 1 with no truncation is the softmax", () => {
    expect(probsOf({})).toEqual([1 / 7, 2 / 7, 4 / 7].map((p) => expect.closeTo(p, 6)));
  });

  it("temperature 2 halves the logits: probabilities proportional to 1, sqrt 2, 2", () => {
    const z = 1 + Math.SQRT2 + 2;
    expect(probsOf({ temperature: 2 })).toEqual([1 / z, Math.SQRT2 / z, 2 / z].map((p) => expect.closeTo(p, 6)));
  });

  it("top-k 2 keeps the two likeliest and renormalises: 0, 1/3, 2/3", () => {
    expect(probsOf({ topK: 2 })).toEqual([0, 1 / 3, 2 / 3].map((p) => expect.closeTo(p, 6)));
  });

  it("top-p keeps the smallest prefix whose mass reaches p", () => {
    // Sorted 4/7, 2/7, 1/7; mass before each: 0, 4/7 = 0.571, 6/7.
    expect(probsOf({ topP: 0.5 })).toEqual([0, 0, 1].map((p) => expect.closeTo(p, 6)));
    expect(probsOf({ topP: 0.6 })).toEqual([0, 1 / 3, 2 / 3].map((p) => expect.closeTo(p, 6)));
    expect(probsOf({ topP: 0.9 })).toEqual([1 / 7, 2 / 7, 4 / 7].map((p) => expect.closeTo(p, 6)));
  });

  it("min-p drops tokens below minP times the top probability", () => {
    // floor = 0.4 * 4/7 = 0.229: 1/7 = 0.143 goes, 2/7 = 0.286 stays.
    expect(probsOf({ minP: 0.4 })).toEqual([0, 1 / 3, 2 / 3].map((p) => expect.closeTo(p, 6)));
  });

  it("samples with the processed frequencies and never a dropped token", async () => {
    const B = 3000;
    const logits = tf.tensor2d(Array.from({ length: B }, () => LOGITS));
    const root = createRng(5);
    const rngs = Array.from({ length: B }, (_, b) => root.fork(b));
    const free = await sampleTokens(logits, {}, rngs);
    const counts = [0, 0, 0];
    for (const t of free.tokenIds) counts[t]!++;
    // Binomial std at n = 3000 is at most 0.009; 0.03 is over 3 sigma.
    [1 / 7, 2 / 7, 4 / 7].forEach((p, t) => expect(Math.abs(counts[t]! / B - p)).toBeLessThan(0.03));
    const topK = await sampleTokens(logits, { topK: 2 }, rngs);
    expect(topK.tokenIds.every((t) => t !== 0)).toBe(true);
    logits.dispose();
  });

  it("reports the sampled token's log-prob under the chosen distribution", async () => {
    const logits = tf.tensor2d([LOGITS, LOGITS]);
    const rngs = [createRng(1), createRng(2)];
    const processed = await sampleTokens(logits, { topK: 2, temperature: 1 }, rngs);
    const expectedProcessed = (t: number) => Math.log([0, 1 / 3, 2 / 3][t]!);
    processed.tokenIds.forEach((t, i) => expect(processed.logProbs[i]).toBeCloseTo(expectedProcessed(t), 5));
    const raw = await sampleTokens(logits, { topK: 2, logProbsMode: "raw" }, [createRng(1), createRng(2)]);
    raw.tokenIds.forEach((t, i) => expect(raw.logProbs[i]).toBeCloseTo(Math.log([1 / 7, 2 / 7, 4 / 7][t]!), 5));
    // Same seeds, same tokens, whatever is reported.
    expect(Array.from(raw.tokenIds)).toEqual(Array.from(processed.tokenIds));
    const z = 1 + Math.SQRT2 + 2;
    const temp = await sampleTokens(logits, { temperature: 2, topK: 2, logProbsMode: "temperature" }, rngs);
    temp.tokenIds.forEach((t, i) =>
      expect(temp.logProbs[i]).toBeCloseTo(Math.log([1 / z, Math.SQRT2 / z, 2 / z][t]!), 5),
    );
    logits.dispose();
  });

  it("greedy takes the argmax and reports log_softmax of the raw logits", async () => {
    const logits = tf.tensor2d([LOGITS, [3, 1, 2]]);
    const out = await sampleTokens(logits, { temperature: 0 }, []);
    expect(Array.from(out.tokenIds)).toEqual([2, 0]);
    expect(out.logProbs[0]).toBeCloseTo(Math.log(4 / 7), 5);
    const z = Math.exp(3) + Math.exp(1) + Math.exp(2);
    expect(out.logProbs[1]).toBeCloseTo(3 - Math.log(z), 5);
    logits.dispose();
  });

  it("the same seeds give the same tokens and other seeds others", async () => {
    const V = 50;
    const logits = tf.zeros([64, V]) as tf.Tensor2D;
    const draw = async (seed: number) => {
      const root = createRng(seed);
      return Array.from(
        (
          await sampleTokens(
            logits,
            {},
            Array.from({ length: 64 }, (_, b) => root.fork(b)),
          )
        ).tokenIds,
      );
    };
    const a = await draw(3);
    expect(await draw(3)).toEqual(a);
    expect(await draw(4)).not.toEqual(a);
    logits.dispose();
  });

  it("creates no tensors it does not free", async () => {
    const logits = tf.tensor2d([LOGITS]);
    const before = tf.memory().numTensors;
    await sampleTokens(logits, { topK: 2, topP: 0.9, minP: 0.1, temperature: 0.7 }, [createRng(0)]);
    processLogits(logits, { topP: 0.5 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    logits.dispose();
  });
});

describe("sampling params", () => {
  it("rejects out-of-range values naming the field", () => {
    expect(() => resolveSamplingParams({ topP: 0 })).toThrow(ConfigError);
    expect(() => resolveSamplingParams({ topP: 1.5 })).toThrow(/sampling\.topP/);
    expect(() => resolveSamplingParams({ temperature: -1 })).toThrow(/sampling\.temperature/);
    expect(() => resolveSamplingParams({ maxTokens: 0 })).toThrow(/sampling\.maxTokens/);
    expect(() => resolveSamplingParams({ logProbsMode: "logits" as never })).toThrow(/sampling\.logProbsMode/);
  });
});
