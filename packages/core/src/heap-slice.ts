import { overrideKernel } from "./kernel-override.js";
import { tf } from "./tf.js";

/** What the slice kernels need of tfjs-backend-wasm (4.22): its heap, its allocator and where each tensor lives. */
interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

const isWasmHeapBackend = (b: unknown): b is WasmHeapBackend => {
  const c = b as Partial<WasmHeapBackend>;
  return c?.wasm?.HEAPU8 instanceof Uint8Array && typeof c.makeOutput === "function" && c.dataIdMap !== undefined;
};

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

/**
 * Copies the window `begin`/`size` of `x` into a new tensor inside the heap,
 * one contiguous run (the last axis's window) at a time, with `copyWithin`:
 * nothing leaves the heap. The run count is the product of the outer sizes.
 */
function heapSlice(backend: WasmHeapBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const bytes = BYTES[x.dtype]!;
  // makeOutput may grow the heap (a new buffer), so the heap is read after it.
  const out = backend.makeOutput(size, x.dtype);
  const n = tf.util.sizeFromShape(size);
  if (n === 0) return out;
  const heap = backend.wasm.HEAPU8;
  const src = backend.dataIdMap.get(x.dataId)!.memoryOffset;
  let dst = backend.dataIdMap.get(out.dataId)!.memoryOffset;
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape); // elements, for axes 0..rank-2
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const from = src + tf.slice_util.computeFlatOffset(begin, strides) * bytes;
    heap.copyWithin(dst, from, from + n * bytes);
    return out;
  }
  const run = size[rank - 1]! * bytes;
  const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let copied = 0; copied < n; copied += size[rank - 1]!) {
    let offset = begin[rank - 1]!;
    for (let a = 0; a < rank - 1; a++) offset += (begin[a]! + index[a]!) * strides[a]!;
    const from = src + offset * bytes;
    heap.copyWithin(dst, from, from + run);
    dst += run;
    // Odometer over the outer axes, last fastest.
    for (let a = rank - 2; a >= 0; a--) {
      if (++index[a]! < size[a]!) break;
      index[a] = 0;
    }
  }
  return out;
}

/**
 * Makes `Slice`, `SplitV` and `Unpack` (what `tf.slice`, `tf.split` and
 * `tf.unstack` run) copy inside the wasm heap. Why: tfjs-backend-wasm 4.22's
 * `Slice` first reads its whole input out of the heap into a new JS buffer
 * (`readSync`), and its `SplitV` and `Unpack` do that once per output. For the
 * demo's RL step (SwiGLU's gate/up split, attention's q/k/v split, RoPE's
 * halves) that was 170 MB of ArrayBuffers a step, one copy of the input per
 * output: CPU spent copying, and external memory that started a full
 * mark-compact every 50-100 ms in each worker. Same values; string tensors,
 * and a backend that is not the wasm one this was written against, keep the
 * backend's own kernels. Idempotent.
 */
export function sliceInHeap(backendName: string): void {
  const kernels: { name: string; run: (args: KernelArgs, b: WasmHeapBackend) => tf.TensorInfo | tf.TensorInfo[] }[] = [
    {
      name: "Slice",
      run: ({ inputs, attrs }, b) => {
        const x = inputs.x as tf.TensorInfo;
        const [begin, size] = tf.slice_util.parseSliceParams(
          x as unknown as tf.Tensor,
          attrs.begin as number[],
          attrs.size as number[],
        );
        return heapSlice(b, x, begin!, size!);
      },
    },
    {
      name: "SplitV",
      run: ({ inputs, attrs }, b) => {
        const x = inputs.x as tf.TensorInfo;
        const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
        const sizes = tf.backend_util.prepareSplitSize(
          x as unknown as tf.Tensor,
          attrs.numOrSizeSplits as number[] | number,
          axis,
        );
        const begin = x.shape.map(() => 0);
        return sizes.map((s) => {
          const size = x.shape.slice();
          size[axis] = s;
          const piece = heapSlice(b, x, begin.slice(), size);
          begin[axis]! += s;
          return piece;
        });
      },
    },
    {
      name: "Unpack",
      run: ({ inputs, attrs }, b) => {
        const x = inputs.value as tf.TensorInfo;
        const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
        const outShape = x.shape.filter((_, a) => a !== axis);
        const size = x.shape.slice();
        size[axis] = 1;
        return Array.from({ length: x.shape[axis]! }, (_, i) => {
          const begin = x.shape.map((_, a) => (a === axis ? i : 0));
          const piece = heapSlice(b, x, begin, size);
          return { dataId: piece.dataId, shape: outShape, dtype: piece.dtype };
        });
      },
    },
  ];
  for (const { name, run } of kernels) {
    overrideKernel(name, backendName, "inHeap", (own) => (args) => {
      const input = (args.inputs.x ?? args.inputs.value) as tf.TensorInfo;
      if (!isWasmHeapBackend(args.backend) || BYTES[input.dtype] === undefined) return own.kernelFunc(args);
      return run({ inputs: args.inputs, attrs: args.attrs ?? {} }, args.backend);
    });
  }
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs: tf.NamedAttrMap;
}
