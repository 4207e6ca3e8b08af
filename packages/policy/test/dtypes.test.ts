import { describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../src/index.js";

const bits = (x: number) => {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0]!;
};
const fromBits = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0]!;

describe("bf16 <-> f32", () => {
  it("widening is exact: bf16 0x3FC0 is 1.5, 0xC049 is -3.140625", () => {
    expect(Array.from(bf16ToF32(new Uint16Array([0x3fc0, 0xc049, 0x0000, 0x7f80])))).toEqual([
      1.5,
      -3.140625,
      0,
      Number.POSITIVE_INFINITY,
    ]);
  });
  it("narrowing rounds to nearest, ties to even", () => {
    // 0x3F808000 lies halfway between bf16 0x3F80 and 0x3F81 -> even 0x3F80;
    // 0x3F818000 halfway between 0x3F81 and 0x3F82 -> even 0x3F82; 0x3F808001 just above half -> 0x3F81.
    const src = new Float32Array([
      fromBits(0x3f808000),
      fromBits(0x3f818000),
      fromBits(0x3f808001),
      fromBits(0x3f807fff),
    ]);
    expect(Array.from(f32ToBf16(src))).toEqual([0x3f80, 0x3f82, 0x3f81, 0x3f80]);
  });
  it("keeps NaN a NaN and rounds the largest finite values to Inf as PyTorch does", () => {
    const out = f32ToBf16(new Float32Array([Number.NaN, fromBits(0x7f7fffff)]));
    expect(Number.isNaN(bf16ToF32(out.subarray(0, 1))[0])).toBe(true);
    expect(out[1]).toBe(0x7f80);
  });
  it("f32 -> bf16 -> f32 -> bf16 is bit-identical", () => {
    const src = new Float32Array(Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 20) - 10)));
    const once = f32ToBf16(src);
    expect(Array.from(f32ToBf16(bf16ToF32(once)))).toEqual(Array.from(once));
    expect(bits(bf16ToF32(once)[3]!) & 0xffff).toBe(0);
  });
});

describe("f16 <-> f32", () => {
  it("matches hand-computed half encodings", () => {
    // 1 -> 0x3C00, -2 -> 0xC000, 65504 (max) -> 0x7BFF, 2^-24 (smallest subnormal) -> 0x0001,
    // 1/3 -> 0x3555 (0.333251953125), 65520 rounds up to Inf, 2^-14 (smallest normal) -> 0x0400
    const src = new Float32Array([1, -2, 65504, 2 ** -24, 1 / 3, 65520, 2 ** -14, 0]);
    expect(Array.from(f32ToF16(src))).toEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0x0400, 0]);
  });
  it("widening is exact, subnormals included", () => {
    expect(Array.from(f16ToF32(new Uint16Array([0x3555, 0x0001, 0x03ff, 0xfc00])))).toEqual([
      0.333251953125,
      2 ** -24,
      1023 * 2 ** -24,
      Number.NEGATIVE_INFINITY,
    ]);
  });
  it("ties round to even: 1 + 2^-11 -> 1 (0x3C00), 1 + 3 * 2^-11 -> 0x3C02", () => {
    expect(Array.from(f32ToF16(new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11])))).toEqual([0x3c00, 0x3c02]);
  });
  it("f32 -> f16 -> f32 -> f16 is bit-identical", () => {
    const src = new Float32Array(Array.from({ length: 1000 }, (_, i) => Math.cos(i) * 2 ** ((i % 40) - 26)));
    const once = f32ToF16(src);
    expect(Array.from(f32ToF16(f16ToF32(once)))).toEqual(Array.from(once));
  });
});
