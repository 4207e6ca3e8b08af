import { defineConfig, type Options } from "tsup";

/** Every package: ESM + .d.ts, one entry per public module, node20 target. */
export function packageTsupConfig(entry: Options["entry"] = ["src/index.ts"], extra: Partial<Options> = {}) {
  return defineConfig({
    entry,
    format: ["esm"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    platform: "node",
    splitting: false,
    ...extra,
  });
}
