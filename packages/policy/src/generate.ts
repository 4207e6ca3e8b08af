import { InvalidInputError, createRng, tf } from "@tokenrl/core";
import type { Tensor2D } from "@tokenrl/core";
import type { CausalLM } from "./model.js";

export interface GenerateOptions {
  /** Tokens to generate at most (default 64). */
  maxTokens?: number;
  /** 0 = greedy (default 1). */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = off, the default). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off, the default). */
  topP?: number;
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Ids that end generation (default: the config's eosTokenIds); the stop id is included in the output. */
  stopIds?: readonly number[];
}

export interface GenerateResult {
  /** Generated ids (prompt excluded). */
  ids: number[];
  /** log-prob of each generated id under the sampling distribution's source, the model's full softmax at temperature 1. */
  logProbs: number[];
  finishReason: "stop" | "length";
}

/**
 * Samples one continuation of one prompt with a KV cache: the minimal
 * generator behind `tokenrl-policy generate`. Batched rollouts, groups and
 * the full sampler live in @tokenrl/rollout (which depends on this package).
 */
export function generate(model: CausalLM, promptIds: readonly number[], options: GenerateOptions = {}): GenerateResult {
  const maxTokens = options.maxTokens ?? 64;
  const temperature = options.temperature ?? 1;
  const topK = options.topK ?? 0;
  const topP = options.topP ?? 1;
  if (promptIds.length === 0) throw new InvalidInputError("generate: the prompt must have at least one token");
  if (!Number.isInteger(maxTokens) || maxTokens < 0)
    throw new InvalidInputError(`generate: maxTokens must be a non-negative integer, got ${maxTokens}`);
  if (!(temperature >= 0)) throw new InvalidInputError(`generate: temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new InvalidInputError(`generate: topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0)
    throw new InvalidInputError(`generate: topK must be a non-negative integer, got ${topK}`);
  const stop = new Set(options.stopIds ?? model.config.eosTokenIds);
  const rng = createRng(options.seed ?? 0);
  const ids: number[] = [];
  const logProbs: number[] = [];
  let cache = model.createCache(1, promptIds.length + maxTokens);
  let input = tf.tensor2d([Array.from(promptIds)], [1, promptIds.length], "int32");
  try {
    for (let step = 0; step < maxTokens; step++) {
      const out = model.forward(input, { cache });
      cache = out.cache;
      input.dispose();
      const last = tf.tidy(() =>
        tf.logSoftmax(tf.reshape(tf.slice(out.logits, [0, out.logits.shape[1] - 1, 0], [1, 1, -1]), [-1])),
      );
      out.logits.dispose();
      const logp = last.dataSync() as Float32Array;
      last.dispose();
      const token = sampleToken(logp, temperature, topK, topP, rng.next());
      ids.push(token);
      logProbs.push(logp[token]!);
      if (stop.has(token)) return { ids, logProbs, finishReason: "stop" };
      input = tf.tensor2d([[token]], [1, 1], "int32");
    }
    input.dispose();
    return { ids, logProbs, finishReason: "length" };
  } finally {
    if (!input.isDisposed) input.dispose();
    cache.dispose();
  }
}

/** Picks a token from log-probs: argmax at temperature 0, else top-k then top-p filtered sampling with uniform draw u. */
export function sampleToken(logp: Float32Array, temperature: number, topK: number, topP: number, u: number): number {
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < logp.length; i++) if (logp[i]! > logp[best]!) best = i;
    return best;
  }
  const order = Array.from(logp.keys()).sort((a, b) => logp[b]! - logp[a]!);
  const k = topK > 0 ? Math.min(topK, order.length) : order.length;
  const kept = order.slice(0, k);
  const max = logp[kept[0]!]!;
  let weights = kept.map((i) => Math.exp((logp[i]! - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  weights = weights.map((w) => w / total);
  let n = weights.length;
  if (topP < 1) {
    let acc = 0;
    for (let i = 0; i < weights.length; i++) {
      acc += weights[i]!;
      if (acc >= topP) {
        n = i + 1;
        break;
      }
    }
  }
  const mass = weights.slice(0, n).reduce((a, b) => a + b, 0);
  let r = u * mass;
  for (let i = 0; i < n; i++) {
    r -= weights[i]!;
    if (r < 0) return kept[i]!;
  }
  return kept[n - 1]!;
}

/** Per-token log-probs and entropies of a single sequence: entry i scores ids[i] from the distribution at i - 1 (null at i = 0). */
export function scoreSequence(
  model: CausalLM,
  ids: readonly number[],
): { logProbs: (number | null)[]; entropies: (number | null)[] } {
  if (ids.length === 0) return { logProbs: [], entropies: [] };
  const input = tf.tensor2d([Array.from(ids)], [1, ids.length], "int32") as Tensor2D;
  const { logits, cache } = model.forward(input);
  cache.dispose();
  const [lp, ent] = tf.tidy(() => {
    const logp = tf.logSoftmax(tf.reshape(logits, [ids.length, -1]));
    return [logp, tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1))];
  });
  const V = model.config.vocabSize;
  const logp = lp!.dataSync();
  const entropies = ent!.dataSync();
  tf.dispose([input, logits, lp!, ent!]);
  const logProbs: (number | null)[] = [null];
  const ents: (number | null)[] = [null];
  for (let i = 1; i < ids.length; i++) {
    logProbs.push(logp[(i - 1) * V + ids[i]!]!);
    ents.push(entropies[i - 1]!);
  }
  return { logProbs, entropies: ents };
}
