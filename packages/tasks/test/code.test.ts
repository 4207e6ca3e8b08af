import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodeRunner, detectIsolation } from "@tokenrl/reward-code";
import { afterAll, describe, expect, it } from "vitest";
import { createCodeTask, extractCode, loadCodeProblems } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "tasks-code-"));
const write = (name: string, lines: object[]) => {
  const path = join(dir, name);
  writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
  return path;
};

// LiveCodeBench rows: one stdin problem (public_test_cases as JSON text), one functional (LeetCode style).
const stdinProblem = {
  question_id: "abc001",
  question_content: "Read two integers and print their sum.",
  starter_code: "",
  public_test_cases: JSON.stringify([
    { input: "1 2\n", output: "3\n", testtype: "stdin" },
    { input: "10 -4\n", output: "6\n", testtype: "stdin" },
  ]),
  metadata: "{}",
};
const functionalProblem = {
  question_id: "lc1",
  question_content: "Return the maximum of a list.",
  starter_code: "class Solution:\n    def biggest(self, nums: List[int]) -> int:",
  public_test_cases: JSON.stringify([
    { input: "[1, 5, 2]", output: "5", testtype: "functional" },
    { input: "[-3]", output: "-3", testtype: "functional" },
  ]),
  metadata: JSON.stringify({ func_name: "biggest" }),
};

const iso = detectIsolation({});
const python = iso.python;
const skip = python ? undefined : "needs python3 for the sandbox";

describe("code JSONL (LiveCodeBench style)", () => {
  it("reads LiveCodeBench rows and `input_output` rows; reports bad lines", () => {
    const path = write("lcb.jsonl", [
      stdinProblem,
      functionalProblem,
      { id: "apps", problem: "Echo.", input_output: JSON.stringify({ inputs: ["x\n"], outputs: ["x\n"] }) },
    ]);
    const problems = loadCodeProblems(path);
    expect(problems.map((p) => [p.id, p.tests.inputs.length, p.tests.fnName])).toEqual([
      ["abc001", 2, undefined],
      ["lc1", 2, "biggest"],
      ["apps", 1, undefined],
    ]);
    const bad = write("bad.jsonl", [{ problem: "no tests" }, { ...functionalProblem, metadata: "{}" }]);
    expect(() => loadCodeProblems(bad)).toThrow(
      /2 bad line\(s\):\n.*:1: needs tests.*\n.*:2: functional tests need "metadata.func_name"/,
    );
  });

  it("extracts the last fenced block of the language, else the whole response", () => {
    expect(extractCode("Idea.\n```python\nprint(1)\n```\nthen\n```py\nprint(2)\n```", "python")).toBe("print(2)\n");
    expect(extractCode("```js\nx()\n```\n```python\nprint(3)\n```\n```\nplain\n```", "python")).toBe("print(3)\n");
    expect(extractCode("```python\nprint(4)", "python")).toBe("print(4)");
    expect(extractCode("print(5)", "python")).toBe("print(5)");
  });

  describe.skipIf(skip !== undefined)(`through the sandbox (${skip ?? "python3"})`, () => {
    const runner = CodeRunner.create({ concurrency: 1, uidBase: 62600, limits: { timeLimitSec: 4 }, warn: () => {} });
    afterAll(() => runner.close());

    it("a right program is correct, a wrong or broken one is not; DAPO rewards", async () => {
      const task = createCodeTask({
        test: write("t.jsonl", [stdinProblem, functionalProblem]),
        codeRunner: runner,
        reward: { kind: "dapo" },
      });
      const sum = task.example(0, "test");
      const max = task.example(1, "test");
      expect(sum.prompt).toContain("Read two integers");
      expect(max.prompt).toContain("def biggest");
      const verdicts = await task.verify([
        { example: sum, response: "Sure:\n```python\na, b = map(int, input().split())\nprint(a + b)\n```" },
        { example: sum, response: "```python\nprint(3)\n```" },
        {
          example: max,
          response: "```python\nclass Solution:\n    def biggest(self, nums):\n        return max(nums)\n```",
        },
        {
          example: max,
          response: "```python\nclass Solution:\n    def biggest(self, nums):\n        return nums[0] +\n```",
        },
      ]);
      expect(verdicts.map((v) => [v.correct, v.reward])).toEqual([
        [true, 1],
        [false, -1],
        [true, 1],
        [false, -1],
      ]);
      expect(verdicts[0]!.extracted).toBe("a, b = map(int, input().split())\nprint(a + b)\n");
      await task.close();
    }, 30_000);

    it("a verdict for an example from elsewhere is a per-sample failure", async () => {
      const task = createCodeTask({ test: write("u.jsonl", [stdinProblem]), codeRunner: runner });
      const [v] = await task.verify([
        { example: { id: "code/test/zzz", prompt: "", answer: "" }, response: "print(1)" },
      ]);
      expect(v).toMatchObject({ correct: false, reward: 0 });
      expect(v!.error).toMatch(/does not come from this task/);
    });
  });
});
