import { afterEach, describe, expect, it } from "vitest";
import { setKernelPath, tf, useBackend } from "@tokenrl/core";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { applyRope, ropeCosSin, ropeInvFreq } from "../src/layers.js";

describe.each(TEST_BACKENDS)("RoPE on the host path on %s", (backend) => {
  afterEach(() => setKernelPath("auto"));

  it("gives the op chain's bits: forward, gradient and gradient of the gradient; nothing leaks", async () => {
    await useBackend(backend);
    const [B, L, H, D] = [3, 7, 5, 8];
    const x = tf.randomNormal([B, L, H, D], 0, 1, "float32", 11);
    const w = tf.randomNormal([B, L, H, D], 0, 1, "float32", 12);
    // Every row its own offset, so a mixed-up row of the tables shows.
    const positions = tf.tensor2d(
      Array.from({ length: B * L }, (_, i) => (i % L) + 3 * Math.floor(i / L)),
      [B, L],
      "int32",
    ) as tf.Tensor2D;
    const invFreq = ropeInvFreq(D, 10000);
    const { cos, sin } = ropeCosSin(positions, invFreq);
    // As in a layer: the tables are made and freed inside the forward, so the backward needs the tape's copies.
    const loss = (t: tf.Tensor, v: tf.Tensor) =>
      tf.tidy(() => {
        const tables = ropeCosSin(positions, invFreq);
        return tf.sum(tf.mul(applyRope(t, tables.cos, tables.sin), v)) as tf.Scalar;
      });
    const run = async () => {
      const y = applyRope(x, cos, sin);
      const g = tf.grad((t: tf.Tensor) => loss(t, w))(x);
      // d/dw of |d loss / dx|^2: a gradient through the backward itself.
      const gg = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((t: tf.Tensor) => loss(t, v))(x))))(w);
      const out = await Promise.all([y, g, gg].map(async (t) => Array.from(await t.data())));
      tf.dispose([y, g, gg]);
      return out;
    };
    setKernelPath("tensor");
    const ops = await run();
    setKernelPath("host");
    const before = tf.memory().numTensors;
    const host = await run();
    expect(tf.memory().numTensors).toBe(before);
    expect(host).toEqual(ops);
    // The host loop ran (no split), forward and backward.
    const kernels = (await tf.profile(() => tf.grad((t: tf.Tensor) => loss(t, w))(x))).kernelNames;
    expect(kernels).not.toContain("SplitV");
    expect(host[0]).not.toEqual(Array.from(await x.data()));
    tf.dispose([x, w, positions, cos, sin]);
  });

  it("leaves the op chain to tables it does not read as [B, L, 1, D/2]", async () => {
    await useBackend(backend);
    setKernelPath("host");
    const x = tf.randomNormal([2, 4, 4, 6], 0, 1, "float32", 13);
    // HF's layout [B, 1, L, D/2] (same size, as H == L here) and a table broadcast over the batch.
    for (const shape of [
      [2, 1, 4, 3],
      [1, 4, 1, 3],
    ]) {
      const cos = tf.randomNormal(shape, 0, 1, "float32", 14);
      const sin = tf.randomNormal(shape, 0, 1, "float32", 15);
      const { kernelNames } = await tf.profile(() => applyRope(x, cos, sin));
      expect(kernelNames).toContain("SplitV");
      tf.dispose([cos, sin]);
    }
    x.dispose();
  });
});
