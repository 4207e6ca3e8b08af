import { describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "../src/index.js";

/** The backend's data ids in use (tfjs-backend-wasm / -cpu both keep a dataIdMap with a numDataIds()). */
const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe.each(TEST_BACKENDS)("Identity shares data on %s", (backend) => {
  it("a clone shares its input's data, and each survives the other's disposal", async () => {
    await useBackend(backend);
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const before = dataIds();
    const y = tf.clone(x);
    expect(dataIds()).toBe(before); // no new buffer: wasm used to copy here
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(dataIds()).toBe(before - 1);
  });

  it("a variable assigned after a clone leaves the clone's values alone", async () => {
    await useBackend(backend);
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, snapshot]);
  });

  it("the taped forward saves no copies, and gradients are unchanged", async () => {
    await useBackend(backend);
    const w = tf.variable(tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.75], [2, 3]));
    const x = tf.tensor2d([1, 2, -1, 0.5], [2, 2]);
    let added = -1;
    const loss = () => {
      const z = tf.mul(tf.matMul(x, w), 1.7);
      const before = dataIds();
      // Softmax's gradient saves its output: tfjs-core clones it, and the clone takes no new buffer.
      const s = tf.softmax(z);
      added = dataIds() - before;
      return tf.sum(s) as tf.Scalar;
    };
    const { value, grads } = tf.variableGrads(loss, [w]);
    expect(added).toBe(1);
    // d/dw of sum(softmax(.)) is zero up to rounding: the rows of softmax sum to 1.
    for (const g of grads[w.name]!.dataSync()) expect(Math.abs(g)).toBeLessThan(1e-6);
    tf.dispose([w, x, value, grads[w.name]!]);
  });
});
