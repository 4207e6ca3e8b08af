import { InvalidInputError } from "@tokenrl/base/errors";
import { sliceHostInfo } from "./batch.js";
import { gatherRows } from "./gather-rows.js";
import type { BatchField, TrainingBatch } from "./batch.js";
import type { Tensor } from "./tf.js";

/**
 * Every TrainingBatch field, each with its row axis (all are row-major in B).
 * `satisfies Record<BatchField, 0>` makes a field added to the type without a
 * line here a compile error, so slicing can never silently drop one.
 */
const ROW_AXIS = {
  promptIds: 0,
  promptMask: 0,
  responseIds: 0,
  responseMask: 0,
  logProbs: 0,
  oldLogProbs: 0,
  rolloutLogProbs: 0,
  refLogProbs: 0,
  entropy: 0,
  tokenRewards: 0,
  values: 0,
  advantages: 0,
  returns: 0,
  groupIds: 0,
  correct: 0,
} as const satisfies Record<BatchField, 0>;

/** The tensor fields `sliceBatchRows` gathers: every one of `TrainingBatch` (and `host` is sliced too). */
export const BATCH_ROW_FIELDS = Object.keys(ROW_AXIS) as BatchField[];

/**
 * A new batch holding only `rows` (in the given order) of every present field,
 * the host arrays (`batch.host`) included; absent fields stay absent. Group ids are kept as they are (not renumbered), so
 * a slice of whole groups partitions and normalises exactly as the full batch
 * does. The caller owns the new tensors (`disposeBatch`); `batch` is untouched.
 */
export function sliceBatchRows(batch: TrainingBatch, rows: readonly number[]): TrainingBatch {
  const B = batch.responseMask.shape[0];
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0 || r >= B)
      throw new InvalidInputError(`sliceBatchRows: row ${r} is not an index into a batch of ${B} rows`);
  }
  const out: Partial<Record<BatchField, Tensor>> = {};
  for (const field of BATCH_ROW_FIELDS) {
    const t = batch[field] as Tensor | undefined;
    if (t !== undefined) out[field] = gatherRows(t, rows);
  }
  const sliced = out as unknown as TrainingBatch;
  if (batch.host) sliced.host = sliceHostInfo(batch.host, rows);
  return sliced;
}

/** Rows `[start, end)` of every present field (see `sliceBatchRows`). */
export function sliceBatchRange(batch: TrainingBatch, start: number, end: number): TrainingBatch {
  return sliceBatchRows(
    batch,
    Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i),
  );
}
