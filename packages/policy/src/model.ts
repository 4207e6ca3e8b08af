import {
  InvalidInputError,
  ShapeError,
  backendCopiesHostArrays,
  backendFamily,
  hostView,
  kernelPath,
  tf,
} from "@tokenrl/core";
import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from "@tokenrl/core";
import { type KVCache, type KVCacheData, LayerKVCache } from "./cache.js";
import type { ModelConfig } from "./config.js";
import { embedLookup } from "./embedding.js";
import { hostDecodeStep } from "./host-decode.js";
import type { ModelParams } from "./params.js";
import { matMul } from "./matmul.js";
import { type ScoreInput, type ScoreOptions, type ScoreOutput, scoreResponses } from "./score.js";
import { checkIds } from "./validate.js";
import {
  applyRope,
  attentionBias,
  groupedAttention,
  linear,
  positionsFromMask,
  ropeCosSin,
  ropeInvFreq,
  rmsNorm,
  swiglu,
} from "./layers.js";

export type { LayerParams, ModelParams } from "./params.js";

export interface ForwardOptions {
  /** Cache from `createCache` or a previous `forward`; consumed (use the returned one). */
  cache?: KVCache;
  /** `[B, pastLen + L]`, 1 real, 0 pad. Default: the cache's mask followed by ones. */
  attentionMask?: Tensor2D;
  /** `[B, L]` int32. Default: count of real tokens before each position (HF's cumsum(mask) - 1), which handles left padding. */
  positionIds?: Tensor2D;
  /**
   * "all" (default): logits `[B, L, V]` for every new position. "last": only
   * the last position's, `[B, 1, V]` (generation samples from nothing else):
   * the LM head then runs on B hidden states instead of B x L, which at a
   * batch-64 prefill of 16 tokens is 1/16 of its work.
   */
  logits?: "all" | "last";
}

export interface ForwardResult {
  logits: Tensor3D;
  cache: KVCache;
}

/**
 * A Llama / Qwen2 / Qwen3 decoder-only transformer. Parameters are tf.Variables
 * (float32); `trainableVariables()` lists them for an optimiser.
 */
export class CausalLM {
  readonly config: ModelConfig;
  readonly params: ModelParams;
  private readonly invFreq: Float32Array;
  private disposed = false;

  constructor(config: ModelConfig, params: ModelParams) {
    this.config = config;
    this.params = params;
    this.invFreq = ropeInvFreq(config.headDim, config.ropeTheta, config.ropeScaling);
  }

  /** An empty cache for `batchSize` rows of at most `maxLength` tokens (prompt + generated). */
  createCache(batchSize: number, maxLength: number): KVCache {
    return new LayerKVCache(batchSize, maxLength, this.config.numLayers);
  }

  /**
   * A cache holding `data` (from `KVCache.toData`, possibly another thread's),
   * with room for `maxLength` tokens in all. The arrays are copied.
   */
  cacheFromData(data: KVCacheData, maxLength: number): KVCache {
    this.checkAlive();
    const c = this.config;
    const bad = (what: string) => new InvalidInputError(`cacheFromData: ${what}`);
    if (!data || typeof data !== "object") throw bad(`expected KVCacheData (from KVCache.toData), got ${String(data)}`);
    const { batchSize: B, length: S, numKvHeads: nkv, headDim: D } = data;
    if (!Number.isInteger(B) || B <= 0) throw bad(`batchSize must be a positive integer, got ${B}`);
    if (!Number.isInteger(S) || S <= 0) throw bad(`length must be a positive integer, got ${S}`);
    if (!Number.isInteger(maxLength))
      throw bad(`maxLength must be an integer (the new cache's room in tokens), got ${maxLength}`);
    if (maxLength < S) throw bad(`maxLength ${maxLength} is below the data's length ${S}`);
    if (nkv !== c.numKvHeads || D !== c.headDim)
      throw bad(`the data has ${nkv} kv heads of size ${D}; the model ${c.numKvHeads} of size ${c.headDim}`);
    if (!Array.isArray(data.keys) || !Array.isArray(data.values))
      throw bad("keys and values must be arrays of one Float32Array per layer");
    if (data.keys.length !== c.numLayers || data.values.length !== c.numLayers)
      throw bad(
        `expected keys and values for ${c.numLayers} layers, got ${data.keys.length} and ${data.values.length}`,
      );
    for (const a of [...data.keys, ...data.values, data.mask])
      if (!(a instanceof Float32Array)) throw bad("keys, values and mask must be Float32Arrays (as toData gives them)");
    const block = B * nkv * S * D;
    for (const a of [...data.keys, ...data.values])
      if (a.length !== block) throw bad(`a layer's keys or values hold ${a.length} floats, expected ${block}`);
    if (data.mask.length !== B * S) throw bad(`the mask holds ${data.mask.length} floats, expected ${B * S}`);
    // wasm copies an array into its heap; cpu would keep it, so later writes to data would reach the cache.
    const own = backendCopiesHostArrays() ? (a: Float32Array) => a : (a: Float32Array) => a.slice();
    const tensor = (a: Float32Array) => tf.tensor4d(own(a), [B, nkv, S, D]);
    return new LayerKVCache(B, maxLength, c.numLayers, {
      keys: data.keys.map(tensor),
      values: data.values.map(tensor),
      mask: tf.tensor2d(own(data.mask), [B, S]),
    });
  }

