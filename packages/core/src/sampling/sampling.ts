import { ConfigError } from "@tokenrl/base/errors";
import type { Rng } from "@tokenrl/base/rng";
import { hostView, kernelPath } from "../placement.js";
import { tf } from "../tf.js";
import type { Tensor1D, Tensor2D } from "../tf.js";
import { sampleOnHost } from "./host.js";
import type { SampledTokens } from "./host.js";
import { isGreedy, resolveSamplingParams } from "./params.js";
import type { ResolvedSamplingParams, SamplingParams } from "./params.js";

export type { SampledTokens } from "./host.js";

/**
 * The processed sampling logits for a batch `[B, V]`: temperature, then top-k,
 * then top-p, then min-p (vLLM's order), each dropped token set to -Infinity.
 * Not normalised. The top token always survives, so no row is ever empty. Ties
 * at a threshold are all kept. Greedy returns the logits unchanged.
 */
export function filterLogits(logits: Tensor2D, params: SamplingParams | ResolvedSamplingParams): Tensor2D {
  const p = resolveSamplingParams(params);
  return tf.tidy(() => {
    let x = tf.cast(logits, "float32") as Tensor2D;
    if (isGreedy(p)) return x;
    const [, V] = x.shape;
    const negInf = Number.NEGATIVE_INFINITY;
    if (p.temperature !== 1) x = tf.div(x, p.temperature);
    if (p.topK > 0 && p.topK < V) {
      const kth = tf.slice(tf.topk(x, p.topK).values, [0, p.topK - 1], [-1, 1]);
      x = tf.where(tf.greaterEqual(x, kth), x, negInf);
    }
    if (p.topP < 1) {
      const sorted = tf.topk(x, V).values;
      // Mass strictly before each sorted token; a token is kept while that is below p,
      // so the first (most likely) token is always kept.
      const before = tf.cumsum(tf.softmax(sorted), 1, true);
      const kept = tf.where(tf.less(before, p.topP), sorted, tf.fill(sorted.shape, Number.POSITIVE_INFINITY));
      const threshold = tf.min(kept, 1, true);
      x = tf.where(tf.greaterEqual(x, threshold), x, negInf);
    }
    if (p.minP > 0) {
      const probs = tf.softmax(x);
      const floor = tf.mul(tf.max(probs, 1, true), p.minP);
      x = tf.where(tf.greaterEqual(probs, floor), x, negInf);
    }
    return x;
  });
}

/** Log-probs of the processed sampling distribution (`log_softmax(filterLogits(...))`); greedy gives log_softmax(logits). */
export function processLogits(logits: Tensor2D, params: SamplingParams | ResolvedSamplingParams): Tensor2D {
  return tf.tidy(() => tf.logSoftmax(filterLogits(logits, params)) as Tensor2D);
}

/** x[b, idx[b]] per row. One-hot select rather than tf.gather with batchDims, which reads out of bounds on the wasm backend (tfjs 4.22). */
function pick(x: Tensor2D, idx: Tensor1D): Tensor1D {
  const chosen = tf.cast(tf.oneHot(idx, x.shape[1]), "bool");
  return tf.sum(tf.where(chosen, x, 0), 1) as Tensor1D;
}

/** x[b, idx[b]] - logsumexp(x[b]) per row. */
function logProbAt(x: Tensor2D, idx: Tensor1D): Tensor1D {
  return tf.sub(pick(x, idx), tf.logSumExp(x, 1)) as Tensor1D;
}

/**
 * Samples one token per row of `logits` `[B, V]`. Randomness comes from `rngs`
 * (one per row, so a row's tokens do not depend on which other rows share the
 * batch): each row draws one uniform u in (0, 1) and takes the first token
 * whose cumulative unnormalised probability reaches u times the row's total
 * (inverse CDF on the device; only B numbers go in and 2B come back, and the
 * [B, V] work is one exp and one cumsum).
 */
