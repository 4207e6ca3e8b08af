export * from "./types.js";
export * from "./synthetic.js";
export * from "./jsonl.js";
