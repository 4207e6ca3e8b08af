import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPlugins, resolvePlugin } from "../src/plugins.js";

describe("plugins", () => {
  it("refuses a plugin that brings its own copy of tfjs or @tokenrl/core, before importing it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trainer-plugin-"));
    const plugin = join(dir, "plugin.mjs");
    writeFileSync(plugin, "throw new Error('must not be imported');\n");
    for (const name of ["@tensorflow/tfjs-core", "@tokenrl/core"]) {
      const copy = join(dir, "node_modules", ...name.split("/"));
      mkdirSync(copy, { recursive: true });
      writeFileSync(join(copy, "package.json"), JSON.stringify({ name, version: "0.0.1" }));
    }
    expect(() => resolvePlugin("./plugin.mjs", dir)).toThrow(
      /plugin "\.\/plugin\.mjs" brings its own copy of @tensorflow\/tfjs-core \(.*\): declare @tensorflow\/tfjs-core as a peerDependency/,
    );
    await expect(loadPlugins(["./plugin.mjs"], dir)).rejects.toThrow("brings its own copy");
  });

  it("an unknown plugin, a missing file and a plugin that throws are errors naming them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trainer-plugin-"));
    expect(() => resolvePlugin("no-such-plugin-xyz", dir)).toThrow('unknown plugin "no-such-plugin-xyz"');
    expect(() => resolvePlugin("./missing.mjs", dir)).toThrow(/plugin "\.\/missing\.mjs" not found/);
    writeFileSync(join(dir, "bad.mjs"), "throw new Error('boom');\n");
    await expect(loadPlugins(["./bad.mjs"], dir)).rejects.toThrow('plugin "./bad.mjs" failed to load: boom');
  });
});
