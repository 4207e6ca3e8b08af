// "@tokenrl/rollout/node": the OpenAI-compatible server over an in-process model (node:http).
export * from "./remote-server.js";
export { defaultBatchBytes, estimateRowBytes } from "./server-memory.js";
export { isBackendCorrupted } from "./server-scheduler.js";
export type { SchedulerStats } from "./server-scheduler.js";
export type { ServerChatMessage } from "./server-request.js";