  trainableVariables(): tf.Variable[] {
    const p = this.params;
    const out: tf.Variable[] = [p.embed];
    for (const l of p.layers) {
      out.push(l.inputNorm, l.qkv);
      if (l.qkvBias) out.push(l.qkvBias);
      if (l.qNorm) out.push(l.qNorm);
      if (l.kNorm) out.push(l.kNorm);
      out.push(l.o);
      if (l.oBias) out.push(l.oBias);
      out.push(l.postNorm, l.gateUp, l.down);
    }
    out.push(p.finalNorm);
    if (p.lmHead) out.push(p.lmHead);
    return out;
  }

  /**
   * Logits for `inputIds` `[B, L]` int32 after the cached tokens. Returns the
   * logits `[B, L, V]` (the caller disposes them, or runs this in tf.tidy) and the
   * cache with these tokens appended; a passed cache is consumed. Without a cache,
   * a fresh one holding these L tokens is returned (dispose it if unused).
   */
  forward(inputIds: Tensor2D, options: ForwardOptions = {}): ForwardResult {
    this.checkAlive();
    checkIds("inputIds", inputIds);
    const [B, L] = inputIds.shape;
    const cache = (options.cache ??
      new LayerKVCache(B, Math.max(L, this.config.maxPositionEmbeddings), this.config.numLayers)) as LayerKVCache;
    if (!(cache instanceof LayerKVCache))
      throw new InvalidInputError("forward: options.cache must come from createCache() or forward()");
    if (cache.batchSize !== B)
      throw new ShapeError("inputIds", `[${cache.batchSize}, L] (the cache's batch size)`, inputIds.shape);
    const past = cache.length;
    if (past + L > cache.maxLength)
      throw new InvalidInputError(
        `forward: ${past} cached + ${L} new tokens exceed the cache's maxLength ${cache.maxLength}`,
      );
    if (
      options.attentionMask &&
      (options.attentionMask.rank !== 2 ||
        options.attentionMask.shape[0] !== B ||
        options.attentionMask.shape[1] !== past + L)
    )
      throw new ShapeError(
        "attentionMask",
        `[${B}, ${past + L}] (batch, cached + new tokens)`,
        options.attentionMask.shape,
      );
    if (
      options.positionIds &&
      (options.positionIds.rank !== 2 || options.positionIds.shape[0] !== B || options.positionIds.shape[1] !== L)
    )
      throw new ShapeError("positionIds", `[${B}, ${L}]`, options.positionIds.shape);

    if (L === 1 && past > 0 && kernelPath() === "host" && tf.engine().state.gradientDepth === 0)
      return this.hostStep(inputIds, cache, options);

    const out = tf.tidy(() => {
      const pastMask = cache.mask;
      const mask = options.attentionMask
        ? // clone: a same-dtype cast may alias the caller's tensor, and the cache disposes its mask.
          (tf.clone(tf.cast(options.attentionMask, "float32")) as Tensor2D)
        : pastMask
          ? (tf.concat([pastMask, tf.ones([B, L])], 1) as Tensor2D)
          : (tf.ones([B, L]) as Tensor2D);
      const positions = options.positionIds ?? (tf.slice(positionsFromMask(mask), [0, past], [B, L]) as Tensor2D);
      const past_ = (i: number) => cache.layer(i);
      const { hidden, keys, values } = this.decode(inputIds, mask, positions, past, past_);
      const lastOnly = options.logits === "last" && L > 1;
      const H = this.config.hiddenSize;
      const h = lastOnly
        ? (tf.reshape(tf.slice(tf.reshape(hidden, [B, L, H]), [0, L - 1, 0], [B, 1, H]), [B, H]) as Tensor2D)
        : hidden;
      return {
        logits: tf.reshape(this.generationLmHead(h), [B, lastOnly ? 1 : L, this.config.vocabSize]) as Tensor3D,
        keys,
        values,
        mask,
      };
    });
    const next = new LayerKVCache(B, cache.maxLength, this.config.numLayers, {
      keys: out.keys,
      values: out.values,
      mask: out.mask,
    });
    cache.consume();
    return { logits: out.logits, cache: next };
  }

