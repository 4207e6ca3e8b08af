import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "@tokenrl/core";
import type { Scalar } from "@tokenrl/core";
import { ClippedAdam } from "../src/optimizer.js";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("ClippedAdam", () => {
  it("takes an Adam step whose size is the learning rate on the first step", () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const opt = new ClippedAdam([w], 0.1, 0);
    const r = opt.step(() => tf.sum(tf.mul(w, tf.tensor1d([3, -4]))) as Scalar);
    expect(r.applied).toBe(true);
    expect(r.loss).toBeCloseTo(11, 5);
    expect(r.gradNorm).toBeCloseTo(5, 5);
    // Adam's first step moves each weight by lr * sign(grad).
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.9, 5), expect.closeTo(-1.9, 5)]);
    opt.dispose();
    w.dispose();
  });

  it("clips the global gradient norm before the update", () => {
    const w = tf.variable(tf.tensor1d([0, 0]));
    const opt = new ClippedAdam([w], 0.1, 1.0);
    const r = opt.step(() => tf.sum(tf.mul(w, tf.tensor1d([30, 40]))) as Scalar);
    expect(r.gradNorm).toBeCloseTo(50, 4);
    opt.dispose();
    w.dispose();
  });

  it("does not train on a NaN loss and reports it", () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = new ClippedAdam([w], 0.1, 1.0);
    const before = tf.memory().numTensors;
    const r = opt.step(() => tf.mul(tf.sum(w), Number.NaN) as Scalar);
    expect(r.applied).toBe(false);
    expect(Number.isNaN(r.loss)).toBe(true);
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    w.dispose();
  });

  it("saves and restores its moments so that the next step is the same", async () => {
    type Saved = { weights: number[]; moments: Awaited<ReturnType<ClippedAdam["state"]>> };
    const run = async (restoreFrom?: Saved) => {
      const w = tf.variable(tf.tensor1d([1, -2, 3]));
      const opt = new ClippedAdam([w], 0.05, 0);
      const loss = () => tf.sum(tf.square(tf.sub(w, tf.tensor1d([0.5, 0.5, 0.5])))) as Scalar;
      if (restoreFrom) {
        w.assign(tf.tensor1d(restoreFrom.weights));
        await opt.restore(restoreFrom.moments);
      } else {
        opt.step(loss);
        opt.step(loss);
      }
      const saved = { weights: Array.from(w.dataSync()), moments: await opt.state() };
      opt.step(loss);
      const after = Array.from(w.dataSync());
      opt.dispose();
      w.dispose();
      return { saved, after };
    };
    const first = await run();
    const resumed = await run(first.saved);
    expect(resumed.after).toEqual(first.after);
  });
});
