import { totalmem } from "node:os";
import { tf } from "@tokenrl/core";
import type { GenerativeModel } from "./model.js";

/**
 * Peak bytes of one row in a generate call on a decoder like `@tokenrl/policy`'s
 * (float32; its forward keeps every layer's intermediates until it returns):
 * the prefill's full-sequence logits (counted even though generation asks for
 * the last position's only, which a model may ignore), each layer's attention
 * scores and activations, and the KV cache. An estimate for budgeting, on the
 * safe side, not a measurement.
 */
export function estimateRowBytes(
  config: GenerativeModel["config"],
): (promptLength: number, maxTokens: number) => number {
  const c = config as GenerativeModel["config"] & {
    hiddenSize?: number;
    intermediateSize?: number;
    numLayers?: number;
    numHeads?: number;
    numKvHeads?: number;
    headDim?: number;
  };
  const hidden = c.hiddenSize ?? 4096;
  const heads = c.numHeads ?? 32;
  const kvHeads = c.numKvHeads ?? heads;
  const headDim = c.headDim ?? Math.ceil(hidden / heads);
  const layers = c.numLayers ?? 32;
  const inter = c.intermediateSize ?? 4 * hidden;
  const V = c.vocabSize;
  return (P, T) =>
    4 *
    (2 * P * V +
      layers * (4 * heads * P * P + P * (10 * hidden + 4 * inter)) +
      4 * layers * kvHeads * headDim * (P + T));
}

const GiB = 2 ** 30;

/**
 * The default memory budget of running batches. On wasm every tensor, the
 * weights included, lives in one heap of at most 4 GiB (wasm32), and a heap
 * that cannot grow traps and is lost: 2.5 GiB less what is allocated now (the
 * weights), at least 256 MiB. Elsewhere a quarter of the machine's memory.
 */
export function defaultBatchBytes(): number {
  if (tf.getBackend() === "wasm") return Math.max(GiB / 4, Math.floor(2.5 * GiB - tf.memory().numBytes));
  return Math.floor(totalmem() / 4);
}
