import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VerifierPool } from "@tokenrl/reward-math";
import { afterAll, describe, expect, it } from "vitest";
import { referencePath } from "../../../tooling/test-utils/shared.js";
import {
  DEFAULT_MATH_TEMPLATE,
  arithChainDerivation,
  goldForVerifier,
  createArithChainTask,
  createMathTask,
  loadJsonlTasks,
  problemKey,
} from "../src/index.js";

// One real worker pool for every task here (each task would otherwise start its own).
const pool = new VerifierPool({ concurrency: 1, timeoutMs: 5000 });
afterAll(() => pool.close());

const dir = mkdtempSync(join(tmpdir(), "tasks-math-"));
const file = (name: string, lines: object[]) => {
  const path = join(dir, name);
  writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
  return path;
};

/** Evaluates "a+b-c" left to right. */
const evaluate = (expr: string) =>
  [...expr.matchAll(/([+-]?)(\d+)/g)].reduce((acc, m) => acc + (m[1] === "-" ? -1 : 1) * Number(m[2]), 0);

describe("arith-chain (the synthetic reasoning task)", () => {
  it("writes a ground-truth derivation: one step per operation, each the last value with the next operation", () => {
    const task = createArithChainTask({ seed: 2, maxValue: 99, pool });
    for (let i = 0; i < 200; i++) {
      const ex = task.example(i);
      const k = ex.meta!.difficulty as number;
      // "47a+8b-5c+9=": the first value, then the tagged operations.
      const [, first, tagged] = /^(\d+)((?:[a-l][+-]\d+)+)=$/.exec(ex.prompt)!;
      const ops = [...tagged!.matchAll(/([a-l])([+-]\d+)/g)].map((m) => ({ letter: m[1]!, op: m[2]! }));
      expect(ops.map((o) => o.letter).join("")).toBe("abcdefghijkl".slice(0, k));
      const value = evaluate(`${first}${ops.map((o) => o.op).join("")}`);
      expect(ex.answer).toBe(String(value));
      const parts = ex.reference!.split(" ");
      expect(parts).toHaveLength(k + 1);
      expect(parts[k]).toBe(`\\boxed{${value}}`);
      let running = Number(first);
      parts.slice(0, k).forEach((step, j) => {
        const next = evaluate(`${running}${ops[j]!.op}`);
        expect(step).toBe(`${ops[j]!.letter}:${running}${ops[j]!.op}=${next}`);
        expect(next).toBeGreaterThanOrEqual(0);
        expect(next).toBeLessThanOrEqual(99);
        running = next;
      });
      for (const ch of ex.prompt + ex.reference) expect(task.alphabet).toContain(ch);
      expect(ex.reference!.length).toBeLessThanOrEqual(task.maxResponseLength);
    }
    // "47+8-5+9" by hand: 55, 50, 59.
    expect(
      arithChainDerivation({
        start: 47,
        ops: [
          { sign: "+", value: 8 },
          { sign: "-", value: 5 },
          { sign: "+", value: 9 },
        ],
      }),
    ).toEqual({ steps: ["a:47+8=55", "b:55-5=50", "c:50+9=59"], answer: 59 });
  });

  it("keeps every value within maxValue (default 9: single-digit steps)", () => {
    for (const [options, max] of [
      [{}, 9],
      [{ maxValue: 5 }, 5],
      [{ maxValue: 99 }, 99],
    ] as const) {
      const task = createArithChainTask({ seed: 1, ...options, pool });
      let largest = 0;
      for (let i = 0; i < 300; i++)
        for (const m of task.example(i).reference!.matchAll(/(\d+)/g)) largest = Math.max(largest, Number(m[1]));
      expect(largest).toBe(max);
    }
  });

  it("grades difficulty per prompt: 1 to maxSteps operations, about uniformly", () => {
    const task = createArithChainTask({ seed: 0, minSteps: 1, maxSteps: 6, pool });
    const counts = new Map<number, number>();
    for (let i = 0; i < 1200; i++) {
      const d = task.example(i).meta!.difficulty as number;
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const c of counts.values()) expect(c).toBeGreaterThan(140); // 200 expected each
  });

  it("is verified by the real math verifier: the reference is right, a wrong or unboxed answer is not", async () => {
    const task = createArithChainTask({ seed: 0, pool, reward: { kind: "dapo" } });
    const ex = task.example(0);
    const wrong = ex.reference!.replace(/\\boxed\{(\d+)\}/, (_, n) => `\\boxed{${Number(n) + 1}}`);
    const verdicts = await task.verify([
      { example: ex, response: ex.reference! },
      { example: ex, response: wrong },
      // The right number but no box: not accepted (the task asks for \boxed{}).
      { example: ex, response: ex.reference!.replace(/ \\boxed\{\d+\}$/, "") },
      { example: ex, response: `a:${ex.answer}-0=${ex.answer} \\boxed{${ex.answer}.0}` },
    ]);
    expect(verdicts.map((v) => [v.correct, v.reward])).toEqual([
      [true, 1],
      [false, -1],
      [false, -1],
      [true, 1],
    ]);
    expect(verdicts[0]!.extracted).toBe(ex.answer);
    await task.close();
  });
});

