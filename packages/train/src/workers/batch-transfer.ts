import { BATCH_ROW_FIELDS, tf } from "@tokenrl/core";
import type { BatchField, HostBatchInfo, Tensor, TrainingBatch } from "@tokenrl/core";

/** One tensor as plain data that survives `postMessage` (structured clone). */
export interface TransferTensor {
  dtype: "float32" | "int32";
  shape: number[];
  values: Float32Array | Int32Array;
}

/** A TrainingBatch as plain data: every present tensor field read once, plus the host info. */
export interface TransferBatch {
  fields: Partial<Record<BatchField, TransferTensor>>;
  host?: HostBatchInfo;
}

/** Reads every present field of `batch` (one read each); the batch is untouched. */
export async function batchToTransfer(batch: TrainingBatch): Promise<TransferBatch> {
  const fields: Partial<Record<BatchField, TransferTensor>> = {};
  for (const field of BATCH_ROW_FIELDS) {
    const t = batch[field] as Tensor | undefined;
    if (t === undefined) continue;
    const dtype = t.dtype === "int32" ? "int32" : "float32";
    const values = (await t.data()) as Float32Array | Int32Array;
    // A copy: on wasm/cpu `data()` may hand out the backend's own storage.
    fields[field] = { dtype, shape: [...t.shape], values: values.slice() };
  }
  return batch.host ? { fields, host: batch.host } : { fields };
}

/** The tensors of a transferred batch (the caller disposes them, e.g. with core's `disposeBatch`). */
export function batchFromTransfer(data: TransferBatch): TrainingBatch {
  const out: Partial<Record<BatchField, Tensor>> = {};
  for (const [field, t] of Object.entries(data.fields) as [BatchField, TransferTensor][]) {
    out[field] = tf.tensor(t.values, t.shape, t.dtype);
  }
  const batch = out as unknown as TrainingBatch;
  if (data.host) batch.host = data.host;
  return batch;
}
