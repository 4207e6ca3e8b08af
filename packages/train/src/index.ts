// @tokenrl/train: the training machinery a trainer composes (browser-safe; the
// file-system parts, checkpoints, run lock and metrics log, are "@tokenrl/train/node").
export * from "./schedule.js";
export * from "./clip.js";
export * from "./optimizer.js";
export * from "./recipe.js";
export * from "./presets.js";
export * from "./loss.js";
export * from "./update.js";
export * from "./sft.js";
export * from "./rewards.js";
export * from "./reference.js";
