import { beforeAll, describe, expect, it } from "vitest";
import {
  DTypeError,
  InvalidInputError,
  ShapeError,
  batchFromArrays,
  disposeBatch,
  sliceHostInfo,
  tf,
  useBackend,
  validateBatch,
} from "../src/index.js";

beforeAll(async () => {
  await useBackend("cpu");
});

describe("validateBatch", () => {
  it("accepts a consistent batch and returns B and T", () => {
    const batch = batchFromArrays({
      responseMask: [
        [1, 1, 0],
        [1, 0, 0],
      ],
      responseIds: [
        [5, 6, 0],
        [7, 0, 0],
      ],
      logProbs: [
        [-1, -2, 0],
        [-3, 0, 0],
      ],
      groupIds: [0, 0],
      correct: [1, 0],
    });
    expect(validateBatch(batch, ["logProbs", "groupIds"])).toEqual({ B: 2, T: 3 });
    expect(batch.responseIds!.dtype).toBe("int32");
    expect(batch.logProbs!.dtype).toBe("float32");
    disposeBatch(batch);
  });

  it("names the field whose shape disagrees with responseMask", () => {
    const mask = tf.ones([2, 3]) as tf.Tensor2D;
    const oldLogProbs = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => validateBatch({ responseMask: mask, oldLogProbs })).toThrow(ShapeError);
    expect(() => validateBatch({ responseMask: mask, oldLogProbs })).toThrow(
      "oldLogProbs: expected shape [2, 3] (as responseMask), got [2, 4]",
    );
    tf.dispose([mask, oldLogProbs]);
  });

  it("names a missing required field and a wrong dtype", () => {
    const mask = tf.ones([2, 3]) as tf.Tensor2D;
    expect(() => validateBatch({ responseMask: mask }, ["advantages"])).toThrow(
      "advantages: expected shape [2, 3], got [] (required but missing)",
    );
    const groupIds = tf.tensor1d([0, 1], "float32");
    expect(() => validateBatch({ responseMask: mask, groupIds })).toThrow(DTypeError);
    expect(() => validateBatch({ responseMask: mask, groupIds })).toThrow(
      "groupIds: expected dtype int32, got float32",
    );
    tf.dispose([mask, groupIds]);
  });

  it("frees what it built when the arrays are inconsistent", () => {
    const before = tf.memory().numTensors;
    expect(() => batchFromArrays({ responseMask: [[1, 1]], correct: [1, 0] })).toThrow("correct: expected shape [1]");
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("host info beside the batch", () => {
  const arrays = {
    responseMask: [
      [1, 1, 0],
      [1, 0, 0],
    ],
  };

  it("accepts per-row arrays of length B and slices them by row", () => {
    const batch = batchFromArrays(arrays);
    batch.host = {
      correct: Float32Array.of(1, 0),
      groupIds: Int32Array.of(7, 7),
      rewards: Float32Array.of(1, -0.5),
      lengths: Int32Array.of(2, 1),
    };
    expect(validateBatch(batch)).toEqual({ B: 2, T: 3 });
    const sliced = sliceHostInfo(batch.host, [1]);
    expect(Array.from(sliced.rewards!)).toEqual([-0.5]);
    expect(Array.from(sliced.lengths!)).toEqual([1]);
    expect(Array.from(sliced.groupIds!)).toEqual([7]);
    expect(Array.from(sliced.correct!)).toEqual([0]);
    disposeBatch(batch);
  });

  it("rejects a host array of the wrong length and a length beyond T, naming the field", () => {
    const batch = batchFromArrays(arrays);
    batch.host = { rewards: Float32Array.of(1, 2, 3) };
    expect(() => validateBatch(batch)).toThrow(ShapeError);
    expect(() => validateBatch(batch)).toThrow(/host\.rewards: expected shape \[2\]/);
    batch.host = { lengths: Int32Array.of(2, 4) };
    expect(() => validateBatch(batch)).toThrow(InvalidInputError);
    expect(() => validateBatch(batch)).toThrow(/host\.lengths\[1\]: expected a token count in \[0, 3\], got 4/);
    disposeBatch(batch);
  });
});
