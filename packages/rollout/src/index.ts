export * from "./model.js";
export * from "./sampling.js";
export * from "./stop.js";
export * from "./sequence.js";
export * from "./generate.js";
export * from "./engine.js";
export * from "./groups.js";
export * from "./chat.js";
export * from "./agent.js";
export * from "./remote-errors.js";
export type { ChatMessage, RemoteChoice } from "./remote-protocol.js";
export * from "./remote-client.js";
// The OpenAI-compatible server (node:http) is in "@tokenrl/rollout/node", so this entry runs in a browser.
