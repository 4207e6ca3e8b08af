import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import { applyRope, positionsFromMask, rmsNorm, ropeCosSin, ropeInvFreq } from "../src/layers.js";
import { maxAbsDiff, values } from "./helpers.js";

describe.each(TEST_BACKENDS)("layers on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("RMSNorm: [3, 4] / sqrt((9 + 16) / 2 + eps) * weight", () => {
    const out = tf.tidy(() => values(rmsNorm(tf.tensor2d([[3, 4]]), tf.tensor1d([1, 2]), 1e-6)));
    const r = Math.sqrt(12.5 + 1e-6);
    expect(maxAbsDiff(out, [3 / r, 8 / r])).toBeLessThan(1e-6);
  });

  it("RoPE uses HF's rotate_half: x = [x1, x2] -> [x1 cos - x2 sin, x2 cos + x1 sin] with frequencies 1, 1/100 at D = 4", () => {
    // x = [1, 2, 3, 4] at position 1: angles [1, 0.01]; pairs (x0, x2) and (x1, x3) rotate.
    const out = tf.tidy(() => {
      const { cos, sin } = ropeCosSin(tf.tensor2d([[1]], [1, 1], "int32"), ropeInvFreq(4, 10000));
      return values(applyRope(tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]), cos, sin));
    });
    const c1 = Math.cos(1);
    const s1 = Math.sin(1);
    const c2 = Math.cos(0.01);
    const s2 = Math.sin(0.01);
    expect(maxAbsDiff(out, [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2])).toBeLessThan(1e-5);
  });

  it("positions count the real tokens before each one, pads get 0", () => {
    const out = tf.tidy(() =>
      values(
        positionsFromMask(
          tf.tensor2d([
            [0, 0, 1, 1, 1],
            [1, 1, 1, 1, 1],
          ]),
        ),
      ),
    );
    expect(out).toEqual([0, 0, 0, 1, 2, 0, 1, 2, 3, 4]);
  });
});

describe("ropeInvFreq scaling", () => {
  it("linear divides every frequency by the factor", () => {
    expect(Array.from(ropeInvFreq(4, 10000, { type: "linear", factor: 2 }))).toEqual([0.5, Math.fround(0.005)]);
  });
  it("llama3 keeps short wavelengths, divides long ones, blends the middle (HF _compute_llama3_parameters)", () => {
    // D = 6, theta 10000: frequencies 1, 10000^(-1/3) = 0.046416, 10000^(-2/3) = 0.0021544;
    // wavelengths 2pi/f = 6.283, 135.36, 2916.4. original 1000, low 1, high 4: low wavelen 1000, high wavelen 250.
    // 6.283 < 250 kept; 135.36 < 250 kept; 2916.4 > 1000 divided by 8.
    const got = Array.from(
      ropeInvFreq(6, 10000, {
        type: "llama3",
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 1000,
      }),
    );
    expect(got[0]).toBeCloseTo(1, 6);
    expect(got[1]).toBeCloseTo(10000 ** (-1 / 3), 6);
    expect(got[2]).toBeCloseTo(10000 ** (-2 / 3) / 8, 8);
    // a medium wavelength: original 400 -> low 400, high 100; 135.36 is between: smooth = (400/135.36 - 1) / 3
    const mid = ropeInvFreq(6, 10000, {
      type: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 400,
    })[1]!;
    const f = 10000 ** (-1 / 3);
    const smooth = (400 / ((2 * Math.PI) / f) - 1) / 3;
    expect(mid).toBeCloseTo((1 - smooth) * (f / 8) + smooth * f, 6);
  });
});
