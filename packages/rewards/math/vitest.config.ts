import { defineConfig, mergeConfig } from "vitest/config";
import { packageVitestConfig } from "../../../tooling/vitest.shared";

// globalSetup builds dist/worker.js when it is missing or older than src/, because
// the worker pool runs the built worker (worker_threads cannot load .ts files).
export default mergeConfig(
  packageVitestConfig({ testTimeout: 30_000 }),
  defineConfig({ test: { globalSetup: ["test/build-worker.setup.ts"] } }),
);
