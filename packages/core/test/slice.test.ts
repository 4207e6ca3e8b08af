import { beforeAll, describe, expect, it } from "vitest";
import {
  BATCH_ROW_FIELDS,
  batchFromArrays,
  disposeBatch,
  sliceBatchRange,
  sliceBatchRows,
  tf,
  useBackend,
} from "../src/index.js";
import type { BatchField, Tensor } from "../src/index.js";

beforeAll(async () => {
  await useBackend("cpu");
});

// Every field filled with values that encode (row, column), so a slice can be checked cell by cell.
function fullBatch() {
  const B = 3;
  const T = 2;
  const P = 2;
  const m = (offset: number, cols: number) =>
    Array.from({ length: B }, (_, b) => Array.from({ length: cols }, (_, t) => offset + 10 * b + t));
  return batchFromArrays({
    promptIds: m(100, P),
    promptMask: m(200, P),
    responseIds: m(300, T),
    responseMask: m(400, T),
    logProbs: m(500, T),
    oldLogProbs: m(600, T),
    rolloutLogProbs: m(700, T),
    refLogProbs: m(800, T),
    entropy: m(900, T),
    tokenRewards: m(1000, T),
    values: m(1100, T),
    advantages: m(1200, T),
    returns: m(1300, T),
    groupIds: [0, 0, 1],
    correct: [1, 0, 1],
  });
}

describe("sliceBatchRows", () => {
  it("gathers the given rows of every TrainingBatch field, with dtypes kept", () => {
    const batch = fullBatch();
    expect(new Set(BATCH_ROW_FIELDS)).toEqual(new Set(Object.keys(batch)));
    const none = sliceBatchRows(batch, []);
    expect(none.host).toBeUndefined();
    disposeBatch(none);
    const before = tf.memory().numTensors;
    const sub = sliceBatchRows(batch, [2, 0]);
    expect(tf.memory().numTensors).toBe(before + BATCH_ROW_FIELDS.length);
    for (const field of BATCH_ROW_FIELDS) {
      const full = (batch[field] as Tensor).arraySync() as unknown[];
      const got = (sub[field] as Tensor).arraySync();
      expect(got, field).toEqual([full[2], full[0]]);
      expect((sub[field] as Tensor).dtype, field).toBe((batch[field] as Tensor).dtype);
    }
    disposeBatch(sub);
    disposeBatch(batch);
  });

  it("slices the host arrays with the tensors", () => {
    const batch = batchFromArrays({
      responseMask: [
        [1, 0],
        [1, 1],
        [0, 0],
      ],
      groupIds: [0, 0, 1],
    });
    batch.host = {
      correct: Float32Array.from([1, 0, 1]),
      groupIds: Int32Array.from([0, 0, 1]),
      rewards: Float32Array.from([0.5, -1, 2]),
      lengths: Int32Array.from([1, 2, 0]),
    };
    const sub = sliceBatchRows(batch, [2, 1]);
    expect(sub.host).toEqual({
      correct: Float32Array.from([1, 0]),
      groupIds: Int32Array.from([1, 0]),
      rewards: Float32Array.from([2, -1]),
      lengths: Int32Array.from([0, 2]),
    });
    disposeBatch(sub);
    disposeBatch(batch);
  });

  it("leaves absent fields absent and slices a range", () => {
    const batch = batchFromArrays({ responseMask: [[1], [0], [1]], correct: [1, 0, 1] });
    const sub = sliceBatchRange(batch, 1, 3);
    expect(Object.keys(sub).sort()).toEqual(["correct", "responseMask"] as BatchField[]);
    expect(sub.correct!.arraySync()).toEqual([0, 1]);
    disposeBatch(sub);
    disposeBatch(batch);
  });

  it("rejects a row outside the batch", () => {
    const batch = batchFromArrays({ responseMask: [[1], [1]] });
    expect(() => sliceBatchRows(batch, [0, 2])).toThrow("row 2 is not an index into a batch of 2 rows");
    expect(() => sliceBatchRows(batch, [0.5])).toThrow("row 0.5");
    disposeBatch(batch);
  });
});
