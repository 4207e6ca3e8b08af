export * from "./config.js";
export * from "./train.js";
export * from "./evaluate.js";
export * from "./summary.js";
export { loadPlugins, resolvePlugin } from "./plugins.js";
