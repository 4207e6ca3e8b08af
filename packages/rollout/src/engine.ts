import { createRng } from "@tokenrl/core";
import { generate } from "./generate.js";
import type { GenerativeModel, TokenizerLike } from "./model.js";
import type { SamplingParams } from "./sampling.js";
import type { RolloutSequence } from "./sequence.js";

/**
 * What group sampling, dynamic sampling and the agent loop generate with: a
 * local tfjs policy (`createLocalEngine`) or remote OpenAI-compatible servers
 * (`createRemoteEngine`). Prompts are token ids; responses come back with ids,
 * log-probs and finish reasons.
 */
export interface RolloutEngine {
  generate(prompts: readonly (readonly number[])[], params?: SamplingParams): Promise<RolloutSequence[]>;
  /** Token id used to pad batches built from this engine's sequences. */
  readonly padTokenId: number;
  readonly tokenizer?: TokenizerLike;
}

export interface LocalEngineOptions {
  model: GenerativeModel;
  tokenizer?: TokenizerLike;
  /** Seed of the engine's stream; call k samples from `createRng(seed).fork(k)` unless params.seed is set. Default 0. */
  seed?: number;
  /** Use the KV cache (default true). */
  useCache?: boolean;
}

/** A RolloutEngine over an in-process model (e.g. `@tokenrl/policy`'s CausalLM). */
export function createLocalEngine(options: LocalEngineOptions): RolloutEngine {
  const { model, tokenizer } = options;
  const root = createRng(options.seed ?? 0);
  let calls = 0;
  const padTokenId = model.config.padTokenId ?? tokenizer?.padTokenId ?? 0;
  return {
    padTokenId,
    ...(tokenizer ? { tokenizer } : {}),
    async generate(prompts, params = {}) {
      const rng = root.fork(calls++);
      const result = await generate(model, prompts, {
        ...params,
        rng,
        ...(tokenizer ? { tokenizer } : {}),
        ...(options.useCache !== undefined ? { useCache: options.useCache } : {}),
      });
      return result.sequences;
    },
  };
}
