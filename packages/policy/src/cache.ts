import { InvalidInputError, ShapeError, gatherRows, hostView, tf } from "@tokenrl/core";
import type { Tensor, Tensor2D } from "@tokenrl/core";
import {
  type HostKVDims,
  type HostKVState,
  allocHostKV,
  regrowHostKV,
  releaseHostKV,
  selectHostKVRows,
} from "./host-kv.js";

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
  /** A copy of the contents as plain arrays (`CausalLM.cacheFromData` makes a cache of it again). Throws on an empty cache. */
  toData(): KVCacheData;
  /** Frees the tensors. Idempotent. */
  dispose(): void;
}

/**
 * A cache's contents as plain arrays: per layer `[B, nkv, length, D]` keys and
 * values, row-major, and the `[B, length]` mask (1 real, 0 pad). The form that
 * crosses a thread boundary: a worker pool prefills each distinct prompt once
 * and hands every worker the rows it needs.
 */
export interface KVCacheData {
  batchSize: number;
  length: number;
  numKvHeads: number;
  headDim: number;
  keys: Float32Array[];
  values: Float32Array[];
  mask: Float32Array;
}

/**
 * The implementation behind `KVCache`: per layer `[B, nkv, length, D]` keys
 * and values, and the `[B, length]` float32 mask (1 real, 0 pad) of the
 * cached positions, either as tensors (the tensor path's forward reads them;
 * `tf.keep`-ed so a caller's `tf.tidy` does not free them) or in host memory
 * (`HostKVState`, what decode steps on the host path write). Each form is
 * converted to the other when a forward of the other kind needs it.
 */
export class LayerKVCache implements KVCache {
  readonly batchSize: number;
  readonly maxLength: number;
  readonly numLayers: number;
  private keys: Tensor[] | undefined;
  private values: Tensor[] | undefined;
  private maskTensor: Tensor2D | undefined;
  private host: HostKVState | undefined;
  private consumed = false;
  private disposed = false;