describe("math JSONL", () => {
  const problems = Array.from({ length: 40 }, (_, i) => ({
    id: `p${i}`,
    problem: `What is ${i} + ${i}?`,
    answer: `${2 * i}`,
  }));

  it("splits one file into disjoint train and held-out sets by content, and applies the template", () => {
    const task = createMathTask({ path: file("all.jsonl", problems), pool });
    const train = Array.from({ length: task.size("train") }, (_, i) => task.example(i, "train").meta!.problem);
    const test = Array.from({ length: task.size("test") }, (_, i) => task.example(i, "test").meta!.problem);
    expect(train.length + test.length).toBe(40);
    expect(test.length).toBeGreaterThan(0);
    expect(train.filter((p) => test.includes(p))).toEqual([]);
    const ex = task.example(0, "test");
    expect(ex.prompt).toBe(DEFAULT_MATH_TEMPLATE.replace("{problem}", String(ex.meta!.problem)));
    expect(ex.prompt.endsWith("Please reason step by step, and put your final answer within \\boxed{}.")).toBe(true);
    // Train indices past the end go round again, every problem once per epoch.
    const n = task.size("train");
    const epoch2 = Array.from({ length: n }, (_, i) => task.example(n + i).meta!.problem);
    expect(new Set(epoch2)).toEqual(new Set(train));
    expect(() => task.example(task.size("test"), "test")).toThrow(/past the end/);
  });

  it("separate train and test files: train drops problems also held out", () => {
    const task = createMathTask({
      train: file("train.jsonl", problems.slice(0, 30)),
      test: file(
        "test.jsonl",
        [...problems.slice(25, 35)].map((p) => ({ ...p, problem: `  ${p.problem.replace(" + ", "  +  ")} ` })),
      ),
      pool,
    });
    expect(task.size("train")).toBe(25);
    expect(task.size("test")).toBe(10);
    expect(problemKey("  What is 3  +  3? ")).toBe("What is 3 + 3?");
  });

  it("rewards through the verifier pool: binary, DAPO, overlong", async () => {
    const path = file("one.jsonl", [{ id: "h", problem: "Half of one?", answer: "$\\frac{1}{2}$" }]);
    const make = (reward?: object) => createMathTask({ test: path, pool, ...(reward ? { reward } : {}) });
    const ex = make().example(0, "test");
    const responses = ["So it is \\boxed{0.5}.", "The answer is \\boxed{2}.", "I think $\\frac{2}{4}$"];
    const binary = await make().verify(responses.map((response) => ({ example: ex, response })));
    expect(binary.map((v) => [v.correct, v.reward])).toEqual([
      [true, 1],
      [false, 0],
      [true, 1],
    ]);
    const dapo = await make({ kind: "dapo", overlong: { maxLength: 100, bufferLength: 20 } }).verify(
      responses.map((response, i) => ({ example: ex, response, responseTokens: [50, 50, 90][i] })),
    );
    expect(dapo.map((v) => v.reward)).toEqual([1, -1, 0.5]);
  });

  it("loads {id, problem, answer} lines and reports every bad line with its number", () => {
    const good = join(dir, "good.jsonl");
    writeFileSync(good, '{"id":"a","problem":"1+1?","answer":"2"}\n\n{"id":"b","problem":"x?","answer":3}\n');
    expect(loadJsonlTasks(good).map((t) => [t.id, t.answer])).toEqual([
      ["a", "2"],
      ["b", "3"],
    ]);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"id":"a","problem":"1+1?","answer":"2"}\n{oops\n{"id":"c"}\n[1]\n');
    expect(() => loadJsonlTasks(bad)).toThrow(
      /3 bad line\(s\):\n.*bad.jsonl:2: not JSON.*\n.*bad.jsonl:3: needs a string "problem".*\n.*bad.jsonl:4: expected a JSON object/,
    );
    expect(() => createMathTask({ path: join(dir, "missing.jsonl"), pool })).toThrow(/cannot read/);
    expect(() => createMathTask({ path: good, template: "no placeholder", pool })).toThrow(/task.template/);
  });
});

describe("gold answers", () => {
  it("a bare gold is boxed before verification (verl's convention); a delimited one is kept", async () => {
    expect(goldForVerifier("\\pi")).toBe("\\boxed{\\pi}");
    expect(goldForVerifier(" 6 - 5i ")).toBe("\\boxed{6 - 5i}");
    expect(goldForVerifier("\\$18.90")).toBe("\\boxed{\\$18.90}");
    expect(goldForVerifier("$\\frac{1}{2}$")).toBe("$\\frac{1}{2}$");
    expect(goldForVerifier("\\boxed{3}")).toBe("\\boxed{3}");
    // Unboxed, Math-Verify reads "6 - 5i" as its last number and cannot parse "\pi": both were rejected.
    const task = createMathTask({
      test: file("bare.jsonl", [
        { id: "c", problem: "z?", answer: "6 - 5i" },
        { id: "p", problem: "?", answer: "\\pi" },
      ]),
      pool,
    });
    const [c, p] = [task.example(0, "test"), task.example(1, "test")];
    const v = await task.verify([
      { example: c, response: "\\boxed{6-5i}" },
      { example: c, response: "\\boxed{5}" },
      { example: p, response: "\\boxed{\\pi}" },
    ]);
    expect(v.map((x) => x.correct)).toEqual([true, false, true]);
  });
});

describe("the shipped benchmark sets (data/)", () => {
  it.each([
    ["aime24", 30],
    ["amc23", 40],
    ["math500", 500],
  ] as const)("%s: %i problems, all held out, each gold answer verified against itself", async (name, count) => {
    const path = referencePath(`data/${name}.jsonl`);
    expect(loadJsonlTasks(path)).toHaveLength(count);
    const task = createMathTask({ test: path, name, pool });
    expect([task.size("train"), task.size("test")]).toEqual([0, count]);
    const examples = Array.from({ length: count }, (_, i) => task.example(i, "test"));
    const verdicts = await task.verify(examples.map((e) => ({ example: e, response: `\\boxed{${e.answer}}` })));
    expect(verdicts.map((v, i) => [examples[i]!.id, v.correct]).filter(([, ok]) => !ok)).toEqual([]);
  });
});
