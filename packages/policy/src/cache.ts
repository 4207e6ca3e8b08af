import { InvalidInputError, ShapeError, tf } from "@tokenrl/core";
import type { Tensor, Tensor2D } from "@tokenrl/core";

/**
 * Keys and values of every layer for the tokens seen so far, plus their
 * attention mask. Returned by `CausalLM.forward`; see the README for the
 * ownership rules (a cache passed to `forward` or `selectRows` is consumed).
 */
export interface KVCache {
  /** Tokens cached so far (pastLen), including pad positions. */
  readonly length: number;
  readonly batchSize: number;
  /** The length `createCache` allowed; `forward` throws past it. */
  readonly maxLength: number;
  /**
   * Keeps only these rows (in this order; repeats allowed, e.g. to fan a
   * prompt out to n samples) and returns the new cache. Consumes this cache:
   * its tensors are disposed and using it again throws; `dispose()` on it is a no-op.
   */
  selectRows(rows: number[]): KVCache;
  /** Frees the tensors. Idempotent. */
  dispose(): void;
}

/**
 * The implementation behind `KVCache`: per layer `[B, nkv, length, D]` keys
 * and values, and the `[B, length]` float32 mask (1 real, 0 pad) of the
 * cached positions. tfjs tensors are immutable, so appending concatenates;
 * the tensors are `tf.keep`-ed so a caller's `tf.tidy` does not free them.
 */
export class LayerKVCache implements KVCache {
  readonly batchSize: number;
  readonly maxLength: number;
  readonly numLayers: number;
  private keys: Tensor[] | undefined;
  private values: Tensor[] | undefined;
  private maskTensor: Tensor2D | undefined;
  private consumed = false;
  private disposed = false;

  constructor(
    batchSize: number,
    maxLength: number,
    numLayers: number,
    state?: { keys: Tensor[]; values: Tensor[]; mask: Tensor2D },
  ) {
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new InvalidInputError(`createCache: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(maxLength) || maxLength <= 0)
      throw new InvalidInputError(`createCache: maxLength must be a positive integer, got ${maxLength}`);
    this.batchSize = batchSize;
    this.maxLength = maxLength;
    this.numLayers = numLayers;
    if (state) {
      this.keys = state.keys.map((t) => tf.keep(t));
      this.values = state.values.map((t) => tf.keep(t));
      this.maskTensor = tf.keep(state.mask);
    }
  }

  get length(): number {
    this.check();
    return this.maskTensor ? this.maskTensor.shape[1] : 0;
  }

  /** Layer i's cached keys and values, or undefined when empty. */
  layer(i: number): { key: Tensor; value: Tensor } | undefined {
    this.check();
    if (!this.keys || !this.values) return undefined;
    return { key: this.keys[i]!, value: this.values[i]! };
  }

  /** The cached positions' mask `[B, length]`, or undefined when empty. */
  get mask(): Tensor2D | undefined {
    this.check();
    return this.maskTensor;
  }

  /** Marks this cache as replaced by `next` and frees its tensors. */
  consume(): void {
    this.freeTensors();
    this.consumed = true;
  }

  selectRows(rows: number[]): KVCache {
    this.check();
    if (rows.length === 0) throw new ShapeError("rows", "a non-empty list of row indices", [0]);
    for (const r of rows)
      if (!Number.isInteger(r) || r < 0 || r >= this.batchSize)
        throw new InvalidInputError(`selectRows: row ${r} is outside [0, ${this.batchSize})`);
    if (!this.keys || !this.values || !this.maskTensor) {
      this.consume();
      return new LayerKVCache(rows.length, this.maxLength, this.numLayers);
    }
    const keys = this.keys;
    const values = this.values;
    const mask = this.maskTensor;
    const next = tf.tidy(() => {
      const idx = tf.tensor1d(rows, "int32");
      return {
        keys: keys.map((t) => tf.gather(t, idx)),
        values: values.map((t) => tf.gather(t, idx)),
        mask: tf.gather(mask, idx) as Tensor2D,
      };
    });
    this.consume();
    return new LayerKVCache(rows.length, this.maxLength, this.numLayers, next);
  }

  dispose(): void {
    if (this.disposed) return;
    this.freeTensors();
    this.disposed = true;
  }

  private freeTensors(): void {
    for (const t of this.keys ?? []) t.dispose();
    for (const t of this.values ?? []) t.dispose();
    this.maskTensor?.dispose();
    this.keys = undefined;
    this.values = undefined;
    this.maskTensor = undefined;
  }

  private check(): void {
    if (this.consumed)
      throw new InvalidInputError(
        "KVCache: this cache was consumed by forward() or selectRows(); use the cache they returned",
      );
    if (this.disposed) throw new InvalidInputError("KVCache: this cache was disposed");
  }
}
