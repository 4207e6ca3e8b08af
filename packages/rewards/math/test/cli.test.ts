import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

describe("tokenrl-math-verify CLI", () => {
  it("adds equal to each line, keeps the other fields, and survives a bad line", () => {
    const input = [
      JSON.stringify({ id: "a", gold: "$\\frac{1}{2}$", prediction: "\\boxed{0.5}" }),
      "{not json",
      JSON.stringify({ id: "c", gold: "$3$", prediction: "The answer is 4." }),
      JSON.stringify({ id: "d", gold: 3, prediction: "3" }),
    ].join("\n");
    const run = spawnSync(process.execPath, [CLI, "--concurrency", "1", "--timeout-ms", "5000"], {
      input,
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ id: "a", gold: "$\\frac{1}{2}$", prediction: "\\boxed{0.5}", equal: true });
    expect(lines[1]).toMatchObject({ line: 2, equal: false, error: "invalid_json" });
    expect(lines[2]).toMatchObject({ id: "c", equal: false });
    expect(lines[3]).toMatchObject({ id: "d", equal: false, error: "invalid_input" });
    expect(run.stderr).toMatch(/count=4 equal=1 errors=2 time=/);
  });

  it("prints help", () => {
    const run = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/--timeout-ms/);
    expect(run.stdout).toMatch(/--concurrency/);
  });
});
