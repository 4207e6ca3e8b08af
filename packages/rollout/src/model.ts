import type { Tensor2D, Tensor3D } from "@tokenrl/core";

/**
 * Ownership: rollout only ever uses the cache a `forward` or `selectRows`
 * returns, and calls `dispose()` on the one it passed in; an implementation
 * may consume (free) the passed cache itself, in which case that `dispose()`
 * must be a no-op (as `@tokenrl/policy`'s is).
 *
 * The structural view of a policy that rollout needs. `@tokenrl/policy`'s
 * `CausalLM` satisfies it; rollout declares it here so that it does not depend
 * on the policy's internals (any decoder with a KV cache can be plugged in).
 */
export interface KVCacheLike {
  /** Tokens already held per row (the `pastLen` of the next forward). */
  readonly length: number;
  readonly batchSize: number;
  /** A cache holding only `rows` (indices into this cache's batch), in that order. */
  selectRows(rows: number[]): KVCacheLike;
  dispose(): void;
}

export interface GenerativeModelConfig {
  readonly vocabSize: number;
  readonly eosTokenId?: number;
  /** Every id that ends a sequence (HF allows a list); `eosTokenId` is used when absent. */
  readonly eosTokenIds?: readonly number[];
  readonly padTokenId?: number;
}

export interface ForwardOptions {
  cache?: KVCacheLike;
  /** 1 on real tokens, 0 on padding, over the past and the new tokens: `[B, pastLen + L]`. */
  attentionMask?: Tensor2D;
  /** Position of each new token, `[B, L]` int32 (left padding shifts them). */
  positionIds?: Tensor2D;
  /**
   * Generation passes "last": it reads only the last position's logits, so a
   * model may return `[B, 1, V]` for them (and skip the LM head elsewhere); a
   * model that ignores the option and returns `[B, L, V]` works the same.
   */
  logits?: "all" | "last";
}

export interface GenerativeModel {
  readonly config: GenerativeModelConfig;
  /** Logits `[B, L, V]` for `inputIds` `[B, L]`, appending the new keys/values to `cache`. */
  forward(inputIds: Tensor2D, options?: ForwardOptions): { logits: Tensor3D; cache: KVCacheLike };
  createCache(batchSize: number, maxLength: number): KVCacheLike;
}

/** The tokenizer surface rollout uses (`@tokenrl/policy` tokenizers satisfy it). */
export interface TokenizerLike {
  encode(text: string): number[];
  decode(ids: number[]): string;
  readonly vocabSize?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
}
