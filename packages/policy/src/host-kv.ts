import { ATTENTION_WASM } from "./kernels/attention-wasm.js";

/** The shape of a model's cache: what `allocHostKV` lays out. */
export interface HostKVDims {
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** SwiGLU's width; with an even one the kernel memory also holds the gate's work arrays (`AttentionKernel.silu`). */
  intermediateSize?: number;
}

/** The attention kernel (kernels/attention.wat) bound to one state's memory, with that memory's scratch arrays. */
export interface AttentionKernel {
  attend: (
    qkv: number,
    k: number,
    v: number,
    bias: number,
    out: number,
    tmp: number,
    B: number,
    S: number,
    nh: number,
    nkv: number,
    D: number,
    cap: number,
    scale: number,
  ) => void;
  /** Byte offsets of each layer's keys and values, and of the scratch below. */
  keyOffsets: number[];
  valueOffsets: number[];
  qkvOffset: number;
  biasOffset: number;
  outOffset: number;
  tmpOffset: number;
  /** `[rows, (nh + 2 nkv) D]`, `[rows, capacity]` and `[rows, nh D]` views of the scratch. */
  qkv: Float32Array;
  bias: Float32Array;
  out: Float32Array;
  /** SwiGLU's gate (kernels/attention.wat `silu`) over `gu` `[rows, 2I]` into `act` `[rows, I]`, when I is even. */
  silu?: {
    run: (gu: number, act: number, B: number, I: number) => void;
    guOffset: number;
    actOffset: number;
    gu: Float32Array;
    act: Float32Array;
  };
}

/**
 * A cache's storage for decode steps on the host path (wasm, cpu; see
 * `hostDecodeStep`): per layer `[rows, nkv, capacity, D]` keys and values and
 * the `[rows, capacity]` mask, in host memory, the new token written in place
 * at slot `length`. tfjs tensors are immutable, so the tensor storage appends
 * by concatenation, which copies the whole cache every step (in JS on wasm).
 * The arrays live in one WebAssembly memory with the attention kernel's
 * scratch, so the kernel reads the cache where it is; `kernel` is absent
 * where WebAssembly SIMD is not available or the cache is over 2 GiB (or its
 * memory cannot be allocated), and attention then runs in JS with the
 * kernel's exact arithmetic (`attendRows`). `rows` is what was allocated;
 * the cache's batch may be smaller after rows left in place.
 */
export interface HostKVState {
  keys: Float32Array[];
  values: Float32Array[];
  mask: Float32Array;
  length: number;
  capacity: number;
  rows: number;
  dims: HostKVDims;
  kernel?: AttentionKernel;
  /** Work arrays of the decode step (`hostDecodeStep`), reused from step to step (and with the arena). */
  scratch: Map<string, Float32Array>;
  /** The kernel's memory, returned to this thread's free list by `releaseHostKV`. */
  arena?: Arena;
}

/** A kernel memory with its bound instance, reused from one cache to the next. */
interface Arena {
  memory: { buffer: ArrayBuffer };
  instance: { exports: Record<string, unknown> };
  scratch: Map<string, Float32Array>;
  inUse: boolean;
}

/** Above this a state's memory is not made (a wasm32 memory addresses 4 GiB; a 2 GiB cache is already unusual on the host path). */
const MAX_KERNEL_BYTES = 2 ** 31;

/** The part of the WebAssembly JS API used here (the package's TS lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}

const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;

/** The compiled kernel module, or null where it cannot be compiled (no WebAssembly or no SIMD). */
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = Uint8Array.from(atob(ATTENTION_WASM), (c) => c.charCodeAt(0));
      compiled = wasm ? new wasm.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Arenas of released caches, kept for the next one. A new WebAssembly memory
 * per generation (and its release) maps and unmaps its pages, and with two
 * worker threads of one process each unmap interrupts the other thread's core
 * (the TLB shootdown): measured, two workers then decoded no faster than one.
 * A rollout allocates the same shapes every call, so the arena is reused.
 */
const freeArenas: Arena[] = [];
const MAX_FREE_ARENAS = 2;
const MAX_FREE_BYTES = 2 ** 29;

function takeArena(module: object, api: WasmApi, bytes: number): Arena {
  let best = -1;
  freeArenas.forEach((a, i) => {
    const size = a.memory.buffer.byteLength;
    if (size >= bytes && (best < 0 || size < freeArenas[best]!.memory.buffer.byteLength)) best = i;
  });
  if (best >= 0) {
    const arena = freeArenas.splice(best, 1)[0]!;
    arena.inUse = true;
    return arena;
  }
  const memory = new api.Memory({ initial: Math.ceil(bytes / 65536) || 1 });
  return { memory, instance: new api.Instance(module, { env: { memory } }), scratch: new Map(), inUse: true };
}

/** `takeArena`, or undefined when the memory cannot be had (the JS attention, bit-identical, runs then). */
function tryTakeArena(module: object, api: WasmApi, bytes: number): Arena | undefined {
  try {
    return takeArena(module, api, bytes);
  } catch {
    return undefined;
  }
}

/** Hands a state's arena back for reuse (the state must not be used after). Idempotent. */
export function releaseHostKV(state: HostKVState): void {
  const arena = state.arena;
  if (!arena?.inUse) return;
  arena.inUse = false;
  state.arena = undefined;
  freeArenas.push(arena);
  let bytes = freeArenas.reduce((n, a) => n + a.memory.buffer.byteLength, 0);
  while (freeArenas.length > MAX_FREE_ARENAS || (freeArenas.length > 0 && bytes > MAX_FREE_BYTES))
    bytes -= freeArenas.shift()!.memory.buffer.byteLength;
}

