import { describe, expect, it } from "vitest";
import { StopStringMatcher } from "../src/index.js";

describe("StopStringMatcher", () => {
  it("finds a stop string completed across two steps' text", () => {
    const m = new StopStringMatcher(["###"]);
    expect(m.check("ab#")).toBeUndefined();
    expect(m.check("ab##")).toBeUndefined();
    expect(m.check("ab###c")).toEqual({ stop: "###", index: 2 });
  });

  it("reports the earliest of several stop strings", () => {
    const m = new StopStringMatcher(["\n\n", "END"]);
    expect(m.check("xEND y\n\n")).toEqual({ stop: "END", index: 1 });
  });

  it("is inactive without stop strings", () => {
    expect(new StopStringMatcher([]).active).toBe(false);
  });
});
