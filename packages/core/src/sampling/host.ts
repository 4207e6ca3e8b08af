import type { ResolvedSamplingParams } from "./params.js";

/** One sampled token per row and its log-prob under the mode's distribution. */
export interface SampledTokens {
  tokenIds: Int32Array;
  logProbs: Float32Array;
}

/**
 * Why a host path: where tensors live in host memory (wasm, cpu) the tensor
 * sampler's dozen `[B, V]` kernels (top-p's full sort, broadcasting `where`s
 * that tile, cumsums) cost more than one read of the logits and a loop in JS
 * (at batch 64, V 6000: ~230 ms of a ~360 ms decode step on wasm). Elsewhere
 * (`kernelPath() === "tensor"`) the tensor path runs, which needs no
 * device-to-host copy of `[B, V]`.
 */
/**
 * `sampleTokens` computed from the logits `[B, V]` as a host array, with the tensor path's
 * semantics: temperature, top-k (ties at the k-th value kept), top-p (a token
 * is kept while the mass strictly before it in descending order is below p),
 * min-p, then inverse-CDF sampling of `uniforms[b]` over the surviving
 * `exp(x - max)` in vocabulary order. Greedy (no uniforms) takes the first
 * argmax and reports `log_softmax(logits)` there.
 */
export function sampleOnHost(
  data: Float32Array | Int32Array,
  B: number,
  V: number,
  p: ResolvedSamplingParams,
  uniforms: readonly number[],
): SampledTokens {
  const tokenIds = new Int32Array(B);
  const logProbs = new Float32Array(B);
  const greedy = p.temperature === 0;
  const x = new Float32Array(V);
  const sorted = new Float32Array(V);
  const e = new Float64Array(V);
  const useTopK = !greedy && p.topK > 0 && p.topK < V;
  const useTopP = !greedy && p.topP < 1;
  for (let b = 0; b < B; b++) {
    const raw = data.subarray(b * V, (b + 1) * V);
    if (greedy) {
      let idx = 0;
      for (let i = 1; i < V; i++) if (raw[i]! > raw[idx]!) idx = i;
      tokenIds[b] = idx;
      logProbs[b] = raw[idx]! - logSumExp(raw);
      continue;
    }
    if (p.temperature !== 1) for (let i = 0; i < V; i++) x[i] = raw[i]! / p.temperature;
    else x.set(raw);
    if (useTopK || useTopP) {
      sorted.set(x);
      sorted.sort(); // ascending; NaN last
    }
    if (useTopK) {
      const kth = sorted[V - p.topK]!;
      for (let i = 0; i < V; i++) if (x[i]! < kth) x[i] = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < V - p.topK; i++) if (sorted[i]! < kth) sorted[i] = Number.NEGATIVE_INFINITY;
    }
    if (useTopP) {
      const top = sorted[V - 1]!;
      let z = 0;
      for (let i = 0; i < V; i++) z += Math.exp(sorted[i]! - top);
      let before = 0;
      let threshold = top;
      for (let i = V - 1; i >= 0 && before < p.topP; i--) {
        threshold = sorted[i]!;
        before += Math.exp(threshold - top) / z;
      }
      for (let i = 0; i < V; i++) if (x[i]! < threshold) x[i] = Number.NEGATIVE_INFINITY;
    }
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < V; i++) if (x[i]! > m) m = x[i]!;
    let total = 0;
    for (let i = 0; i < V; i++) {
      let w = Math.exp(x[i]! - m);
      // min-p: probability below minP x the top one's, i.e. exp(x - max) < minP.
      if (w < p.minP) {
        w = 0;
        x[i] = Number.NEGATIVE_INFINITY;
      }
      e[i] = w;
      total += w;
    }
    // Same rule as the tensor path: the index is the count of cdf entries below u * total.
    const target = uniforms[b]! * total;
    let cdf = 0;
    let idx = 0;
    for (; idx < V - 1; idx++) {
      cdf += e[idx]!;
      if (cdf >= target) break;
    }
    tokenIds[b] = idx;
    if (p.logProbsMode === "raw") logProbs[b] = raw[idx]! - logSumExp(raw);
    else if (p.logProbsMode === "temperature") {
      const t = p.temperature;
      let mt = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < V; i++) if (raw[i]! / t > mt) mt = raw[i]! / t;
      let s = 0;
      for (let i = 0; i < V; i++) s += Math.exp(raw[i]! / t - mt);
      logProbs[b] = raw[idx]! / t - mt - Math.log(s);
    } else logProbs[b] = x[idx]! - m - Math.log(total);
  }
  return { tokenIds, logProbs };
}

function logSumExp(row: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i]! > m) m = row[i]!;
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - m);
  return m + Math.log(s);
}
