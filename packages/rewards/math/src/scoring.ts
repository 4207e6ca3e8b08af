import { ConfigError } from "@tokenrl/base/errors";

/** 1 for a correct answer, 0 otherwise (the plain RLVR reward). */
export function binaryReward(correct: boolean): number {
  return correct ? 1 : 0;
}

export interface OverlongOptions {
  /** L_max: the generation length limit, in tokens. */
  maxLength: number;
  /** L_buffer: the soft zone before L_max where the penalty ramps from 0 to -factor. */
  bufferLength: number;
  /** Penalty at L_max (DAPO: 1.0). */
  penaltyFactor?: number;
}

function checkOverlong(o: OverlongOptions): number {
  if (!Number.isFinite(o.maxLength) || o.maxLength <= 0)
    throw new ConfigError("maxLength", `must be > 0, got ${o.maxLength}`);
  if (!Number.isFinite(o.bufferLength) || o.bufferLength <= 0 || o.bufferLength > o.maxLength)
    throw new ConfigError("bufferLength", `must be in (0, maxLength=${o.maxLength}], got ${o.bufferLength}`);
  const f = o.penaltyFactor ?? 1;
  if (!Number.isFinite(f) || f < 0) throw new ConfigError("penaltyFactor", `must be >= 0, got ${f}`);
  return f;
}

/**
 * DAPO soft overlong punishment (ALGORITHMS.md section 6):
 * r += min(-(len - (Lmax - Lbuf)) / Lbuf * factor, 0) for len > Lmax - Lbuf, else 0.
 * Returns the (non-positive) amount to add.
 */
export function overlongPenalty(length: number, options: OverlongOptions): number {
  const factor = checkOverlong(options);
  if (!Number.isFinite(length) || length < 0)
    throw new ConfigError("length", `must be a non-negative number, got ${length}`);
  const start = options.maxLength - options.bufferLength;
  if (length <= start) return 0;
  return Math.min((-(length - start) / options.bufferLength) * factor, 0);
}

export interface DapoReward {
  /** The shaped reward to train on: +1/-1 plus the overlong penalty when configured. */
  reward: number;
  /** The verifier's verdict, kept apart from the shaped reward (dynamic sampling filters on this). */
  correct: boolean;
}

/** DAPO's rule reward: +1 if correct else -1, plus the soft overlong penalty when `overlong` is given. */
export function dapoReward(correct: boolean, length?: number, overlong?: OverlongOptions): DapoReward {
  let reward = correct ? 1 : -1;
  if (overlong) {
    if (length === undefined) throw new ConfigError("length", "is required when overlong options are given");
    reward += overlongPenalty(length, overlong);
  }
  return { reward, correct };
}