/** Storage for `rows` rows of `capacity` positions (not zeroed: every slot is written before it is read). */
export function allocHostKV(rows: number, capacity: number, dims: HostKVDims): HostKVState {
  const { numLayers: L, numHeads: nh, numKvHeads: nkv, headDim: D } = dims;
  const block = rows * nkv * capacity * D;
  const module = D % 4 === 0 ? kernelModule() : null;
  const I = dims.intermediateSize && dims.intermediateSize % 2 === 0 ? dims.intermediateSize : 0;
  const sizes = [...new Array<number>(2 * L).fill(block * 4), rows * capacity * 4, rows * (nh + 2 * nkv) * D * 4];
  sizes.push(rows * capacity * 4, rows * nh * D * 4, capacity * 8, rows * 2 * I * 4, rows * I * 4);
  const offsets: number[] = [];
  let bytes = 0;
  for (const size of sizes) {
    offsets.push(bytes);
    bytes += Math.ceil(size / 16) * 16;
  }
  const state = (buffer: ArrayBuffer | undefined): HostKVState => {
    const view = (i: number, length: number) =>
      buffer ? new Float32Array(buffer, offsets[i]!, length) : new Float32Array(length);
    return {
      keys: Array.from({ length: L }, (_, l) => view(l, block)),
      values: Array.from({ length: L }, (_, l) => view(L + l, block)),
      mask: view(2 * L, rows * capacity),
      length: 0,
      capacity,
      rows,
      dims,
      scratch: new Map(),
    };
  };
  const arena = module && wasm && bytes <= MAX_KERNEL_BYTES ? tryTakeArena(module, wasm, bytes) : undefined;
  if (!arena) return state(undefined);
  const { memory, instance } = arena;
  const s = state(memory.buffer);
  s.arena = arena;
  s.scratch = arena.scratch;
  s.kernel = {
    attend: instance.exports.attend as AttentionKernel["attend"],
    keyOffsets: offsets.slice(0, L),
    valueOffsets: offsets.slice(L, 2 * L),
    qkvOffset: offsets[2 * L + 1]!,
    biasOffset: offsets[2 * L + 2]!,
    outOffset: offsets[2 * L + 3]!,
    tmpOffset: offsets[2 * L + 4]!,
    qkv: new Float32Array(memory.buffer, offsets[2 * L + 1]!, rows * (nh + 2 * nkv) * D),
    bias: new Float32Array(memory.buffer, offsets[2 * L + 2]!, rows * capacity),
    out: new Float32Array(memory.buffer, offsets[2 * L + 3]!, rows * nh * D),
  };
  if (I > 0)
    s.kernel.silu = {
      run: instance.exports.silu as (gu: number, act: number, B: number, I: number) => void,
      guOffset: offsets[2 * L + 5]!,
      actOffset: offsets[2 * L + 6]!,
      gu: new Float32Array(memory.buffer, offsets[2 * L + 5]!, rows * 2 * I),
      act: new Float32Array(memory.buffer, offsets[2 * L + 6]!, rows * I),
    };
  return s;
}

/** The first `B` rows of `h` in new storage with room for `capacity` positions. */
export function regrowHostKV(h: HostKVState, B: number, capacity: number): HostKVState {
  const next = allocHostKV(B, capacity, h.dims);
  const { numKvHeads: nkv, headDim: D } = h.dims;
  const old = h.capacity;
  const move = (src: Float32Array, dst: Float32Array, rows: number, width: number) => {
    for (let r = 0; r < rows; r++)
      dst.set(src.subarray(r * old * width, (r * old + h.length) * width), r * capacity * width);
  };
  h.keys.forEach((k, l) => move(k, next.keys[l]!, B * nkv, D));
  h.values.forEach((v, l) => move(v, next.values[l]!, B * nkv, D));
  move(h.mask, next.mask, B, 1);
  next.length = h.length;
  releaseHostKV(h);
  return next;
}

/**
 * Rows `rows` of a host state. A strictly increasing selection (rows that
 * finished leaving the batch) moves rows down in place; repeats or a new
 * order (a prompt fanned out to its samples) copy into new storage.
 */
export function selectHostKVRows(h: HostKVState, rows: readonly number[]): HostKVState {
  const { numKvHeads: nkv, headDim: D } = h.dims;
  const cap = h.capacity;
  const increasing = rows.every((r, i) => i === 0 || r > rows[i - 1]!);
  const next = increasing ? h : allocHostKV(rows.length, cap, h.dims);
  const pick = (src: Float32Array, dst: Float32Array, block: number) => {
    // In place: slot i <= rows[i] and every later source is > i, so no source is overwritten before it is read.
    rows.forEach((r, i) => {
      if (!increasing) dst.set(src.subarray(r * block, (r + 1) * block), i * block);
      else if (r !== i) dst.copyWithin(i * block, r * block, (r + 1) * block);
    });
  };
  h.keys.forEach((k, l) => pick(k, next.keys[l]!, nkv * cap * D));
  h.values.forEach((v, l) => pick(v, next.values[l]!, nkv * cap * D));
  pick(h.mask, next.mask, cap);
  next.length = h.length;
  if (next !== h) releaseHostKV(h);
  return next;
}
