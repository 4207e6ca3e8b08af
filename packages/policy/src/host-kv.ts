import { ATTENTION_WASM } from "./kernels/attention-wasm.js";

/** The shape of a model's cache: what `allocHostKV` lays out. */
export interface HostKVDims {
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** SwiGLU's width; with an even one the kernel memory also holds the gate's work arrays (`kernelSilu`). */
  intermediateSize?: number;
}

/**
 * The kernels of kernels/attention.wat bound to one state's memory, where the
 * cache and the work arrays they read and write also live (`work`): `qkv`
 * `[rows, (nh + 2 nkv) D]`, `bias` `[rows, capacity]`, `out` `[rows, nh D]`,
 * and with the silu kernel (`gu >= 0`) also `gu` `[rows, 2I]` and `act`
 * `[rows, I]`. Plain data (where each region starts, the shapes the kernel
 * needs), called through the module-level `kernelAttend` and `kernelSilu`:
 * closures made per cache had their optimised code (with the JS-to-wasm call
 * inlined, 20-40 ms of compile each) thrown away with the cache, and compiled
 * again in every RL step.
 */
export interface AttentionKernel {
  exports: KernelExports;
  /** Byte offsets of the per-layer keys and values. */
  keys: number[];
  values: number[];
  qkv: number;
  bias: number;
  out: number;
  tmp: number;
  /** SwiGLU's regions; -1 when the intermediate size is odd (no silu kernel). */
  gu: number;
  act: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  capacity: number;
  work: Map<string, Float32Array>;
}

type KernelExports = Record<"attend" | "silu", (...args: number[]) => void>;

/** Attention of B rows of layer `layer` over their first S positions: reads `qkv` and `bias`, writes `out`. */
export function kernelAttend(k: AttentionKernel, layer: number, B: number, S: number, scale: number): void {
  k.exports.attend(
    k.qkv,
    k.keys[layer]!,
    k.values[layer]!,
    k.bias,
    k.out,
    k.tmp,
    B,
    S,
    k.numHeads,
    k.numKvHeads,
    k.headDim,
    k.capacity,
    scale,
  );
}

/** SwiGLU's gate of B rows, `gu` into `act` (only where `k.gu >= 0`). */
export function kernelSilu(k: AttentionKernel, B: number): void {
  k.exports.silu(k.gu, k.act, B, k.intermediateSize);
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
  // Lengths in elements (float32, but tmp's f64 counted as two); each region 16-byte aligned.
  const regions: [string, number][] = [
    ...Array.from({ length: L }, (_, l): [string, number] => [`k${l}`, block]),
    ...Array.from({ length: L }, (_, l): [string, number] => [`v${l}`, block]),
    ["mask", rows * capacity],
    ["qkv", rows * (nh + 2 * nkv) * D],
    ["bias", rows * capacity],
    ["out", rows * nh * D],
    ["tmp", capacity * 2],
    ...(I > 0
      ? ([
          ["gu", rows * 2 * I],
          ["act", rows * I],
        ] as [string, number][])
      : []),
  ];
  const offsets = new Map<string, number>();
  let bytes = 0;
  for (const [name, length] of regions) {
    offsets.set(name, bytes);
    bytes += Math.ceil((length * 4) / 16) * 16;
  }
  const arena = module && wasm && bytes <= MAX_KERNEL_BYTES ? tryTakeArena(module, wasm, bytes) : undefined;
  const views = new Map(
    regions.map(([name, length]) => [
      name,
      arena ? new Float32Array(arena.memory.buffer, offsets.get(name)!, length) : new Float32Array(length),
    ]),
  );
  const state: HostKVState = {
    keys: Array.from({ length: L }, (_, l) => views.get(`k${l}`)!),
    values: Array.from({ length: L }, (_, l) => views.get(`v${l}`)!),
    mask: views.get("mask")!,
    length: 0,
    capacity,
    rows,
    dims,
    scratch: arena ? arena.scratch : new Map(),
  };
  if (!arena) return state;
  const at = (name: string) => offsets.get(name) ?? -1;
  state.arena = arena;
  state.kernel = {
    exports: arena.instance.exports as KernelExports,
    keys: Array.from({ length: L }, (_, l) => at(`k${l}`)),
    values: Array.from({ length: L }, (_, l) => at(`v${l}`)),
    qkv: at("qkv"),
    bias: at("bias"),
    out: at("out"),
    tmp: at("tmp"),
    gu: I > 0 ? at("gu") : -1,
    act: I > 0 ? at("act") : -1,
    numHeads: nh,
    numKvHeads: nkv,
    headDim: D,
    intermediateSize: I,
    capacity,
    work: new Map(["qkv", "bias", "out", "gu", "act"].filter((n) => views.has(n)).map((n) => [n, views.get(n)!])),
  };
  return state;
}

/** The first `length` positions of `rows` rows of `width` floats, from capacity `from` to capacity `to` (module-level: see `AttentionKernel`). */
function moveRows(
  src: Float32Array,
  dst: Float32Array,
  rows: number,
  width: number,
  from: number,
  to: number,
  length: number,
): void {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * from * width, (r * from + length) * width), r * to * width);
}

/** The first `B` rows of `h` in new storage with room for `capacity` positions. */
export function regrowHostKV(h: HostKVState, B: number, capacity: number): HostKVState {
  const next = allocHostKV(B, capacity, h.dims);
  const { numKvHeads: nkv, headDim: D } = h.dims;
  const old = h.capacity;
  for (let l = 0; l < h.keys.length; l++) {
    moveRows(h.keys[l]!, next.keys[l]!, B * nkv, D, old, capacity, h.length);
    moveRows(h.values[l]!, next.values[l]!, B * nkv, D, old, capacity, h.length);
  }
  moveRows(h.mask, next.mask, B, 1, old, capacity, h.length);
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
