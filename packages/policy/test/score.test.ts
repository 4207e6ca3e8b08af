import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import { embedLookup } from "../src/index.js";
import { tokenLogProbsAndEntropy } from "../src/score.js";
import type { CausalLM } from "../src/index.js";
import { ids2d, maxAbsDiff, tinyModel, values } from "./helpers.js";

const V = 23;

/** log-softmax and entropy of one logit row, computed in float64 from the definitions. */
function reference(row: number[], target: number): { logProb: number; entropy: number } {
  const m = Math.max(...row);
  const z = row.reduce((a, x) => a + Math.exp(x - m), 0);
  const logp = row.map((x) => x - m - Math.log(z));
  return { logProb: logp[target]!, entropy: -logp.reduce((a, l) => a + Math.exp(l) * l, 0) };
}

describe.each(TEST_BACKENDS)("scoreResponses on %s", (backend) => {
  let model: CausalLM;
  beforeAll(async () => {
    await useBackend(backend);
    model = tinyModel();
  });
  afterAll(() => model.dispose());

  it("log-probs and entropies equal log-softmax / -sum p log p of the forward logits that predict each response token", () => {
    const prompt = [1, 5, 6];
    const response = [7, 8, 2];
    const full = model.forward(ids2d([[...prompt, ...response]]));
    const logits = values(full.logits);
    full.cache.dispose();
    full.logits.dispose();
    const input = {
      promptIds: ids2d([prompt]),
      promptMask: tf.ones([1, 3]) as tf.Tensor2D,
      responseIds: ids2d([response]),
      responseMask: tf.ones([1, 3]) as tf.Tensor2D,
    };
    const { logProbs, entropy } = model.scoreResponses(input);
    expect(logProbs.shape).toEqual([1, 3]);
    const want = response.map((tok, t) => reference(logits.slice((2 + t) * V, (3 + t) * V), tok));
    expect(
      maxAbsDiff(
        values(logProbs),
        want.map((w) => w.logProb),
      ),
    ).toBeLessThan(1e-4);
    expect(
      maxAbsDiff(
        values(entropy),
        want.map((w) => w.entropy),
      ),
    ).toBeLessThan(1e-4);
    // entropy of a V-way distribution lies in (0, log V]
    for (const e of values(entropy)) expect(e > 0 && e <= Math.log(V) + 1e-5).toBe(true);
    tf.dispose([logProbs, entropy, ...Object.values(input)]);
  });

  it("a left-padded prompt and a right-padded response score like the unpadded pair; padded positions are 0", () => {
    const one = model.scoreResponses({
      promptIds: ids2d([[1, 5]]),
      promptMask: tf.ones([1, 2]) as tf.Tensor2D,
      responseIds: ids2d([[9, 10]]),
      responseMask: tf.ones([1, 2]) as tf.Tensor2D,
    });
    const batch = model.scoreResponses({
      promptIds: ids2d([
        [0, 0, 1, 5],
        [1, 4, 4, 4],
      ]),
      promptMask: tf.tensor2d([
        [0, 0, 1, 1],
        [1, 1, 1, 1],
      ]),
      responseIds: ids2d([
        [9, 10, 0],
        [3, 3, 3],
      ]),
      responseMask: tf.tensor2d([
        [1, 1, 0],
        [1, 1, 1],
      ]),
    });
    const lp = values(batch.logProbs);
    expect(maxAbsDiff(lp.slice(0, 2), values(one.logProbs))).toBeLessThan(1e-4);
    expect(Math.abs(lp[2]!)).toBe(0);
    expect(Math.abs(values(batch.entropy)[2]!)).toBe(0);
    tf.dispose([one.logProbs, one.entropy, batch.logProbs, batch.entropy]);
  });

  it("gradients of a log-prob + entropy loss reach every weight, finite and non-zero (tied and untied)", () => {
    for (const tie of [false, true]) {
      const m = tinyModel({ tieWordEmbeddings: tie, modelType: tie ? "qwen3" : "qwen2" }, 3);
      const input = {
        promptIds: ids2d([
          [0, 1, 5],
          [1, 6, 7],
        ]),
        promptMask: tf.tensor2d([
          [0, 1, 1],
          [1, 1, 1],
        ]),
        responseIds: ids2d([
          [8, 9],
          [10, 0],
        ]),
        responseMask: tf.tensor2d([
          [1, 1],
          [1, 0],
        ]),
      };
      const vars = m.trainableVariables();
      // qwen2 adds q/k/v biases, qwen3 q/k norms: 2 layers x (norms 2 + qkv + o + gateUp + down) + embed + final norm (+ lm head)
      expect(vars.length).toBe(tie ? 2 * 8 + 2 : 2 * 7 + 3);
      const { value, grads } = tf.variableGrads(() => {
        const { logProbs, entropy } = m.scoreResponses(input);
        return tf.sub(tf.neg(tf.sum(logProbs)), tf.mul(0.1, tf.sum(entropy))) as tf.Scalar;
      }, vars);
      for (const v of vars) {
        const g = grads[v.name]!;
        expect(g.shape).toEqual(v.shape);
        const gv = values(g);
        expect(gv.every(Number.isFinite)).toBe(true);
        expect(Math.max(...gv.map(Math.abs))).toBeGreaterThan(1e-8);
      }
      tf.dispose([value, ...Object.values(grads), ...Object.values(input)]);
      m.dispose();
    }
  });

  it("the embedding gradient (scatterND, no UnsortedSegmentSum) sums the output gradient of repeated ids", () => {
    // loss = sum(table[ids] * w) with ids [4, 1, 4, 0]: d/d table = rows 0 and 1 get w, row 4 gets 2w, rows 2 and 3 get 0.
    const table = tf.variable(tf.randomNormal([5, 3], 0, 1, "float32", 1));
    const ids = tf.tensor1d([4, 1, 4, 0], "int32");
    const w = tf.tensor2d([[1, 2, 3]]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(embedLookup(table, ids), w)) as tf.Scalar, [table]);
    expect(values(grads[table.name]!)).toEqual([1, 2, 3, 1, 2, 3, 0, 0, 0, 0, 0, 0, 2, 4, 6]);
    tf.dispose([table, ids, w, value, ...Object.values(grads)]);
  });

  it("the analytic log-prob/entropy gradient equals autodiff of the plain log-softmax formula", () => {
    const logits = tf.tensor2d([
      [1.5, -0.5, 0.25, 2],
      [0, 0, 0, 0],
      [-3, 4, 1, 0.5],
    ]);
    const targets = tf.tensor1d([3, 1, 0], "int32");
    const wLp = tf.tensor1d([1, -2, 0.5]);
    const wH = tf.tensor1d([0.3, 1, -1]);
    const fused = (x: tf.Tensor) => {
      const [lp, h] = tokenLogProbsAndEntropy(x, targets);
      return tf.add(tf.sum(tf.mul(lp, wLp)), tf.sum(tf.mul(h, wH))) as tf.Scalar;
    };
    const plain = (x: tf.Tensor) => {
      const logp = tf.logSoftmax(x);
      const lp = tf.sum(tf.mul(logp, tf.cast(tf.oneHot(targets, 4), "float32")), -1);
      const h = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
      return tf.add(tf.sum(tf.mul(lp, wLp)), tf.sum(tf.mul(h, wH))) as tf.Scalar;
    };
    const g1 = tf.grad(fused)(logits);
    const g2 = tf.grad(plain)(logits);
    expect(maxAbsDiff(values(g1), values(g2))).toBeLessThan(1e-5);
    // row 1 is uniform: entropy log 4, log p = -log 4
    const [lp, h] = tokenLogProbsAndEntropy(logits, targets);
    expect(values(lp)[1]).toBeCloseTo(-Math.log(4), 5);
    expect(values(h)[1]).toBeCloseTo(Math.log(4), 5);
    tf.dispose([logits, targets, wLp, wH, g1, g2, lp, h]);
  });
});
