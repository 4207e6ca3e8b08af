import { defineConfig } from "vitest/config";

/**
 * Shared vitest settings. Tensor tests are CPU-heavy on a 2-core machine, so
 * files run in forked workers (tfjs-wasm keeps module-level state that does not
 * survive worker_threads teardown well) with generous timeouts.
 */
export function packageVitestConfig(overrides: { testTimeout?: number } = {}) {
  return defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      pool: "forks",
      poolOptions: { forks: { maxForks: 2, minForks: 1 } },
      testTimeout: overrides.testTimeout ?? 60_000,
      hookTimeout: 60_000,
      reporters: process.env.CI ? ["default"] : ["default"],
    },
  });
}
