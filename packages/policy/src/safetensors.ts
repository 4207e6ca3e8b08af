import { readFile, writeFile } from "node:fs/promises";
import { InvalidInputError } from "@tokenrl/core";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./dtypes.js";

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON `{name: {dtype, shape,
 * data_offsets: [begin, end]}, "__metadata__": {str: str}}` (padded with spaces
 * so the data starts 8-byte aligned), then the raw little-endian tensor bytes,
 * offsets relative to the end of the header.
 */
export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

const BYTES: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** One tensor as stored: its dtype, shape and raw bytes (a view into the file buffer when read). */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Parses a safetensors buffer; checks that offsets are contiguous, in range and match dtype x shape. */
export function parseSafetensors(buffer: Uint8Array, source = "safetensors"): SafetensorsFile {
  if (buffer.byteLength < 8) throw new InvalidInputError(`${source}: file shorter than the 8-byte header length`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > buffer.byteLength)
    throw new InvalidInputError(`${source}: header length ${headerLen} exceeds the file size ${buffer.byteLength}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buffer.subarray(8, 8 + headerLen)));
  } catch (err) {
    throw new InvalidInputError(`${source}: header is not valid JSON`, { cause: err });
  }
  const dataStart = 8 + headerLen;
  const dataLen = buffer.byteLength - dataStart;
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(e.dtype in BYTES))
      throw new InvalidInputError(`${source}: tensor "${name}" has unsupported dtype ${e.dtype}`);
    const dtype = e.dtype as SafetensorsDType;
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype])
      throw new InvalidInputError(
        `${source}: tensor "${name}" has ${end - begin} bytes but ${dtype} [${e.shape.join(", ")}] needs ${count * BYTES[dtype]}`,
      );
    if (begin < 0 || end > dataLen)
      throw new InvalidInputError(
        `${source}: tensor "${name}" data_offsets [${begin}, ${end}] outside the ${dataLen}-byte data section`,
      );
    tensors.set(name, { dtype, shape: e.shape, bytes: buffer.subarray(dataStart + begin, dataStart + end) });
  }
  return { tensors, metadata };
}

/**
 * Serialises tensors in the order given, with `__metadata__` first and the
 * header padded with spaces to a multiple of 8 bytes (as the Rust writer does).
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, RawTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.bytes.byteLength !== count * BYTES[t.dtype])
      throw new InvalidInputError(
        `tensor "${name}": ${t.bytes.byteLength} bytes do not match ${t.dtype} [${t.shape.join(", ")}]`,
      );
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const rawLen = new TextEncoder().encode(json).byteLength;
  json += " ".repeat((8 - ((8 + rawLen) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const t of tensors.values()) {
    out.set(t.bytes, pos);
    pos += t.bytes.byteLength;
  }
  return out;
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const buf = await readFile(path);
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, RawTensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFile(path, serializeSafetensors(tensors, metadata));
}

/** Copies out an aligned typed array regardless of the source view's alignment. */
function aligned(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Decodes a floating-point tensor to float32 (exact for F16/BF16/F32). */
export function rawToFloat32(t: RawTensor, name = "tensor"): Float32Array {
  switch (t.dtype) {
    case "F32":
      return new Float32Array(aligned(t.bytes));
    case "BF16":
      return bf16ToF32(new Uint16Array(aligned(t.bytes)));
    case "F16":
      return f16ToF32(new Uint16Array(aligned(t.bytes)));
    case "F64":
      return Float32Array.from(new Float64Array(aligned(t.bytes)));
    default:
      throw new InvalidInputError(`${name}: expected a floating-point tensor, got ${t.dtype}`);
  }
}

/** Encodes float32 values as F32, F16 or BF16 bytes (little-endian, as on every platform Node runs on). */
export function float32ToRaw(values: Float32Array, shape: number[], dtype: "F32" | "F16" | "BF16"): RawTensor {
  const typed = dtype === "F32" ? Float32Array.from(values) : dtype === "BF16" ? f32ToBf16(values) : f32ToF16(values);
  return { dtype, shape, bytes: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) };
}
