import { backendCopiesHostArrays, hostView, tf } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";

/** Where one variable lives in a flat float32 buffer. */
export interface SlotLayout {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
  size: number;
}

/** The flat layout of a list of float32 variables, in list order. */
export interface FlatLayout {
  slots: SlotLayout[];
  /** Total float32 elements. */
  size: number;
}

export function flatLayout(variables: readonly { name: string; shape: number[]; dtype: string }[]): FlatLayout {
  let offset = 0;
  const slots = variables.map((v, i) => {
    if (v.dtype !== "float32")
      throw new TypeError(`worker pool: variable ${i} (${v.name}) is ${v.dtype}; only float32 parameters are shared`);
    const size = v.shape.reduce((a, b) => a * b, 1);
    const slot = { name: v.name, shape: [...v.shape], offset, size };
    offset += size;
    return slot;
  });
  return { slots, size: offset };
}

/** A float32 SharedArrayBuffer of `layout.size` elements. */
export function sharedFloats(layout: FlatLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(layout.size * Float32Array.BYTES_PER_ELEMENT);
}

/**
 * Copies tensors into the shared buffer (one copy each: a no-copy view of the
 * wasm heap or the cpu backend's array, written straight into shared memory).
 * Nothing else may write the buffer meanwhile: the pool writes only while no
 * worker task is running.
 */
export function writeShared(buffer: SharedArrayBuffer, layout: FlatLayout, tensors: readonly Tensor[]): void {
  const flat = new Float32Array(buffer);
  layout.slots.forEach((slot, i) => {
    const t = tensors[i]!;
    if (t.size !== slot.size)
      throw new TypeError(`worker pool: ${slot.name} has ${t.size} values, expected ${slot.size}`);
    flat.set(hostView(t) as Float32Array, slot.offset);
  });
}

/** `variables[i].assign(slot i of the buffer)`, one upload per variable. */
export function assignFromShared(
  buffer: SharedArrayBuffer,
  layout: FlatLayout,
  variables: readonly tf.Variable[],
): void {
  const flat = new Float32Array(buffer);
  layout.slots.forEach((slot, i) => {
    const v = variables[i]!;
    tf.tidy(() => v.assign(tf.tensor(own(flat.subarray(slot.offset, slot.offset + slot.size)), slot.shape, "float32")));
  });
}

/** Tensors holding each slot of the buffer (the caller owns them). */
export function tensorsFromShared(buffer: ArrayBufferLike, layout: FlatLayout): Tensor[] {
  const flat = new Float32Array(buffer);
  return layout.slots.map((slot) =>
    tf.tensor(own(flat.subarray(slot.offset, slot.offset + slot.size)), slot.shape, "float32"),
  );
}

/** The cpu backend keeps the array a tensor is made from: give it a private copy, not shared memory. */
function own(view: Float32Array): Float32Array {
  return backendCopiesHostArrays() ? view : view.slice();
}
