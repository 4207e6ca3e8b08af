import { tf, useBackend } from "@tokenrl/core";
import type { Scalar } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW, clipByGlobalNorm, lrSchedule } from "../src/index.js";

beforeAll(async () => {
  await useBackend("wasm");
});

const linearLoss = (w: tf.Variable, g: number[]) => () => tf.sum(tf.mul(w, tf.tensor1d(g))) as Scalar;

describe("AdamW", () => {
  it("first step moves each weight by lr * sign(grad)", () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const opt = new AdamW([w], { lr: 0.1, weightDecay: 0, maxGradNorm: 0 });
    const r = opt.minimize(linearLoss(w, [3, -4]));
    expect(r.applied).toBe(true);
    expect(r.loss).toBeCloseTo(11, 5);
    expect(r.gradNorm).toBeCloseTo(5, 5);
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.9, 5), expect.closeTo(-1.9, 5)]);
    opt.dispose();
    w.dispose();
  });

  it("clips the global gradient norm before the update (two steps against a hand computation)", () => {
    const w = tf.variable(tf.tensor1d([0, 0]));
    const opt = new AdamW([w], { lr: 0.1, weightDecay: 0, maxGradNorm: 10 });
    const first = opt.minimize(linearLoss(w, [30, 40]));
    expect(first.gradNorm).toBeCloseTo(50, 4);
    const second = opt.minimize(linearLoss(w, [0.3, 0.4]));
    expect(second.gradNorm).toBeCloseTo(0.5, 5);
    // By hand: step 1 sees g1 = [30, 40] * 10 / (50 + 1e-6), step 2 sees g2 = [0.3, 0.4] (norm 0.5 < 10).
    const hand = (g1: number[], g2: number[]) =>
      [0, 1].map((i) => {
        const [b1, b2, lr, eps] = [0.9, 0.999, 0.1, 1e-8];
        const m1 = (1 - b1) * g1[i]!;
        const v1 = (1 - b2) * g1[i]! ** 2;
        const w1 = (-lr * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps);
        const m2 = b1 * m1 + (1 - b1) * g2[i]!;
        const v2 = b2 * v1 + (1 - b2) * g2[i]! ** 2;
        return w1 - (lr * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps);
      });
    const c = 10 / (50 + 1e-6);
    const expected = hand([30 * c, 40 * c], [0.3, 0.4]);
    const got = Array.from(w.dataSync());
    expect(got[0]).toBeCloseTo(expected[0]!, 5);
    expect(got[1]).toBeCloseTo(expected[1]!, 5);
    // Without the clip the second step differs by much more than the tolerance.
    const unclipped = hand([30, 40], [0.3, 0.4]);
    expect(Math.abs(unclipped[0]! - expected[0]!)).toBeGreaterThan(1e-3);
    opt.dispose();
    w.dispose();
  });

  it("decays weights decoupled from the gradient (AdamW, not L2)", () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.5, maxGradNorm: 0 });
    // Zero gradient: Adam's step is 0, only w (1 - lr wd) remains; L2 would have moved w by lr.
    opt.minimize(linearLoss(w, [0, 0]));
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.95, 6), expect.closeTo(-1.9, 6)]);
    opt.dispose();
    w.dispose();
  });

  it("uses the scheduled learning rate of each step", () => {
    const w = tf.variable(tf.tensor1d([0]));
    const opt = new AdamW([w], {
      lr: 0.1,
      weightDecay: 0,
      maxGradNorm: 0,
      schedule: { type: "constant", warmupSteps: 2 },
    });
    const lrs = [0, 1, 2, 3].map(() => opt.minimize(linearLoss(w, [1])).lr);
    expect(lrs).toEqual([0, 0.05, 0.1, 0.1]);
    // Step 0 had LR 0 (transformers' warm-up convention), then -0.05 and -0.1 twice (Adam moves by lr).
    expect(w.dataSync()[0]).toBeCloseTo(-0.25, 5);
    opt.dispose();
    w.dispose();
  });

  it("does not train on a NaN loss and reports it, leaking no tensor", () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = new AdamW([w], { lr: 0.1 });
    const before = tf.memory().numTensors;
    const r = opt.minimize(() => tf.mul(tf.sum(w), Number.NaN) as Scalar);
    expect(r.applied).toBe(false);
    expect(opt.step).toBe(0);
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    w.dispose();
  });

  it("saves and restores its moments and step so that the next step is bit-identical", async () => {
    const target = () => tf.tensor1d([0.5, 0.5, 0.5]);
    const schedule = { type: "cosine" as const, warmupSteps: 1, totalSteps: 5, minLrRatio: 0.1 };
    const straight = tf.variable(tf.tensor1d([1, -2, 3]));
    const a = new AdamW([straight], { lr: 0.05, schedule });
    const loss = (w: tf.Variable) => () => tf.sum(tf.square(tf.sub(w, target()))) as Scalar;
    a.minimize(loss(straight));
    a.minimize(loss(straight));
    const saved = { weights: Array.from(straight.dataSync()), state: await a.state() };
    a.minimize(loss(straight));
    const resumedW = tf.variable(tf.tensor1d(saved.weights));
    const b = new AdamW([resumedW], { lr: 0.05, schedule });
    b.restore(saved.state);
    expect(b.step).toBe(2);
    expect(b.lr).toBe(0.05 * lrSchedule(schedule)(2));
    b.minimize(loss(resumedW));
    expect(Array.from(resumedW.dataSync())).toEqual(Array.from(straight.dataSync()));
    expect(() => b.restore({ step: 1, tensors: [] })).toThrow("optimizer state m/00000 is missing");
    const bad = saved.state.tensors.map((t) => ({ ...t, values: Float32Array.from(t.values, () => Number.NaN) }));
    expect(() => b.restore({ step: 1, tensors: bad })).toThrow("holds NaN");
    tf.dispose([straight, resumedW]);
    a.dispose();
    b.dispose();
  });

  it("holds exactly two moment tensors per variable, all freed by dispose()", () => {
    const ws = [tf.variable(tf.zeros([3])), tf.variable(tf.zeros([2, 2]))];
    const before = tf.memory().numTensors;
    const opt = new AdamW(ws, { lr: 0.1 });
    expect(tf.memory().numTensors).toBe(before + 4);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(ws);
  });

  it("rejects bad options with the key and the value", () => {
    expect(() => new AdamW([], { lr: -1 })).toThrow("optim.lr: expected a learning rate >= 0, got -1");
    expect(() => new AdamW([], { lr: 1, betas: [0.9, 1] })).toThrow("optim.betas[1]");
  });
});

