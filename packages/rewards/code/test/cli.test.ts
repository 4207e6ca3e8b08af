import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const CLI = join(import.meta.dirname, "..", "dist", "cli.js");
const built = existsSync(CLI);
const full = process.getuid?.() === 0;

function runCli(args: string[], input: string) {
  return spawnSync(process.execPath, [CLI, ...args], { input, encoding: "utf8", timeout: 60_000 });
}

describe.skipIf(!built)("tokenrl-code-eval CLI (needs `pnpm build` first)", () => {
  it("--help documents the flags and the result codes", () => {
    const r = runCli(["--help"], "");
    expect(r.status).toBe(0);
    for (const s of [
      "--time-limit",
      "--memory-mb",
      "--concurrency",
      "--output-limit-kb",
      "wrong_answer",
      "memory_limit",
    ]) {
      expect(r.stdout).toContain(s);
    }
  });

  it("rejects a non-positive limit with a message naming the flag", () => {
    const r = runCli(["--time-limit", "0"], "");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--time-limit must be a positive number/);
  });

  it("a missing input file is a one-line error, not a stack trace", () => {
    const r = runCli(["/nonexistent/tokenrl-input.jsonl"], "");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("tokenrl-code-eval: no such input file: /nonexistent/tokenrl-input.jsonl\n");
  });

  it.skipIf(!full)(
    "writes each record back with passed/results, keeps going after bad lines, summarises on stderr",
    () => {
      const lines = [
        {
          id: "ok",
          language: "python",
          code: "print(int(input()) * 2)",
          tests: { inputs: ["2\n", "5\n"], outputs: ["4\n", "11\n"] },
        },
        "this is not json",
        { id: "lang", language: "cobol", code: "", tests: { inputs: [], outputs: [] } },
        {
          id: "fn",
          language: "javascript",
          code: "function twice(x) { return 2 * x; }",
          tests: { inputs: ["3"], outputs: ["6"], fn_name: "twice" },
        },
        { id: "loop", language: "python", code: "while True: pass", tests: { inputs: [""], outputs: [""] } },
      ];
      const input = lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n");
      const r = runCli(
        ["--time-limit", "1", "--concurrency", "1", "--memory-mb", "128", "--output-limit-kb", "64"],
        input,
      );
      expect(r.status).toBe(0);
      const out = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(out).toHaveLength(5);
      expect(out[0]).toMatchObject({ id: "ok", passed: false, results: ["pass", "wrong_answer"] });
      expect(out[1]).toMatchObject({ line: 2 });
      expect(out[1].error).toMatch(/invalid JSON/);
      expect(out[2]).toMatchObject({ id: "lang", line: 3 });
      expect(out[2].error).toMatch(/language: expected one of python, javascript/);
      expect(out[3]).toMatchObject({ id: "fn", passed: true, results: ["pass"] });
      expect(out[4]).toMatchObject({ id: "loop", passed: false, results: ["time_limit"] });
      expect(r.stderr).toMatch(
        /3 samples, 1 passed \(33\.3%\), 2 bad lines; tests: pass=2 wrong_answer=1 time_limit=1/,
      );
      expect(r.stderr).toMatch(/isolation: unprivileged uid per slot: yes/);
    },
  );
});
