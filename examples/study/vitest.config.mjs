import { defineConfig } from "vitest/config";

// The --quick study runs ~17 trainer and ~17 evaluation processes: minutes, not seconds.
export default defineConfig({ test: { include: ["test/**/*.test.mjs"], testTimeout: 960_000, hookTimeout: 60_000 } });
