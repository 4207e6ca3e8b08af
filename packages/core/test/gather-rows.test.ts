import { afterAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { InvalidInputError, gatherRows, setKernelPath, tf, useBackend } from "../src/index.js";

describe.each(TEST_BACKENDS)("gatherRows on %s", (backend) => {
  afterAll(() => setKernelPath("auto"));

  it.each([
    "host",
    "tensor",
  ] as const)("%s path: equals tf.gather along axis 0 for every dtype, repeats and index shapes", async (path) => {
    await useBackend(backend);
    setKernelPath(path);
    const f = tf.tensor3d(
      Array.from({ length: 24 }, (_, i) => i * 0.5 - 3),
      [4, 3, 2],
    );
    const n = tf.tensor2d([1, -2, 3, 4, 5, 6, 7, 8], [4, 2], "int32");
    const b = tf.tensor1d([true, false, false, true], "bool");
    const rows = [3, 0, 0, 2];
    for (const t of [f, n, b]) {
      const before = tf.memory().numTensors;
      const got = gatherRows(t, rows);
      expect(tf.memory().numTensors).toBe(before + 1); // the result only: nothing left behind
      const want = tf.gather(t, tf.tensor1d(rows, "int32"));
      expect(got.shape).toEqual(want.shape);
      expect(got.dtype).toBe(t.dtype);
      expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
      tf.dispose([want, got]);
    }
    const idx = tf.tensor2d([2, 1, 0, 3, 3, 1], [2, 3], "int32");
    const got = gatherRows(f, idx);
    expect(got.shape).toEqual([2, 3, 3, 2]);
    expect(Array.from(got.dataSync()).slice(0, 6)).toEqual(Array.from(f.dataSync()).slice(12, 18));
    const fromInt32 = gatherRows(n, Int32Array.from([1]));
    expect(Array.from(fromInt32.dataSync())).toEqual([3, 4]);
    tf.dispose([f, n, b, idx, got, fromInt32]);
    setKernelPath("auto");
  });

  it("refuses an index outside the rows, float indices and a scalar, with typed errors", async () => {
    await useBackend(backend);
    const t = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const before = tf.memory().numTensors;
    for (const path of ["host", "tensor"] as const) {
      setKernelPath(path);
      expect(() => gatherRows(t, [0, 2])).toThrow(InvalidInputError);
      expect(() => gatherRows(t, [-1])).toThrow(/row -1 is outside \[0, 2\)/);
      expect(() => gatherRows(t, [0.5])).toThrow(InvalidInputError);
    }
    setKernelPath("host");
    const fidx = tf.tensor1d([0, 1], "float32");
    expect(() => gatherRows(t, fidx)).toThrow(/must be int32/);
    const bad = tf.tensor1d([0, 5], "int32");
    expect(() => gatherRows(t, bad)).toThrow(/row 5 is outside/);
    const s = tf.scalar(1);
    expect(() => gatherRows(s, [0])).toThrow(/rank >= 1/);
    tf.dispose([fidx, bad, s]);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    setKernelPath("auto");
  });
});
