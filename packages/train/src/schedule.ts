import { ConfigError } from "@tokenrl/core";

/**
 * Learning-rate schedules, as the multiplier of the base LR after `step`
 * completed optimiser steps (the Hugging Face `get_*_schedule_with_warmup`
 * lambdas that verl and OpenRLHF both call):
 *
 * - warm-up (every type): `step / warmupSteps` while `step < warmupSteps`
 *   (so the very first update has LR 0, as in transformers/verl);
 * - `constant`: 1 after the warm-up;
 * - `linear`: from 1 down to `minLrRatio` at `totalSteps`;
 * - `cosine`: `minLrRatio + (1 - minLrRatio) * 0.5 * (1 + cos(pi * 2 * numCycles * progress))`.
 *
 * Names users know:
 * | here | verl (actor.optim) | OpenRLHF | transformers |
 * |---|---|---|---|
 * | `type: "constant"` | `warmup_style: constant` / `lr_scheduler_type: constant` | `--lr_scheduler constant_with_warmup` | `constant_with_warmup` |
 * | `type: "cosine"` | `warmup_style: cosine` / `lr_scheduler_type: cosine` | `--lr_scheduler cosine_with_min_lr` | `cosine_with_min_lr` |
 * | `type: "linear"` | (none) | `--lr_scheduler linear` | `linear` |
 * | `warmupSteps` | `lr_warmup_steps` (or `lr_warmup_steps_ratio` x total) | `--lr_warmup_ratio` x total | `num_warmup_steps` |
 * | `minLrRatio` | `min_lr_ratio` | `min_lr` / `learning_rate` | `min_lr_rate` |
 * | `numCycles` | `num_cycles` | | `num_cycles` |
 */
export const LR_SCHEDULE_TYPES = ["constant", "linear", "cosine"] as const;
export type LrScheduleType = (typeof LR_SCHEDULE_TYPES)[number];

export interface LrScheduleOptions {
  type: LrScheduleType;
  /** Linear warm-up length in optimiser steps (verl `lr_warmup_steps`). Default 0. */
  warmupSteps: number;
  /** Total optimiser steps the decay is spread over (needed by linear and cosine). */
  totalSteps: number;
  /** Floor of the decay as a fraction of the base LR (verl `min_lr_ratio`). Default 0. */
  minLrRatio: number;
  /** Cosine cycles over the decay (verl `num_cycles`). Default 0.5 (one half-wave down). */
  numCycles: number;
}

export const LR_SCHEDULE_DEFAULTS: Readonly<LrScheduleOptions> = Object.freeze({
  type: "constant",
  warmupSteps: 0,
  totalSteps: 0,
  minLrRatio: 0,
  numCycles: 0.5,
});

export type LrSchedule = (step: number) => number;

export function checkLrSchedule(o: LrScheduleOptions, path = "lrSchedule"): void {
  if (!(LR_SCHEDULE_TYPES as readonly string[]).includes(o.type))
    throw new ConfigError(
      `${path}.type`,
      `unknown schedule "${o.type}"; expected one of ${LR_SCHEDULE_TYPES.join(", ")}`,
    );
  for (const k of ["warmupSteps", "totalSteps"] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 0))
      throw new ConfigError(`${path}.${k}`, `expected an integer >= 0, got ${JSON.stringify(o[k])}`);
  }
  if (!(Number.isFinite(o.minLrRatio) && o.minLrRatio >= 0 && o.minLrRatio <= 1))
    throw new ConfigError(`${path}.minLrRatio`, `expected a ratio in [0, 1], got ${JSON.stringify(o.minLrRatio)}`);
  if (!(Number.isFinite(o.numCycles) && o.numCycles > 0))
    throw new ConfigError(`${path}.numCycles`, `expected a number > 0, got ${JSON.stringify(o.numCycles)}`);
}

/** The LR multiplier as a function of completed optimiser steps (see the module comment). */
export function lrSchedule(options: Partial<LrScheduleOptions> = {}): LrSchedule {
  const o: LrScheduleOptions = { ...LR_SCHEDULE_DEFAULTS, ...options };
  checkLrSchedule(o);
  return (step: number) => {
    if (step < o.warmupSteps) return step / Math.max(1, o.warmupSteps);
    if (o.type === "constant") return 1;
    const progress = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps));
    const decay = o.type === "linear" ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * 2 * o.numCycles * progress));
    return Math.max(0, o.minLrRatio + (1 - o.minLrRatio) * decay);
  };
}
