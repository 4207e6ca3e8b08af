// @tokenrl/train/node: the file-system parts of training (Node only).
export * from "./checkpoint.js";
export * from "./lock.js";
export * from "./metrics-log.js";
export * from "./reference.js";
export { allowedKeys, formatIssues } from "./issues.js";