  constructor(
    batchSize: number,
    maxLength: number,
    numLayers: number,
    state?: { keys: Tensor[]; values: Tensor[]; mask: Tensor2D } | { host: HostKVState },
  ) {
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new InvalidInputError(`createCache: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(maxLength) || maxLength <= 0)
      throw new InvalidInputError(`createCache: maxLength must be a positive integer, got ${maxLength}`);
    this.batchSize = batchSize;
    this.maxLength = maxLength;
    this.numLayers = numLayers;
    if (state && "host" in state) this.host = state.host;
    else if (state) {
      this.keys = state.keys.map((t) => tf.keep(t));
      this.values = state.values.map((t) => tf.keep(t));
      this.maskTensor = tf.keep(state.mask);
    }
  }

  get length(): number {
    this.check();
    if (this.host) return this.host.length;
    return this.maskTensor ? this.maskTensor.shape[1] : 0;
  }

  /** Layer i's cached keys and values, or undefined when empty. */
  layer(i: number): { key: Tensor; value: Tensor } | undefined {
    this.check();
    this.toTensors();
    if (!this.keys || !this.values) return undefined;
    return { key: this.keys[i]!, value: this.values[i]! };
  }

  /** The cached positions' mask `[B, length]`, or undefined when empty. */
  get mask(): Tensor2D | undefined {
    this.check();
    this.toTensors();
    return this.maskTensor;
  }

  /**
   * The host storage, converted from tensors when the cache holds them, with
   * room for at least one more token (throws past `maxLength`). The caller
   * writes the slot at `length` and advances it, then hands the state to the
   * next cache (`new LayerKVCache(..., { host })`) and consumes this one.
   */
  hostState(dims: HostKVDims): HostKVState {
    this.check();
    if (!this.host) this.host = this.tensorsToHost(dims);
    const h = this.host;
    if (h.length >= h.capacity) {
      if (h.capacity >= this.maxLength)
        throw new InvalidInputError(`forward: the cache is full (maxLength ${this.maxLength})`);
      this.host = regrowHostKV(h, this.batchSize, Math.min(this.maxLength, Math.max(2 * h.capacity, h.length + 16)));
    }
    return this.host;
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
    if (this.host) {
      const next = selectHostKVRows(this.host, rows);
      this.consume();
      return new LayerKVCache(rows.length, this.maxLength, this.numLayers, { host: next });
    }
    if (!this.keys || !this.values || !this.maskTensor) {
      this.consume();
      return new LayerKVCache(rows.length, this.maxLength, this.numLayers);
    }
    // gatherRows: whole-row copies on wasm, where tf.gather's per-element loop made
    // this selection cost as much as the decode steps between finishes.
    const next = {
      keys: this.keys.map((t) => gatherRows(t, rows)),
      values: this.values.map((t) => gatherRows(t, rows)),
      mask: gatherRows(this.maskTensor, rows) as Tensor2D,
    };
    this.consume();
    return new LayerKVCache(rows.length, this.maxLength, this.numLayers, next);
  }

  toData(): KVCacheData {
    this.check();
    const B = this.batchSize;
    const h = this.host;
    if (h) {
      if (h.length === 0) throw new InvalidInputError("KVCache.toData: the cache is empty");
      return {
        batchSize: B,
        length: h.length,
        numKvHeads: h.dims.numKvHeads,
        headDim: h.dims.headDim,
        ...hostArrays(h, B),
      };
    }
    if (!this.keys || !this.values || !this.maskTensor)
      throw new InvalidInputError("KVCache.toData: the cache is empty");
    const [, nkv, S, D] = this.keys[0]!.shape as [number, number, number, number];
    // Copies (slice) of each view before the next read: a growing wasm heap detaches views.
    const copy = (t: Tensor) => (hostView(t) as Float32Array).slice();
    return {
      batchSize: B,
      length: S,
      numKvHeads: nkv,
      headDim: D,
      keys: this.keys.map(copy),
      values: this.values.map(copy),
      mask: copy(this.maskTensor),
    };
  }

  dispose(): void {
    if (this.disposed) return;
    if (this.host && !this.consumed) releaseHostKV(this.host);
    this.freeTensors();
    this.disposed = true;
  }

  /** Host storage as tensors (a tensor-path forward after host decode steps). */
  private toTensors(): void {
    const h = this.host;
    if (!h) return;
    const B = this.batchSize;
    const S = h.length;
    const { numKvHeads: nkv, headDim: D } = h.dims;
    this.host = undefined;
    if (S === 0) {
      releaseHostKV(h);
      return;
    }
    const { keys, values, mask } = hostArrays(h, B);
    this.keys = keys.map((k) => tf.keep(tf.tensor4d(k, [B, nkv, S, D])));
    this.values = values.map((v) => tf.keep(tf.tensor4d(v, [B, nkv, S, D])));
    this.maskTensor = tf.keep(tf.tensor2d(mask, [B, S]));
    releaseHostKV(h);
  }

  private tensorsToHost(dims: HostKVDims): HostKVState {
    const B = this.batchSize;
    const { numKvHeads: nkv, headDim: D } = dims;
    const S = this.maskTensor ? this.maskTensor.shape[1] : 0;
    const capacity = Math.min(this.maxLength, Math.max(2 * S, S + 16));
    const state = allocHostKV(B, capacity, dims);
    state.length = S;
    // Every view is read before the next tensor is made: a growing wasm heap detaches views.
    for (let i = 0; i < this.numLayers; i++) {
      copyIntoCapacity(this.keys?.[i], state.keys[i]!, B * nkv, S * D, capacity * D);
      copyIntoCapacity(this.values?.[i], state.values[i]!, B * nkv, S * D, capacity * D);
    }
    if (this.maskTensor) {
      const m = hostView(this.maskTensor);
      for (let b = 0; b < B; b++) state.mask.set(m.subarray(b * S, (b + 1) * S), b * capacity);
    }
    this.freeTensors();
    return state;
  }

  private freeTensors(): void {
    for (const t of this.keys ?? []) t.dispose();
    for (const t of this.values ?? []) t.dispose();
    this.maskTensor?.dispose();
    this.keys = undefined;
    this.values = undefined;
    this.maskTensor = undefined;
    this.host = undefined;
  }

  private check(): void {
    if (this.consumed)
      throw new InvalidInputError(
        "KVCache: this cache was consumed by forward() or selectRows(); use the cache they returned",
      );
    if (this.disposed) throw new InvalidInputError("KVCache: this cache was disposed");
  }
}

/** Host storage's first `length` positions of every row as packed arrays: per layer `[B, nkv, length, D]`, and the `[B, length]` mask. */
function hostArrays(h: HostKVState, B: number): { keys: Float32Array[]; values: Float32Array[]; mask: Float32Array } {
  const { length: S, capacity: cap } = h;
  const { numKvHeads: nkv, headDim: D } = h.dims;
  const blocks = (buf: Float32Array) => {
    const out = new Float32Array(B * nkv * S * D);
    for (let r = 0; r < B * nkv; r++) out.set(buf.subarray(r * cap * D, (r * cap + S) * D), r * S * D);
    return out;
  };
  const mask = new Float32Array(B * S);
  for (let b = 0; b < B; b++) mask.set(h.mask.subarray(b * cap, b * cap + S), b * S);
  return { keys: h.keys.map(blocks), values: h.values.map(blocks), mask };
}

/**
 * `rows` blocks of `width` floats of `t` into `dst` at a stride of `stride`
 * (a cache tensor's rows into host storage with room to grow). Module-level:
 * as a closure made per call its optimised code went with it, every RL step.
 */
function copyIntoCapacity(t: Tensor | undefined, dst: Float32Array, rows: number, width: number, stride: number): void {
  if (!t) return;
  const src = hostView(t);
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * width, (r + 1) * width), r * stride);
}
