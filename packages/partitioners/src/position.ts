import { ConfigError, oneOf, tf } from "@tokenrl/core";
import type { Tensor2D, TrainingBatch } from "@tokenrl/core";
import { definePartitioner, makePartition } from "./partition.js";
import type { Partition } from "./partition.js";

/**
 * Position buckets: a valid token's position counts only the response's valid
 * tokens before it (so observation tokens inside a multi-turn response do not
 * shift it). With `unit: "fraction"` the position is divided by the
 * response's valid length n and the buckets are early `[0, b0)`, middle
 * `[b0, b1)`, late `[b1, 1)`; with `unit: "tokens"` the boundaries are token
 * indices. Used to see where in a response a loss or a clip acts (CPPO's
 * premise is that early deviations compound).
 */
export interface PositionOptions {
  boundaries: readonly [number, number];
  unit: "fraction" | "tokens";
}

export const POSITION_DEFAULTS: Readonly<PositionOptions> = Object.freeze({
  boundaries: [1 / 3, 2 / 3] as const,
  unit: "fraction",
});
export const POSITION_CELLS = ["early", "middle", "late"] as const;
export type PositionCell = (typeof POSITION_CELLS)[number];

function checkBoundaries(o: PositionOptions): void {
  const [b0, b1] = Array.isArray(o.boundaries) ? o.boundaries : [Number.NaN, Number.NaN];
  if (!(Number.isFinite(b0) && Number.isFinite(b1) && b0 >= 0 && b0 <= b1 && (o.unit === "tokens" || b1 <= 1))) {
    throw new ConfigError(
      "position.boundaries",
      `expected 0 <= b0 <= b1${o.unit === "fraction" ? " <= 1" : ""}, got [${b0}, ${b1}]`,
    );
  }
}

function positionTensor(batch: TrainingBatch, o: PositionOptions): Partition<PositionCell> {
  const [b0, b1] = o.boundaries;
  const masks = tf.tidy(() => {
    const valid = tf.cast(tf.greater(batch.responseMask, 0), "float32") as Tensor2D;
    const index = tf.sub(tf.cumsum(valid, 1), 1);
    const pos = o.unit === "fraction" ? tf.div(index, tf.maximum(tf.sum(valid, 1, true), 1)) : index;
    const before = (b: number) => tf.cast(tf.less(pos, b), "float32");
    const early = tf.mul(valid, before(b0)) as Tensor2D;
    const upToMiddle = tf.mul(valid, before(b1));
    return { early, middle: tf.sub(upToMiddle, early) as Tensor2D, late: tf.sub(valid, upToMiddle) as Tensor2D };
  });
  return makePartition("position", masks);
}

export const positionPartitioner = definePartitioner<PositionOptions, PositionCell>({
  name: "position",
  description: "early / middle / late buckets by position among a response's valid tokens",
  requires: [],
  defaults: POSITION_DEFAULTS,
  validate: { boundaries: () => undefined, unit: oneOf("fraction", "tokens") },
  validateAll: checkBoundaries,
  cells: POSITION_CELLS,
  tensor: positionTensor,
});

export function positionPartition(
  batch: TrainingBatch,
  options: Partial<PositionOptions> = {},
): Partition<PositionCell> {
  return positionPartitioner.partition(batch, options);
}
