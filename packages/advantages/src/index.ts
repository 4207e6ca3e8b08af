export type { AdvantageBatch, AdvantageEstimator, AdvantageField, AdvantageResult } from "./types.js";
export { grpoAdvantage, GRPO_DEFAULTS } from "./grpo.js";
export type { GrpoParams } from "./grpo.js";
export { drGrpoAdvantage } from "./dr-grpo.js";
export type { DrGrpoParams } from "./dr-grpo.js";
export { rlooAdvantage } from "./rloo.js";
export type { RlooParams } from "./rloo.js";
export { reinforcePlusPlusAdvantage, REINFORCE_PLUS_PLUS_DEFAULTS } from "./reinforce-plus-plus.js";
export type { ReinforcePlusPlusParams } from "./reinforce-plus-plus.js";
export { reinforcePlusPlusBaselineAdvantage } from "./reinforce-plus-plus-baseline.js";
export type { ReinforcePlusPlusBaselineParams } from "./reinforce-plus-plus-baseline.js";
export { gaeAdvantage, GAE_DEFAULTS } from "./gae.js";
export type { GaeParams } from "./gae.js";
export {
  advantageEstimators,
  defineAdvantageEstimator,
  describeAdvantageEstimators,
  ADVANTAGE_ESTIMATOR_NAMES,
} from "./registry.js";
export type { AdvantageEstimatorName, AdvantageEstimatorSpec, TypedAdvantageEstimator } from "./registry.js";
export type { HostBatch } from "./host.js";
