import { afterAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { createRng, setKernelPath, tf, useBackend } from "@tokenrl/core";
import { swiglu } from "../src/layers.js";
import { maxAbsDiff, values } from "./helpers.js";

const [N, H, I] = [48, 16, 24];

function inputs() {
  const rng = createRng(5);
  const r = (n: number, scale: number) => Array.from({ length: n }, () => (rng.next() - 0.5) * scale);
  return {
    x: tf.tensor2d(r(N * H, 4), [N, H]),
    gateUp: tf.variable(tf.tensor2d(r(H * 2 * I, 1.5), [H, 2 * I])),
    down: tf.variable(tf.tensor2d(r(I * H, 1), [I, H])),
    w: tf.tensor2d(r(N * H, 2), [N, H]),
  };
}

function run(path: "host" | "tensor") {
  setKernelPath(path);
  const { x, gateUp, down, w } = inputs();
  const before = tf.memory().numTensors;
  const y = swiglu(x, gateUp, down);
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(swiglu(x, gateUp, down), w)) as tf.Scalar,
    [gateUp, down],
  );
  const out = { y: values(y), dGateUp: values(grads[gateUp.name]!), dDown: values(grads[down.name]!) };
  tf.dispose([y, value, grads[gateUp.name]!, grads[down.name]!]);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, gateUp, down, w]);
  setKernelPath("auto");
  return { ...out, leaked };
}

describe.each(TEST_BACKENDS)("SwiGLU on the host path (%s)", (backend) => {
  afterAll(() => setKernelPath("auto"));

  it("agrees with the op chain (split, sigmoid, products), values and gradients; leaks nothing", async () => {
    await useBackend(backend);
    const host = run("host");
    const chain = run("tensor");
    expect(host.leaked).toBe(0);
    const scale = Math.max(...chain.y.map(Math.abs));
    expect(maxAbsDiff(host.y, chain.y) / scale).toBeLessThan(1e-6);
    expect(maxAbsDiff(host.dGateUp, chain.dGateUp) / Math.max(...chain.dGateUp.map(Math.abs))).toBeLessThan(1e-5);
    expect(maxAbsDiff(host.dDown, chain.dDown) / Math.max(...chain.dDown.map(Math.abs))).toBeLessThan(1e-5);
  });

  it("runs no split or sigmoid kernel", async () => {
    await useBackend(backend);
    const { x, gateUp, down } = inputs();
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(swiglu(x, gateUp, down)) as tf.Scalar, [gateUp, down]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names).not.toContain("SplitV");
    expect(names).not.toContain("Sigmoid");
    tf.dispose([x, gateUp, down]);
  });
});
