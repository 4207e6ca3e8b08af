import { packageTsupConfig } from "../../tooling/tsup.shared";

// Entries sharing chunks (splitting), so "@tokenrl/train/node" and the
// browser-safe main entry hold one copy of each class and registry;
// "@tokenrl/train/workers" (Node-only) and the worker thread's script.
export default packageTsupConfig(
  ["src/index.ts", "src/node/index.ts", "src/workers/index.ts", "src/workers/worker.ts"],
  { splitting: true },
);
