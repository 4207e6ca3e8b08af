import { ConfigError } from "@tokenrl/core";
import { resolveOptions } from "@tokenrl/partitioners";
import { checkAggregation } from "./objective.js";

export { resolveOptions };

/** A clip epsilon: finite and >= 0 (a lower epsilon of 1 or more removes the lower bound). */
export function checkEpsilon(path: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0))
    throw new ConfigError(path, `expected a finite epsilon >= 0, got ${value}`);
}

/** Dual-clip constant c: null (off) or > 1, as verl asserts. */
export function checkDualClip(path: string, value: number | null): void {
  if (value === null) return;
  if (!(value > 1)) throw new ConfigError(path, `expected null (off) or a constant > 1, got ${value}`);
}

export function checkPositive(path: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(path, `expected a finite number > 0, got ${value}`);
}

/** The clip range [1 - clipLow, 1 + clipHigh]: both epsilons as `checkEpsilon` (errors name `<kind>.clipLow` / `.clipHigh`). */
export function checkClipRange(kind: string, o: { clipLow: number; clipHigh: number }): void {
  checkEpsilon(`${kind}.clipLow`, o.clipLow);
  checkEpsilon(`${kind}.clipHigh`, o.clipHigh);
}

/** PPO clip's options, which HTPO shares: the clip range, the dual-clip constant and the aggregation mode. */
export function checkPpoClipOptions(
  kind: string,
  o: { clipLow: number; clipHigh: number; dualClip: number | null; aggregation: string },
): void {
  checkClipRange(kind, o);
  checkDualClip(`${kind}.dualClip`, o.dualClip);
  checkAggregation(kind, o.aggregation);
}