  /**
   * A decode step (one token per row after a cached past) on the host path:
   * `hostDecodeStep` over the cache's host storage, the LM head as in the
   * tensor path. Same inputs, outputs and cache semantics as that path.
   */
  private hostStep(inputIds: Tensor2D, cache: LayerKVCache, options: ForwardOptions): ForwardResult {
    const B = inputIds.shape[0];
    const c = this.config;
    // Checked before the cache is touched: an id outside the table would read no row and leave the
    // previous step's values in the work array (the tensor path's gather throws here).
    const ids = Int32Array.from(hostView(inputIds));
    const bad = ids.find((id) => id < 0 || id >= c.vocabSize);
    if (bad !== undefined) throw new InvalidInputError(`forward: token id ${bad} is outside [0, ${c.vocabSize})`);
    const kv = cache.hostState(c);
    const past = kv.length;
    const cap = kv.capacity;
    // The mask over past + new positions: the given one replaces the cached one, as in the tensor path.
    if (options.attentionMask) {
      const m = hostView(options.attentionMask);
      for (let b = 0; b < B; b++) kv.mask.set(m.subarray(b * (past + 1), (b + 1) * (past + 1)), b * cap);
    } else for (let b = 0; b < B; b++) kv.mask[b * cap + past] = 1;
    let positions: ArrayLike<number>;
    if (options.positionIds) positions = Int32Array.from(hostView(options.positionIds));
    else {
      // HF's cumsum(mask) - 1 at the new position, floored at 0 (`positionsFromMask`).
      const p = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        let n = 0;
        for (let s = 0; s <= past; s++) n = Math.fround(n + kv.mask[b * cap + s]!);
        p[b] = Math.trunc(Math.max(0, n - 1));
      }
      positions = p;
    }
    const hidden = hostDecodeStep(c, this.params, this.invFreq, ids, positions, kv);
    const logits = tf.tidy(() => tf.reshape(this.generationLmHead(hidden), [B, 1, c.vocabSize]) as Tensor3D);
    hidden.dispose();
    cache.consume();
    return { logits, cache: new LayerKVCache(B, cache.maxLength, c.numLayers, { host: kv }) };
  }

  /**
   * The decoder stack: returns the final-normed hidden states `[B*L, H]` and each
   * layer's keys/values `[B, nkv, past + L, D]` (past ones prepended).
   * Differentiable; used by `forward` and `scoreResponses`.
   */
  decode(
    inputIds: Tensor2D,
    mask: Tensor2D,
    positions: Tensor2D,
    pastLength: number,
    pastKv: (layer: number) => { key: Tensor; value: Tensor } | undefined,
  ): { hidden: Tensor2D; keys: Tensor[]; values: Tensor[] } {
    const c = this.config;
    const [B, L] = inputIds.shape;
    const { numHeads: nh, numKvHeads: nkv, headDim: D, hiddenSize: H } = c;
    const { cos, sin } = ropeCosSin(positions, this.invFreq);
    const bias = attentionBias(mask, pastLength, L);
    let x = tf.reshape(embedLookup(this.params.embed, inputIds), [B * L, H]) as Tensor2D;
    const keys: Tensor[] = [];
    const values: Tensor[] = [];
    this.params.layers.forEach((p, i) => {
      const h = rmsNorm(x, p.inputNorm as unknown as Tensor1D, c.rmsNormEps) as Tensor2D;
      const qkv = tf.reshape(linear(h, p.qkv as unknown as Tensor2D, p.qkvBias as unknown as Tensor1D | undefined), [
        B,
        L,
        nh + 2 * nkv,
        D,
      ]);
      // q and k heads side by side through Qwen3's per-head norm and RoPE: one
      // kernel per op for both (a decode step is dominated by kernel count), the
      // same arithmetic per element as normalising and rotating each apart.
      let [qk, v] = tf.split(qkv, [nh + nkv, nkv], 2) as [Tensor, Tensor];
      if (p.qNorm && p.kNorm) qk = rmsNorm(qk, this.qkNormWeight(i) as Tensor1D, c.rmsNormEps);
      const [q, kNew] = tf.split(applyRope(qk, cos, sin), [nh, nkv], 2) as [Tensor, Tensor];
      let k = tf.transpose(kNew, [0, 2, 1, 3]);
      v = tf.transpose(v, [0, 2, 1, 3]);
      const prev = pastKv(i);
      if (prev) {
        k = tf.concat([prev.key, k], 2);
        v = tf.concat([prev.value, v], 2);
      }
      keys.push(k);
      values.push(v);
      const attn = groupedAttention(q, k, v, bias);
      x = tf.add(x, linear(attn, p.o as unknown as Tensor2D, p.oBias as unknown as Tensor1D | undefined));
      const h2 = rmsNorm(x, p.postNorm as unknown as Tensor1D, c.rmsNormEps) as Tensor2D;
      x = tf.add(x, swiglu(h2, p.gateUp as unknown as Tensor2D, p.down as unknown as Tensor2D));
    });
    return { hidden: rmsNorm(x, this.params.finalNorm as unknown as Tensor1D, c.rmsNormEps) as Tensor2D, keys, values };
  }

  /**
   * Per-token log-probs and entropies of responses (see `scoreResponses`);
   * differentiable. `{ entropy: false }` skips the full-vocabulary entropy.
   */
  scoreResponses(input: ScoreInput, options?: { entropy?: true }): ScoreOutput;
  scoreResponses(
    input: ScoreInput,
    options: { entropy: false },
  ): Pick<ScoreOutput, "logProbs"> & { entropy?: undefined };
  scoreResponses(input: ScoreInput, options?: ScoreOptions): Pick<ScoreOutput, "logProbs"> & { entropy?: Tensor2D };
  scoreResponses(
    input: ScoreInput,
    options: ScoreOptions = {},
  ): Pick<ScoreOutput, "logProbs"> & { entropy?: Tensor2D } {
    this.checkAlive();
    return scoreResponses(this, input, options);
  }

  /**
   * Layer i's q and k norm weights as one `[nh + nkv, D]` table (q's row per
   * query head, then k's per kv head), for the fused norm in `decode`: three
   * small kernels, against the six a second RMSNorm would cost.
   */
  private qkNormWeight(i: number): Tensor {
    const p = this.params.layers[i]!;
    const { numHeads: nh, numKvHeads: nkv, headDim: D } = this.config;
    // broadcastTo, not tile: its gradient is one sum, tile's a slice + add per repeat.
    return tf.concat(
      [tf.broadcastTo(tf.reshape(p.qNorm!, [1, D]), [nh, D]), tf.broadcastTo(tf.reshape(p.kNorm!, [1, D]), [nkv, D])],
      0,
    );
  }

  /** Logits `[N, V]` for hidden states `[N, H]`. */
  lmHead(hidden: Tensor2D): Tensor2D {
    const p = this.params;
    return (p.lmHead ? matMul(hidden, p.lmHead) : matMul(hidden, p.embed, false, true)) as Tensor2D;
  }

  /**
   * `lmHead` for `forward`. With tied embeddings on wasm, `h @ embed^T` would
   * transpose the whole `[V, H]` table every call (and XNNPACK repacks the fresh
   * weight): 17 ms of a 28 ms batch-1 decode step here. `(embed @ h^T)^T` only
   * transposes the `[N, H]` hidden states and the `[V, N]` logits, and gives
   * bit-identical logits (same dot products). Other backends: `lmHead`.
   */
  private generationLmHead(hidden: Tensor2D): Tensor2D {
    const p = this.params;
    if (p.lmHead || backendFamily() !== "wasm") return this.lmHead(hidden);
    return tf.transpose(matMul(p.embed, tf.transpose(hidden))) as Tensor2D;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.trainableVariables()) v.dispose();
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new InvalidInputError("CausalLM: the model was disposed");
  }
}
