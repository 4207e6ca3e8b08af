import { ConfigError, tf } from "@tokenrl/core";
import type { Rng, Tensor1D, Tensor2D } from "@tokenrl/core";
import { HOST_SAMPLING_BACKENDS, sampleOnHost } from "./host-sampling.js";

/**
 * Which distribution `rolloutLogProbs` are the log-probs of.
 *
 * - `"processed"` (default): the distribution the token was actually sampled
 *   from, after temperature, top-k, top-p and min-p. This is the behaviour
 *   policy mu, the right denominator for truncated importance sampling; it is
 *   vLLM's `--logprobs-mode processed_logprobs`, which verl sets by default for
 *   its rollouts (verl PR #4755). With top-k/top-p/min-p off it equals
 *   `"temperature"`, i.e. what a trainer recomputes as `log_softmax(logits / T)`.
 * - `"temperature"`: `log_softmax(logits / T)`, before truncation.
 * - `"raw"`: `log_softmax(logits)`, the model's own distribution (vLLM's default
 *   `raw_logprobs`).
 *
 * Greedy decoding (temperature 0) samples from a point mass, whose log-prob (0)
 * says nothing, so every mode reports `log_softmax(logits)` there, as vLLM does.
 */
export type LogProbsMode = "processed" | "temperature" | "raw";
export const LOG_PROBS_MODES: readonly LogProbsMode[] = ["processed", "temperature", "raw"];

/** Decoding options, named and defaulted as vLLM's `SamplingParams`. */
export interface SamplingParams {
  /** Softmax temperature; 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 or -1 disables. Default 0. */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of top tokens whose mass reaches p (Holtzman et al., 2020). Default 1 (off). */
  topP?: number;
  /** Drop tokens whose probability is below minP times the top token's (Nguyen et al., 2024). Default 0 (off). */
  minP?: number;
  /** New tokens per response, at least 1. Default 256. */
  maxTokens?: number;
  /** Stop when the decoded response contains one of these strings (needs a tokenizer). */
  stop?: string[];
  /** Stop after emitting one of these token ids (the token is kept, as EOS is). */
  stopTokenIds?: number[];
  /** Keep generating through EOS (benchmarks). Default false. */
  ignoreEos?: boolean;
  /** Keep the matched stop string at the end of `text`. Default false (vLLM's default). */
  includeStopStrInOutput?: boolean;
  /** Seed for this call; default: the engine's seed stream. */
  seed?: number;
  /** See LogProbsMode. Default "processed". */
  logProbsMode?: LogProbsMode;
}

export type ResolvedSamplingParams = Required<Omit<SamplingParams, "seed">> & { seed?: number };

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new ConfigError(`sampling.${field}`, message);
}

/** Fills defaults and checks ranges; throws a ConfigError naming the bad field. */
export function resolveSamplingParams(params: SamplingParams = {}): ResolvedSamplingParams {
  const r: ResolvedSamplingParams = {
    temperature: params.temperature ?? 1,
    topK: params.topK ?? 0,
    topP: params.topP ?? 1,
    minP: params.minP ?? 0,
    maxTokens: params.maxTokens ?? 256,
    stop: params.stop ?? [],
    stopTokenIds: params.stopTokenIds ?? [],
    ignoreEos: params.ignoreEos ?? false,
    includeStopStrInOutput: params.includeStopStrInOutput ?? false,
    logProbsMode: params.logProbsMode ?? "processed",
    ...(params.seed !== undefined ? { seed: params.seed } : {}),
  };
  check(
    Number.isFinite(r.temperature) && r.temperature >= 0,
    "temperature",
    `must be >= 0 (0 = greedy), got ${r.temperature}`,
  );
  check(Number.isInteger(r.topK) && r.topK >= -1, "topK", `must be an integer >= 0 (0 or -1 = off), got ${r.topK}`);
  check(r.topP > 0 && r.topP <= 1, "topP", `must be in (0, 1], got ${r.topP}`);
  check(r.minP >= 0 && r.minP <= 1, "minP", `must be in [0, 1], got ${r.minP}`);
  check(Number.isInteger(r.maxTokens) && r.maxTokens >= 1, "maxTokens", `must be an integer >= 1, got ${r.maxTokens}`);
  check(
    Array.isArray(r.stop) && r.stop.every((s) => typeof s === "string" && s.length > 0),
    "stop",
    "must be a list of non-empty strings",
  );
  check(
    Array.isArray(r.stopTokenIds) && r.stopTokenIds.every((t) => Number.isInteger(t) && t >= 0),
    "stopTokenIds",
    "must be a list of token ids",
  );
  check(
    LOG_PROBS_MODES.includes(r.logProbsMode),
    "logProbsMode",
    `must be one of ${LOG_PROBS_MODES.join(", ")}, got "${r.logProbsMode}"`,
  );
  if (r.seed !== undefined) check(Number.isFinite(r.seed), "seed", `must be a finite number, got ${r.seed}`);
  return r;
}

export function isGreedy(params: ResolvedSamplingParams): boolean {
  return params.temperature === 0;
}

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

/** One sampled token per row and its log-prob under the mode's distribution. */
export interface SampledTokens {
  tokenIds: Int32Array;
  logProbs: Float32Array;
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
  const [B] = logits.shape;
  if (!isGreedy(p) && rngs.length !== B)
    throw new ConfigError("rngs", `expected one Rng per row (${B}), got ${rngs.length}`);
  const uniforms = isGreedy(p)
    ? []
    : rngs.map((rng) => {
        let u = rng.next();
        while (u === 0) u = rng.next();
        return u;
      });
  if (HOST_SAMPLING_BACKENDS.has(tf.getBackend())) return sampleOnHost(logits, p, uniforms);
  const [ids, lps] = tf.tidy(() => {
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
    const target = tf.mul(tf.tensor2d(uniforms, [B, 1]), total);
    const idx = tf.sum(tf.cast(tf.less(cdf, target), "int32"), 1) as Tensor1D;
    let logProbs: Tensor1D;
    if (p.logProbsMode === "raw") logProbs = logProbAt(raw, idx);
    else if (p.logProbsMode === "temperature") logProbs = logProbAt(tf.div(raw, p.temperature) as Tensor2D, idx);
    else logProbs = tf.sub(tf.sub(pick(x, idx), tf.reshape(m, [B])), tf.log(tf.reshape(total, [B]))) as Tensor1D;
    return [idx, logProbs];
  });
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
