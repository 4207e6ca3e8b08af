import { describe, expect, it } from "vitest";
import { HELP, parseCliArgs } from "../src/serve/args.js";

describe("tokenrl-env arguments", () => {
  it("shows help for --help, -h or nothing", () => {
    expect(parseCliArgs([])).toEqual({ help: true });
    expect(parseCliArgs(["serve", "alfworld", "--help"])).toEqual({ help: true });
    expect(HELP).toMatch(/^Usage: tokenrl-env serve <alfworld\|webshop>/);
  });

  it("defaults to AgentGym's ports on loopback", () => {
    expect(parseCliArgs(["serve", "alfworld"])).toEqual({
      help: false,
      which: "alfworld",
      port: 36001,
      host: "127.0.0.1",
      seed: 0,
      maxSteps: undefined,
      rate503: undefined,
    });
    expect(parseCliArgs(["serve", "webshop", "--port", "0", "--seed", "3", "--fault-503-rate", "0.2"])).toMatchObject({
      which: "webshop",
      port: 0,
      seed: 3,
      rate503: 0.2,
    });
  });

  it("names the bad argument", () => {
    expect(() => parseCliArgs(["serve", "sciworld"])).toThrow(/environment: serve needs "alfworld" or "webshop"/);
    expect(() => parseCliArgs(["run", "alfworld"])).toThrow(/command: unknown command "run"/);
    expect(() => parseCliArgs(["serve", "alfworld", "--port", "x"])).toThrow(/--port: needs a number/);
    expect(() => parseCliArgs(["serve", "alfworld", "--port", "70000"])).toThrow(/--port: expected 0-65535/);
    expect(() => parseCliArgs(["serve", "alfworld", "--verbose"])).toThrow(/unknown option\(s\): --verbose/);
    expect(() => parseCliArgs(["serve", "webshop", "--fault-503-rate", "2"])).toThrow(/--fault-503-rate/);
  });
});
