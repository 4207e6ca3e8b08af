export * from "./config.js";
export * from "./train.js";
export * from "./checkpoint.js";
export * from "./evaluate.js";
export * from "./metrics-log.js";
export * from "./optimizer.js";
export { lineChart, writeReport } from "./report.js";
export type { ReportInput } from "./report.js";
