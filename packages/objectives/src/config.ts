import { AGGREGATION_MODES, show } from "@tokenrl/core";
import type { OptionCheck } from "@tokenrl/core";

/**
 * Option checks the objectives share (each returns the message of a
 * ConfigError naming `<objective>.<option>`, see core's `resolveOptions`).
 */

/** A clip epsilon: finite and >= 0 (a lower epsilon of 1 or more removes the lower bound). */
export const epsilon: OptionCheck = (v) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? undefined : `expected a finite epsilon >= 0, got ${show(v)}`;

/** Dual-clip constant c: null (off) or > 1, as verl asserts. */
export const dualClipConstant: OptionCheck = (v) =>
  v === null || (typeof v === "number" && v > 1) ? undefined : `expected null (off) or a constant > 1, got ${show(v)}`;

export const positive: OptionCheck = (v) =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? undefined : `expected a finite number > 0, got ${show(v)}`;

/** One of core's AGGREGATION_MODES. */
export const aggregationMode: OptionCheck = (v) =>
  typeof v === "string" && (AGGREGATION_MODES as readonly string[]).includes(v)
    ? undefined
    : `unknown aggregation mode ${show(v)}; expected one of ${AGGREGATION_MODES.join(", ")}`;

/** `lossScaleFactor`: null (= T) or a finite number > 0. */
export const lossScaleFactor: OptionCheck = (v) => (v === null ? undefined : positive(v));

/** The checks of `AggregationOptions`. */
export const AGGREGATION_CHECKS = { aggregation: aggregationMode, lossScaleFactor } as const;

/** The checks of PPO clip's options, which HTPO shares. */
export const PPO_CLIP_CHECKS = {
  clipLow: epsilon,
  clipHigh: epsilon,
  dualClip: dualClipConstant,
  ...AGGREGATION_CHECKS,
} as const;
