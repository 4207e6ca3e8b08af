import { InvalidInputError, createRng, resolveSamplingParams, sampleTokensSync, tf } from "@tokenrl/core";
import type { LogProbsMode, Tensor2D } from "@tokenrl/core";
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
  /** Drop tokens below minP times the top token's probability (0 = off, the default). */
  minP?: number;
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Ids that end generation (default: the config's eosTokenIds); the stop id is included in the output. */
  stopIds?: readonly number[];
  /** Which distribution `logProbs` are of (default "processed": the one sampled from); see @tokenrl/core's LogProbsMode. */
  logProbsMode?: LogProbsMode;
}

export interface GenerateResult {
  /** Generated ids (prompt excluded). */
  ids: number[];
  /** log-prob of each generated id under `logProbsMode`'s distribution. */
  logProbs: number[];
  finishReason: "stop" | "length";
}

/**
 * Samples one continuation of one prompt with a KV cache: the generator behind
 * `tokenrl-policy generate`. It samples with core's sampler, the one
 * @tokenrl/rollout's batched `generate` uses, from the same stream
 * (`createRng(seed).fork(0)`, row 0), so `generate(model, p, { seed })` draws
 * the tokens and log-probs of rollout's `generate(model, [p], { seed })`.
 * Batches, stop strings and groups live in @tokenrl/rollout.
 */
export function generate(model: CausalLM, promptIds: readonly number[], options: GenerateOptions = {}): GenerateResult {
  const maxTokens = options.maxTokens ?? 64;
  if (promptIds.length === 0) throw new InvalidInputError("generate: the prompt must have at least one token");
  if (!Number.isInteger(maxTokens) || maxTokens < 0)
    throw new InvalidInputError(`generate: maxTokens must be a non-negative integer, got ${maxTokens}`);
  const params = resolveSamplingParams({
    maxTokens: Math.max(1, maxTokens),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.topK !== undefined ? { topK: options.topK } : {}),
    ...(options.topP !== undefined ? { topP: options.topP } : {}),
    ...(options.minP !== undefined ? { minP: options.minP } : {}),
    ...(options.logProbsMode !== undefined ? { logProbsMode: options.logProbsMode } : {}),
  });
  const stop = new Set(options.stopIds ?? model.config.eosTokenIds);
  const rngs = [createRng(options.seed ?? 0).fork(0)];
  const ids: number[] = [];
  const logProbs: number[] = [];
  if (maxTokens === 0) return { ids, logProbs, finishReason: "length" };
  let cache = model.createCache(1, promptIds.length + maxTokens);
  let input = tf.tensor2d([Array.from(promptIds)], [1, promptIds.length], "int32");
  try {
    for (let step = 0; step < maxTokens; step++) {
      const out = model.forward(input, { cache, logits: "last" });
      cache = out.cache;
      input.dispose();
      const V = out.logits.shape[2];
      const last = tf.tidy(
        () => tf.reshape(tf.slice(out.logits, [0, out.logits.shape[1] - 1, 0], [1, 1, V]), [1, V]) as Tensor2D,
      );
      out.logits.dispose();
      let sampled: { tokenIds: Int32Array; logProbs: Float32Array };
      try {
        sampled = sampleTokensSync(last, params, rngs);
      } finally {
        last.dispose();
      }
      const token = sampled.tokenIds[0]!;
      ids.push(token);
      logProbs.push(sampled.logProbs[0]!);
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
