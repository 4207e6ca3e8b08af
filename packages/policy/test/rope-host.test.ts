import { afterEach, describe, expect, it } from "vitest";
import { setKernelPath, tf, useBackend } from "@tokenrl/core";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { applyRope, ropeCosSin, ropeInvFreq } from "../src/layers.js";

describe.each(TEST_BACKENDS)("RoPE on the host path on %s", (backend) => {
  afterEach(() => setKernelPath("auto"));

  it("gives the op chain's bits, forward and backward, and leaks nothing", async () => {
    await useBackend(backend);
    const [B, L, H, D] = [3, 7, 5, 8];
    const x = tf.randomNormal([B, L, H, D], 0, 1, "float32", 11);
    const w = tf.randomNormal([B, L, H, D], 0, 1, "float32", 12);
    const positions = tf.tensor2d(
      Array.from({ length: B * L }, (_, i) => (i % L) + (i >= L ? 2 : 0)),
      [B, L],
      "int32",
    ) as tf.Tensor2D;
    const { cos, sin } = ropeCosSin(positions, ropeInvFreq(D, 10000));
    const invFreq = ropeInvFreq(D, 10000);
    const run = async () => {
      const y = applyRope(x, cos, sin);
      // As in a layer: the tables are made and freed inside the forward, so the backward needs the tape's copies.
      const g = tf.grad((t: tf.Tensor) =>
        tf.tidy(() => {
          const tables = ropeCosSin(positions, invFreq);
          return tf.sum(tf.mul(applyRope(t, tables.cos, tables.sin), w));
        }),
      )(x);
      const out = [Array.from(await y.data()), Array.from(await g.data())];
      tf.dispose([y, g]);
      return out;
    };
    setKernelPath("tensor");
    const [yOps, gOps] = await run();
    setKernelPath("host");
    const before = tf.memory().numTensors;
    const [yHost, gHost] = await run();
    expect(tf.memory().numTensors).toBe(before);
    expect(yHost).toEqual(yOps);
    expect(gHost).toEqual(gOps);
    // The rotation moved the values: the comparison can fail.
    expect(yHost).not.toEqual(Array.from(await x.data()));
    tf.dispose([x, w, positions, cos, sin]);
  });
});