export async function sampleTokens(
  logits: Tensor2D,
  params: SamplingParams | ResolvedSamplingParams,
  rngs: readonly Rng[],
): Promise<SampledTokens> {
  const p = resolveSamplingParams(params);
  const uniforms = drawUniforms(logits, p, rngs);
  if (kernelPath() === "host") return sampleHost(logits, p, uniforms);
  const [ids, lps] = sampleOnDevice(logits, p, uniforms);
  try {
    const [tokenIds, logProbs] = await Promise.all([
      ids.data() as Promise<Int32Array>,
      lps.data() as Promise<Float32Array>,
    ]);
    return { tokenIds, logProbs };
  } finally {
    ids.dispose();
    lps.dispose();
  }
}

/** `sampleTokens` with a blocking read of the device result (single-prompt generation, CLIs). */
export function sampleTokensSync(
  logits: Tensor2D,
  params: SamplingParams | ResolvedSamplingParams,
  rngs: readonly Rng[],
): SampledTokens {
  const p = resolveSamplingParams(params);
  const uniforms = drawUniforms(logits, p, rngs);
  if (kernelPath() === "host") return sampleHost(logits, p, uniforms);
  const [ids, lps] = sampleOnDevice(logits, p, uniforms);
  try {
    return { tokenIds: ids.dataSync() as Int32Array, logProbs: lps.dataSync() as Float32Array };
  } finally {
    ids.dispose();
    lps.dispose();
  }
}

/** One uniform in (0, 1) per row from the row's own stream (none when greedy). */
function drawUniforms(logits: Tensor2D, p: ResolvedSamplingParams, rngs: readonly Rng[]): number[] {
  const [B] = logits.shape;
  if (isGreedy(p)) return [];
  if (rngs.length !== B) throw new ConfigError("rngs", `expected one Rng per row (${B}), got ${rngs.length}`);
  // A loop, not a callback made per call (its optimised code would go with it, every RL step).
  const out = new Array<number>(B);
  for (let b = 0; b < B; b++) {
    let u = rngs[b]!.next();
    while (u === 0) u = rngs[b]!.next();
    out[b] = u;
  }
  return out;
}

function sampleHost(logits: Tensor2D, p: ResolvedSamplingParams, uniforms: readonly number[]): SampledTokens {
  const [B, V] = logits.shape;
  // A no-copy view on wasm: sampleOnHost allocates no tensor while it reads it.
  return sampleOnHost(hostView(logits) as Float32Array | Int32Array, B, V, p, uniforms);
}

/** The tensor path: token ids `[B]` int32 and their log-probs `[B]` (the caller disposes both). */
function sampleOnDevice(
  logits: Tensor2D,
  p: ResolvedSamplingParams,
  uniforms: readonly number[],
): [Tensor1D, Tensor1D] {
  const [B] = logits.shape;
  return tf.tidy(() => {
    const raw = tf.cast(logits, "float32") as Tensor2D;
    if (isGreedy(p)) {
      const idx = tf.cast(tf.argMax(raw, 1), "int32") as Tensor1D;
      return [idx, logProbAt(raw, idx)];
    }
    const x = filterLogits(raw, p);
    const V = x.shape[1];
    const m = tf.max(x, 1, true);
    const cdf = tf.cumsum(tf.exp(tf.sub(x, m)), 1);
    const total = tf.slice(cdf, [0, V - 1], [-1, 1]);
    // u < 1 makes target < total, so the index is at most V - 1; a dropped token adds
    // nothing to the cdf, so cdf_i >= target > cdf_{i-1} never holds for it.
    const target = tf.mul(tf.tensor2d(uniforms as number[], [B, 1]), total);
    const idx = tf.sum(tf.cast(tf.less(cdf, target), "int32"), 1) as Tensor1D;
    let logProbs: Tensor1D;
    if (p.logProbsMode === "raw") logProbs = logProbAt(raw, idx);
    else if (p.logProbsMode === "temperature") logProbs = logProbAt(tf.div(raw, p.temperature) as Tensor2D, idx);
    else logProbs = tf.sub(tf.sub(pick(x, idx), tf.reshape(m, [B])), tf.log(tf.reshape(total, [B]))) as Tensor1D;
    return [idx, logProbs];
  }) as [Tensor1D, Tensor1D];
}
