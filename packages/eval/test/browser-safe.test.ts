import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("browser safety", () => {
  it("the main entry's sources import no node: module (only ./node does)", () => {
    const src = join(import.meta.dirname, "../src");
    const offenders = readdirSync(src)
      .filter((f) => f.endsWith(".ts") && f !== "node.ts")
      .filter((f) => /from\s+"node:/.test(readFileSync(join(src, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
