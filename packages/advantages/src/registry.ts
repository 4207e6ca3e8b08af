import { createRegistry } from "@tokenrl/core";
import type { Registry } from "@tokenrl/core";
import { drGrpoAdvantage } from "./dr-grpo.js";
import { gaeAdvantage } from "./gae.js";
import { grpoAdvantage } from "./grpo.js";
import { reinforcePlusPlusBaselineAdvantage } from "./reinforce-plus-plus-baseline.js";
import { reinforcePlusPlusAdvantage } from "./reinforce-plus-plus.js";
import { rlooAdvantage } from "./rloo.js";
import type { AdvantageEstimator } from "./types.js";

/** The names a trainer config uses (verl's `algorithm.adv_estimator` spelling, hyphenated). */
export const ADVANTAGE_ESTIMATOR_NAMES = [
  "grpo",
  "dr-grpo",
  "rloo",
  "reinforce-plus-plus",
  "reinforce-plus-plus-baseline",
  "gae",
] as const;
export type AdvantageEstimatorName = (typeof ADVANTAGE_ESTIMATOR_NAMES)[number];

/**
 * Every built-in estimator under its config name, with the uniform signature
 * `(batch, params) => { advantages, returns }`; params are plain data checked
 * at run time. A user's package can `register` its own.
 *
 *     const { advantages } = advantageEstimators.get(config.advantage.name)(batch, config.advantage.params);
 */
export const advantageEstimators: Registry<AdvantageEstimator> =
  createRegistry<AdvantageEstimator>("advantage estimator");

// The typed functions validate their params at run time, so the casts only widen the static type.
advantageEstimators.register("grpo", (batch, params) => grpoAdvantage(batch, params as never));
advantageEstimators.register("dr-grpo", (batch, params) => drGrpoAdvantage(batch, params as never));
advantageEstimators.register("rloo", (batch, params) => rlooAdvantage(batch, params as never));
advantageEstimators.register("reinforce-plus-plus", (batch, params) =>
  reinforcePlusPlusAdvantage(batch, params as never),
);
advantageEstimators.register("reinforce-plus-plus-baseline", (batch, params) =>
  reinforcePlusPlusBaselineAdvantage(batch, params as never),
);
advantageEstimators.register("gae", (batch, params) => gaeAdvantage(batch, params as never));
