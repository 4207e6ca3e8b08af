import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, parseOverride, readConfigFile, resolveConfig } from "../src/config.js";

describe("resolveConfig", () => {
  it("returns the documented defaults when nothing is overridden", () => {
    expect(resolveConfig()).toEqual(DEFAULT_CONFIG);
  });

  it("overlays nested fields and keeps the rest", () => {
    const c = resolveConfig({ rl: { groupSize: 4 } }, { objectiveOptions: { sign: "released" } });
    expect(c.rl.groupSize).toBe(4);
    expect(c.rl.steps).toBe(DEFAULT_CONFIG.rl.steps);
    expect(c.objectiveOptions).toEqual({ sign: "released" });
  });

  it("names an unknown key with its path and the keys that exist there", () => {
    expect(() => resolveConfig({ rl: { groupsize: 4 } })).toThrow(
      "rl.groupsize: unknown key; known keys here: steps, promptsPerStep, groupSize, maxGenerationBatches, temperature, learningRate, maxGradNorm, miniBatches",
    );
  });

  it("names a value of the wrong type or range", () => {
    expect(() => resolveConfig({ rl: { groupSize: "8" } })).toThrow('rl.groupSize: expected a finite number, got "8"');
    expect(() => resolveConfig({ rl: { groupSize: 1 } })).toThrow("rl.groupSize: must be >= 2, got 1");
    expect(() => resolveConfig({ preset: "ppo" })).toThrow(/preset: unknown preset "ppo"; known: .*htpo/);
    expect(() => resolveConfig({ model: { numHeads: 3 } })).toThrow(
      "model.hiddenSize: must be divisible by model.numHeads (3)",
    );
  });
});

describe("config files and --set", () => {
  it("parses KEY=VALUE as JSON when it is JSON, else as a string", () => {
    expect(parseOverride("rl.steps=20")).toEqual({ rl: { steps: 20 } });
    expect(parseOverride("preset=dapo")).toEqual({ preset: "dapo" });
    expect(parseOverride("model.path=null")).toEqual({ model: { path: null } });
    expect(() => parseOverride("steps")).toThrow('expected KEY=VALUE, e.g. "rl.steps=20"');
  });

  it("reports a config file that is not JSON with its path", () => {
    const dir = mkdtempSync(join(tmpdir(), "trainer-config-"));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"rl": {"steps": 3,}}');
    expect(() => readConfigFile(bad)).toThrow(new RegExp(`${bad}: not valid JSON`));
    const list = join(dir, "list.json");
    writeFileSync(list, "[1, 2]");
    expect(() => readConfigFile(list)).toThrow("expected a JSON object at the top level");
  });
});
