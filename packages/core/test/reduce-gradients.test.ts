import { describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "../src/index.js";

// tfjs-core 4.22's own gradients, written out: the re-registered ones must give these bits.
function reference(op: "sum" | "mean", x: tf.Tensor, dy: tf.Tensor, axis: number[]): tf.Tensor {
  const shape = x.shape.slice();
  for (const a of axis) shape[a] = 1;
  const spread = tf.mul(tf.reshape(dy, shape), tf.ones(x.shape));
  return op === "sum"
    ? spread
    : tf.div(
        spread,
        axis.reduce((n, a) => n * x.shape[a]!, 1),
      );
}

describe.each(TEST_BACKENDS)("Sum and Mean gradients on %s", (backend) => {
  it("are tfjs-core's, bit for bit, over every axis set and keepDims", async () => {
    await useBackend(backend);
    tf.engine().startScope();
    const x = tf.randomNormal([3, 5, 7], 0, 1, "float32", 11);
    for (const op of ["sum", "mean"] as const) {
      for (const axis of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
        for (const keepDims of [false, true]) {
          const f = (t: tf.Tensor) => (op === "sum" ? tf.sum(t, axis, keepDims) : tf.mean(t, axis, keepDims));
          const y = f(x);
          const dy = tf.randomUniform(y.shape, -1, 1, "float32", 3);
          const got = tf.grad(f)(x, dy);
          const want = reference(op, x, dy, axis);
          expect(Array.from(got.dataSync()), `${op} ${axis} ${keepDims}`).toEqual(Array.from(want.dataSync()));
        }
      }
    }
    tf.engine().endScope();
  });

  it("are the re-registered ones", async () => {
    await useBackend(backend);
    for (const name of ["Sum", "Mean"]) expect((tf.getGradient(name) as { filled?: boolean }).filled).toBe(true);
  });
});
