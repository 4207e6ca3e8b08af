import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, parseOverride, readConfigFile, resolveConfig } from "../src/config.js";

describe("resolveConfig", () => {
  it("fills every default and keeps recipe parts unset (they come from the preset)", () => {
    const c = resolveConfig();
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(c.preset).toBe("htpo");
    expect(c.objective).toBeUndefined();
    expect(c.rl.groupSize).toBe(8);
    expect(c.workers).toBeNull();
    expect(c.optim.lrScheduler).toEqual({ type: "constant", warmupSteps: 0, minLrRatio: 0, numCycles: 0.5 });
  });

  it("overlays nested fields and keeps the rest", () => {
    const c = resolveConfig({ rl: { groupSize: 4 } }, { objective: { options: { sign: "released" } } });
    expect(c.rl.groupSize).toBe(4);
    expect(c.rl.steps).toBe(DEFAULT_CONFIG.rl.steps);
    expect(c.objective).toEqual({ options: { sign: "released" } });
  });

  it("an unknown key names it and the keys allowed there, in one line", () => {
    const run = () => resolveConfig({ rl: { groupsize: 4 } });
    expect(run).toThrow(/^config: rl\.groupsize: unknown key; allowed here: steps, promptsPerStep, groupSize, /);
    expect(() => resolveConfig({ objectiveOptions: {} })).toThrow(
      /objectiveOptions: unknown key; allowed here: seed, out, plugins/,
    );
    try {
      run();
    } catch (err) {
      expect((err as Error).message).not.toContain("\n");
    }
  });

  it("a bad value names the key, the value and what is allowed", () => {
    expect(() => resolveConfig({ rl: { groupSize: "8" } })).toThrow(
      'rl.groupSize: bad value "8"; Invalid input: expected number, received string',
    );
    expect(() => resolveConfig({ rl: { groupSize: 1 } })).toThrow(
      "rl.groupSize: bad value 1; Too small: expected number to be >=2",
    );
    expect(() => resolveConfig({ aggregation: "mean" })).toThrow(
      /aggregation: bad value "mean"; Invalid option: expected one of "token-mean"\|/,
    );
    expect(() => resolveConfig({ model: { numHeads: 3 } })).toThrow(
      "model.hiddenSize: bad value 64; must be divisible by model.numHeads (3)",
    );
  });
});

describe("config files and --set", () => {
  it("parses KEY=VALUE as JSON when it is JSON, else as a string; refuses prototype keys", () => {
    expect(parseOverride("rl.steps=20")).toEqual({ rl: { steps: 20 } });
    expect(parseOverride("preset=dapo")).toEqual({ preset: "dapo" });
    expect(parseOverride("model.path=null")).toEqual({ model: { path: null } });
    expect(() => parseOverride("steps")).toThrow('expected KEY=VALUE, e.g. "rl.steps=20"');
    expect(() => parseOverride("constructor=1")).toThrow('constructor: unknown key "constructor"');
    expect(() => parseOverride("rl.__proto__.x=1")).toThrow('unknown key "__proto__"');
    expect(() => resolveConfig(JSON.parse('{"constructor": 1}'))).toThrow("constructor: unknown key");
  });

  it("reads YAML and JSON files, and names a file that is neither", () => {
    const dir = mkdtempSync(join(tmpdir(), "trainer-config-"));
    const yaml = join(dir, "run.yaml");
    writeFileSync(yaml, "preset: dapo\nrl:\n  steps: 3\nobjective:\n  options: {clipHigh: 0.3}\n");
    expect(resolveConfig(readConfigFile(yaml))).toMatchObject({
      preset: "dapo",
      rl: { steps: 3 },
      objective: { options: { clipHigh: 0.3 } },
    });
    const json = join(dir, "run.json");
    writeFileSync(json, '{"rl": {"steps": 4}}');
    expect(resolveConfig(readConfigFile(json)).rl.steps).toBe(4);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"rl": {"steps": 3,,}}');
    expect(() => readConfigFile(bad)).toThrow(new RegExp(`${bad}: not valid YAML/JSON`));
    const list = join(dir, "list.yaml");
    writeFileSync(list, "- 1\n- 2\n");
    expect(() => readConfigFile(list)).toThrow("expected a mapping (an object) at the top level");
  });
});
