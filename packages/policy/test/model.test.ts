import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import type { CausalLM } from "../src/index.js";
import { ids2d, maxAbsDiff, tinyModel, values } from "./helpers.js";

describe.each(TEST_BACKENDS)("CausalLM on %s", (backend) => {
  let model: CausalLM;
  beforeAll(async () => {
    await useBackend(backend);
    model = tinyModel();
  });
  afterAll(() => model.dispose());

  it("returns logits [B, L, V] and a cache holding L tokens", () => {
    const ids = ids2d([
      [1, 5, 6, 7],
      [1, 8, 9, 10],
    ]);
    const { logits, cache } = model.forward(ids);
    expect(logits.shape).toEqual([2, 4, 23]);
    expect(cache.length).toBe(4);
    expect(cache.batchSize).toBe(2);
    expect(values(logits).every(Number.isFinite)).toBe(true);
    tf.dispose([ids, logits]);
    cache.dispose();
  });

  it('logits: "last" returns only the last position\'s logits, equal to that row of the full forward', () => {
    const ids = ids2d([
      [1, 5, 6, 7],
      [1, 8, 9, 10],
    ]);
    const full = model.forward(ids);
    const last = model.forward(ids, { logits: "last" });
    const V = model.config.vocabSize;
    expect(last.logits.shape).toEqual([2, 1, V]);
    const want = tf.slice(full.logits, [0, 3, 0], [2, 1, V]);
    expect(maxAbsDiff(values(last.logits), values(want))).toBeLessThan(1e-6);
    expect(last.cache.length).toBe(4);
    tf.dispose([ids, full.logits, last.logits, want]);
    full.cache.dispose();
    last.cache.dispose();
  });

  it("is causal: changing a later token leaves earlier logits unchanged", () => {
    const a = ids2d([[1, 5, 6, 7, 8]]);
    const b = ids2d([[1, 5, 6, 19, 20]]);
    const la = model.forward(a);
    const lb = model.forward(b);
    const first3 = (t: tf.Tensor) => values(tf.tidy(() => tf.slice(t, [0, 0, 0], [1, 3, 23])));
    expect(maxAbsDiff(first3(la.logits), first3(lb.logits))).toBe(0);
    // and the changed position does change the next logits (the test can fail)
    const last = (t: tf.Tensor) => values(tf.tidy(() => tf.slice(t, [0, 4, 0], [1, 1, 23])));
    expect(maxAbsDiff(last(la.logits), last(lb.logits))).toBeGreaterThan(1e-3);
    la.cache.dispose();
    lb.cache.dispose();
    tf.dispose([a, b, la.logits, lb.logits]);
  });

  it("KV-cached token-by-token forward equals the full forward", () => {
    const seq = [1, 4, 9, 16, 3, 11, 7];
    const full = model.forward(ids2d([seq]));
    const fullLogits = values(full.logits);
    full.cache.dispose();
    let cache = model.createCache(1, 16);
    // prefill 3 tokens, then one at a time
    const stepLogits: number[] = [];
    const pre = model.forward(ids2d([seq.slice(0, 3)]), { cache });
    stepLogits.push(...values(pre.logits));
    cache = pre.cache;
    pre.logits.dispose();
    for (let t = 3; t < seq.length; t++) {
      const ids = ids2d([[seq[t]!]]);
      const r = model.forward(ids, { cache });
      cache = r.cache;
      stepLogits.push(...values(r.logits));
      tf.dispose([ids, r.logits]);
    }
    expect(cache.length).toBe(seq.length);
    expect(maxAbsDiff(stepLogits, fullLogits)).toBeLessThan(1e-4);
    cache.dispose();
    full.logits.dispose();
  });

  it("left-padded rows give the same logits on their real tokens as unpadded ones, in prefill and decode", () => {
    const short = [1, 5, 6];
    const long = [1, 7, 8, 9, 10];
    // Reference: each row alone, no padding, then one decode step of token 12.
    const ref = (row: number[]) => {
      const r1 = model.forward(ids2d([row]));
      const nextIds = ids2d([[12]]);
      const r2 = model.forward(nextIds, { cache: r1.cache });
      const out = { prefill: values(r1.logits), step: values(r2.logits) };
      tf.dispose([r1.logits, r2.logits, nextIds]);
      r2.cache.dispose();
      return out;
    };
    const refShort = ref(short);
    const refLong = ref(long);
    const ids = ids2d([[0, 0, ...short], long]);
    const mask = tf.tensor2d([
      [0, 0, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ]);
    const pre = model.forward(ids, { attentionMask: mask, cache: model.createCache(2, 8) });
    const V = 23;
    const logits = values(pre.logits);
    expect(maxAbsDiff(logits.slice(2 * V, 5 * V), refShort.prefill)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits.slice(5 * V, 10 * V), refLong.prefill)).toBeLessThan(1e-4);
    // decode step without an explicit mask: the cache extends its own mask with ones
    const next = ids2d([[12], [12]]);
    const step = model.forward(next, { cache: pre.cache });
    const stepLogits = values(step.logits);
    expect(maxAbsDiff(stepLogits.slice(0, V), refShort.step)).toBeLessThan(1e-4);
    expect(maxAbsDiff(stepLogits.slice(V), refLong.step)).toBeLessThan(1e-4);
    tf.dispose([ids, mask, pre.logits, next, step.logits]);
    step.cache.dispose();
  });

  it("selectRows keeps the chosen rows' history", () => {
    const ids = ids2d([
      [1, 5, 6],
      [1, 7, 8],
      [1, 9, 10],
    ]);
    const pre = model.forward(ids, { cache: model.createCache(3, 8) });
    const kept = pre.cache.selectRows([2, 0]);
    expect(kept.batchSize).toBe(2);
    expect(kept.length).toBe(3);
    expect(() => pre.cache.length).toThrow(/consumed/);
    const next = ids2d([[4], [4]]);
    const step = model.forward(next, { cache: kept });
    // Row 0 of the step is the old row 2: compare with a fresh run of that row alone.
    const alone = model.forward(ids2d([[1, 9, 10, 4]]));
    const aloneLast = values(alone.logits).slice(3 * 23);
    expect(maxAbsDiff(values(step.logits).slice(0, 23), aloneLast)).toBeLessThan(1e-4);
    tf.dispose([ids, pre.logits, next, step.logits, alone.logits]);
    step.cache.dispose();
    alone.cache.dispose();
    pre.cache.dispose(); // no-op on a consumed cache
  });

  it("rejects bad inputs with typed errors naming the field", () => {
    const f = tf.tensor2d([[1, 2]], [1, 2], "float32");
    expect(() => model.forward(f as tf.Tensor2D)).toThrow(/inputIds: expected dtype int32/);
    const ids = ids2d([[1, 2]]);
    const badMask = tf.ones([1, 3]) as tf.Tensor2D;
    expect(() => model.forward(ids, { attentionMask: badMask })).toThrow(/attentionMask: expected shape \[1, 2\]/);
    const cache = model.createCache(1, 2);
    const three = ids2d([[1, 2, 3]]);
    expect(() => model.forward(three, { cache })).toThrow(/maxLength 2/);
    tf.dispose([f, ids, badMask, three]);
    cache.dispose();
  });

  it("the fused q/k norm follows new weights after an optimiser-style assign", () => {
    const a = tinyModel({ modelType: "qwen3" }, 11);
    const b = tinyModel({ modelType: "qwen3" }, 12);
    const ids = ids2d([[3, 4, 5]]);
    try {
      const la = a.forward(ids);
      la.cache.dispose();
      // Give a every weight of b (new storage for each variable, as AdamW's assign does).
      a.trainableVariables().forEach((v, i) => v.assign(b.trainableVariables()[i]!));
      const after = a.forward(ids);
      const want = b.forward(ids);
      expect(maxAbsDiff(values(after.logits), values(want.logits))).toBe(0);
      expect(maxAbsDiff(values(la.logits), values(want.logits))).toBeGreaterThan(0);
      tf.dispose([la.logits, after.logits, want.logits]);
      after.cache.dispose();
      want.cache.dispose();
    } finally {
      a.dispose();
      b.dispose();
      ids.dispose();
    }
  });
});
