// The prefill of a generate call's distinct prompts in one SharedArrayBuffer:
// each worker writes its share, then every worker reads the ones its rows need.
import type { KVCacheData } from "@tokenrl/policy";

/** The shape of one call's shared prefill. */
export interface PrefixLayout {
  /** Distinct prompts of the call. */
  distinct: number;
  /** The call's padded prompt length. */
  length: number;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
}

/**
 * Float32 regions, each `[distinct, ...]` row-major: per layer the keys and
 * values `[U, nkv, P, D]`, the mask `[U, P]`, the last-position logits `[U, V]`.
 */
function regions(l: PrefixLayout): { kv: number; mask: number; logits: number; total: number } {
  const kv = l.distinct * l.numKvHeads * l.length * l.headDim;
  const mask = 2 * l.numLayers * kv;
  const logits = mask + l.distinct * l.length;
  return { kv, mask, logits, total: logits + l.distinct * l.vocabSize };
}

export function prefixBuffer(layout: PrefixLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(regions(layout).total * Float32Array.BYTES_PER_ELEMENT);
}

/** Writes distinct prompts `start ..` (a worker's share, `data.batchSize` of them) and their logits. */
export function writePrefix(
  buffer: SharedArrayBuffer,
  layout: PrefixLayout,
  start: number,
  data: KVCacheData,
  logits: Float32Array,
): void {
  const r = regions(layout);
  const f = new Float32Array(buffer);
  const kvRow = layout.numKvHeads * layout.length * layout.headDim;
  for (let l = 0; l < layout.numLayers; l++) {
    f.set(data.keys[l]!, 2 * l * r.kv + start * kvRow);
    f.set(data.values[l]!, (2 * l + 1) * r.kv + start * kvRow);
  }
  f.set(data.mask, r.mask + start * layout.length);
  f.set(logits, r.logits + start * layout.vocabSize);
}

/** The listed distinct prompts (repeats allowed), in that order, as a cache's data and their logits `[rows, V]`. */
export function readPrefix(
  buffer: SharedArrayBuffer,
  layout: PrefixLayout,
  rows: readonly number[],
): { data: KVCacheData; logits: Float32Array } {
  const r = regions(layout);
  const f = new Float32Array(buffer);
  const gather = (base: number, width: number) => {
    const out = new Float32Array(rows.length * width);
    rows.forEach((u, i) => out.set(f.subarray(base + u * width, base + (u + 1) * width), i * width));
    return out;
  };
  const kvRow = layout.numKvHeads * layout.length * layout.headDim;
  const layers = Array.from({ length: layout.numLayers }, (_, l) => l);
  return {
    data: {
      batchSize: rows.length,
      length: layout.length,
      numKvHeads: layout.numKvHeads,
      headDim: layout.headDim,
      keys: layers.map((l) => gather(2 * l * r.kv, kvRow)),
      values: layers.map((l) => gather((2 * l + 1) * r.kv, kvRow)),
      mask: gather(r.mask, layout.length),
    },
    logits: gather(r.logits, layout.vocabSize),
  };
}
