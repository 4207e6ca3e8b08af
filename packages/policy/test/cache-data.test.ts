import { describe, expect, it } from "vitest";
import { InvalidInputError, tf, useBackend } from "@tokenrl/core";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import type { KVCache } from "../src/index.js";
import { ids2d, tinyModel, values } from "./helpers.js";

describe.each(TEST_BACKENDS)("a cache as data on %s", (backend) => {
  it("toData and cacheFromData round-trip a prefilled (tensor) and a decoded (host) cache exactly", async () => {
    await useBackend(backend);
    const model = tinyModel();
    const prompt = ids2d([
      [0, 1, 5, 6],
      [1, 7, 8, 9],
    ]);
    const mask = tf.tensor2d([
      [0, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
    const pre = model.forward(prompt, { attentionMask: mask, cache: model.createCache(2, 12) });
    let cache: KVCache = pre.cache;
    const next = ids2d([[3], [4]]);
    for (let stage = 0; stage < 2; stage++) {
      const data = cache.toData();
      expect(data).toMatchObject({ batchSize: 2, length: cache.length, numKvHeads: 2, headDim: 8 });
      expect(data.keys).toHaveLength(2);
      expect(Array.from(data.mask.subarray(0, 4))).toEqual([0, 1, 1, 1]);
      // Stage 0 copies the prefill's tensors, stage 1 the host storage of a decode step; both continue alike.
      const copy = model.cacheFromData(data, 12);
      expect([copy.batchSize, copy.length, copy.maxLength]).toEqual([2, cache.length, 12]);
      expect(copy.toData()).toEqual(data);
      const a = model.forward(next, { cache: copy });
      const b = model.forward(next, { cache });
      expect(values(a.logits)).toEqual(values(b.logits));
      // Writes to the data afterwards do not reach a cache made from it.
      const again = model.cacheFromData(data, 12);
      data.keys[0]!.fill(0);
      expect(again.toData().keys[0]).not.toEqual(data.keys[0]);
      tf.dispose([a.logits, b.logits]);
      a.cache.dispose();
      again.dispose();
      cache = b.cache;
    }
    cache.dispose();
    tf.dispose([prompt, mask, pre.logits, next]);
    model.dispose();
  });

  it("refuses data that does not fit the model, with a typed error, and an empty cache has no data", async () => {
    await useBackend(backend);
    const model = tinyModel();
    const pre = model.forward(ids2d([[1, 5, 6]]), { cache: model.createCache(1, 8) });
    const data = pre.cache.toData();
    const before = tf.memory().numTensors;
    const cases: [string, Parameters<typeof model.cacheFromData>[0], number][] = [
      ["maxLength 2 is below", data, 2],
      ["kv heads", { ...data, numKvHeads: 1 }, 8],
      ["layers", { ...data, keys: data.keys.slice(1) }, 8],
      ["hold 3 floats", { ...data, values: [data.values[0]!, new Float32Array(3)] }, 8],
      ["the mask holds", { ...data, mask: new Float32Array(1) }, 8],
      ["batchSize", { ...data, batchSize: 0 }, 8],
      ["maxLength must be an integer", data, 4.5],
      ["Float32Arrays", { ...data, mask: new Float64Array(data.mask) as unknown as Float32Array }, 8],
      ["expected KVCacheData", null as unknown as typeof data, 8],
    ];
    for (const [message, bad, maxLength] of cases) {
      expect(() => model.cacheFromData(bad, maxLength)).toThrow(InvalidInputError);
      expect(() => model.cacheFromData(bad, maxLength)).toThrow(message);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.createCache(1, 4).toData()).toThrow(/empty/);
    pre.cache.dispose();
    pre.logits.dispose();
    model.dispose();
  });
});