describe("clipByGlobalNorm", () => {
  it("scales all gradients by maxNorm / (norm + 1e-6) when over the limit", () => {
    const { grads, norm } = clipByGlobalNorm([tf.tensor1d([3]), tf.tensor1d([4])], 1);
    expect(norm).toBeCloseTo(5, 6);
    expect(grads.map((g) => g.dataSync()[0])).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    tf.dispose(grads);
  });
});

describe("lrSchedule", () => {
  it("warms up linearly, then constant / linear / cosine down to minLrRatio", () => {
    const steps = [0, 1, 2, 3, 4, 6, 9];
    expect(steps.map(lrSchedule({ type: "constant", warmupSteps: 2 }))).toEqual([0, 0.5, 1, 1, 1, 1, 1]);
    const cosine = steps.map(lrSchedule({ type: "cosine", warmupSteps: 2, totalSteps: 6, minLrRatio: 0.1 }));
    // progress (s - 2) / 4: 0.1 + 0.9 * 0.5 * (1 + cos(pi * progress)).
    const hand = [0, 0.5, 1, 0.1 + 0.45 * (1 + Math.cos(Math.PI / 4)), 0.55, 0.1, 0.1];
    cosine.forEach((v, i) => expect(v).toBeCloseTo(hand[i]!, 12));
    const linear = steps.map(lrSchedule({ type: "linear", warmupSteps: 2, totalSteps: 6, minLrRatio: 0.1 }));
    [0, 0.5, 1, 0.775, 0.55, 0.1, 0.1].forEach((v, i) => expect(linear[i]).toBeCloseTo(v, 12));
  });

  it("names a bad option", () => {
    expect(() => lrSchedule({ type: "step" as never })).toThrow('lrSchedule.type: unknown schedule "step"');
    expect(() => lrSchedule({ minLrRatio: 2 })).toThrow("lrSchedule.minLrRatio");
  });
});
