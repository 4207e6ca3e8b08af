import { spawn, spawnSync } from "node:child_process";
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

  it("answers input line N on output line N, writing a blank line back for a blank line", () => {
    const a = JSON.stringify({ id: "a", gold: "$2$", prediction: "\\boxed{2}" });
    const b = JSON.stringify({ id: "b", gold: "$2$", prediction: "\\boxed{3}" });
    const input = ["", a, "   ", "", b, "{oops", ""].join("\n");
    const run = spawnSync(process.execPath, [CLI, "--concurrency", "1"], { input, encoding: "utf8" });
    expect(run.status).toBe(0);
    const out = run.stdout.split("\n");
    // 6 input lines (the text ends with a newline) -> 6 output lines, each ended by a newline.
    expect(out).toHaveLength(7);
    expect(out[0]).toBe("");
    expect(JSON.parse(out[1]!)).toMatchObject({ id: "a", equal: true });
    expect(out[2]).toBe("");
    expect(out[3]).toBe("");
    expect(JSON.parse(out[4]!)).toMatchObject({ id: "b", equal: false });
    expect(JSON.parse(out[5]!)).toMatchObject({ line: 6, error: "invalid_json" });
    expect(out[6]).toBe("");
    expect(run.stderr).toMatch(/count=3 equal=1 errors=1/);
  });

  it("rejects a --timeout-ms beyond setTimeout's range and an absurd --concurrency, naming them", () => {
    // 9999999999 ms would make every timer fire at once (Node clamps it to 1 ms).
    const t = spawnSync(process.execPath, [CLI, "--timeout-ms", "9999999999"], { input: "", encoding: "utf8" });
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/--timeout-ms needs an integer from 1 to 2147483647/);
    const c = spawnSync(process.execPath, [CLI, "--concurrency", "100000"], { input: "", encoding: "utf8" });
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--concurrency needs an integer from 1 to 256/);
  });

  it("documents blank lines in --help", () => {
    const run = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" });
    expect(run.stdout).toMatch(/blank .*line is written back as an empty line/s);
  });

  it.each([
    3000, 10000,
  ])("stops quietly with status 0 when standard output is closed early (EPIPE), %i lines", async (lines) => {
    // 10000 lines exceed the 4096-line read-ahead: the close is noticed while waiting for the output.
    const line = JSON.stringify({ gold: "$1$", prediction: "\\boxed{1}" });
    const input = `${Array.from({ length: lines }, () => line).join("\n")}\n`;
    const child = spawn(process.execPath, [CLI, "--concurrency", "1"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    // Read the first chunk, then close our end of the pipe, as `head -1` does.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });
});
