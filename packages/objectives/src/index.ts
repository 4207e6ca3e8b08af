export * from "./objective.js";
export * from "./ppo-clip.js";
export * from "./gspo.js";
export * from "./sapo.js";
export * from "./cispo.js";
export * from "./htpo.js";
export * from "./cppo.js";
export * from "./kl.js";
export * from "./entropy-bonus.js";
export * from "./compose.js";
export * from "./grad.js";
export {
  AGGREGATION_CHECKS,
  PPO_CLIP_CHECKS,
  aggregationMode,
  dualClipConstant,
  epsilon,
  lossScaleFactor,
  positive,
} from "./config.js";
