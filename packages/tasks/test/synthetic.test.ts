import { createRng } from "@tokenrl/base/rng";
import { describe, expect, it } from "vitest";
import {
  ARITH_CHAIN_NAME,
  SYNTHETIC_TASK_NAMES,
  TEST_BUCKETS,
  createArithChainTask,
  TASK_NAMES,
  createSyntheticTask,
  createTask,
  drawInSplit,
  splitOf,
} from "../src/index.js";
import type { SingleTurnTask, Split, TaskExample } from "../src/index.js";

/** Prompts of the first `n` examples of a split. */
function prompts(task: Pick<SingleTurnTask, "example">, split: Split, n: number): string[] {
  return Array.from({ length: n }, (_, i) => task.example(i, split).prompt);
}

/** The problems both streams contain (empty when disjoint). */
function overlap(task: Pick<SingleTurnTask, "example">, n: number): string[] {
  const test = new Set(prompts(task, "test", n));
  return [...new Set(prompts(task, "train", n))].filter((p) => test.has(p));
}

describe("synthetic tasks", () => {
  it("computes the right answers", () => {
    const add = createSyntheticTask("addition", { length: 2 });
    for (let i = 0; i < 20; i++) {
      const ex = add.example(i);
      const [a, b] = ex.prompt.slice(0, -1).split("+").map(Number);
      expect(Number(ex.answer)).toBe(a! + b!);
      expect(ex.reference).toBe(`${ex.answer}.`);
    }
    const rev = createSyntheticTask("reverse", { length: 4 }).example(3);
    expect(rev.answer).toBe([...rev.prompt.slice(2, 6)].reverse().join(""));
    const last = createSyntheticTask("last-digit", { length: 5 }).example(0);
    expect(last.answer).toBe(last.prompt.at(-2));
    const maj = createSyntheticTask("majority", { length: 5 }).example(1);
    const bits = maj.prompt.slice(2, -1);
    expect(maj.answer).toBe([...bits].filter((c) => c === "1").length > bits.length / 2 ? "1" : "0");
  });

  it("is reproducible per seed, index and split; seeds differ", () => {
    for (const name of [...SYNTHETIC_TASK_NAMES, ARITH_CHAIN_NAME]) {
      const make = (seed: number) =>
        name === ARITH_CHAIN_NAME ? createArithChainTask({ seed }) : createSyntheticTask(name, { seed, length: 6 });
      const a = make(5);
      const b = make(5);
      for (const split of ["train", "test"] as const)
        expect(Array.from({ length: 20 }, (_, i) => b.example(i, split))).toEqual(
          Array.from({ length: 20 }, (_, i) => a.example(i, split)),
        );
      expect(prompts(make(6), "train", 20)).not.toEqual(prompts(a, "train", 20));
      void a.close();
      void b.close();
    }
  });

  it("only uses characters of its alphabet", () => {
    for (const name of SYNTHETIC_TASK_NAMES) {
      const task = createSyntheticTask(name);
      for (let i = 0; i < 10; i++) {
        const ex = task.example(i);
        for (const ch of ex.prompt + ex.answer + ex.reference + task.stop.join("")) expect(task.alphabet).toContain(ch);
      }
    }
  });

  it("accepts the answer followed by the terminator and nothing else; shapes the reward", async () => {
    const ex: TaskExample = { id: "x", prompt: "3+4=", answer: "7" };
    const binary = createSyntheticTask("addition", { length: 1 });
    expect(
      await binary.verify([
        { example: ex, response: "7." },
        { example: ex, response: "7.99" },
        { example: ex, response: "7" },
        { example: ex, response: "8." },
      ]),
    ).toEqual([
      { correct: true, reward: 1, extracted: "7" },
      { correct: true, reward: 1, extracted: "7" },
      { correct: false, reward: 0, extracted: "7" },
      { correct: false, reward: 0, extracted: "8" },
    ]);
    // DAPO: +1 / -1; overlong (Lmax 10, buffer 4): a 9-token response is 3 into the buffer, -3/4.
    const dapo = createSyntheticTask("addition", {
      length: 1,
      reward: { kind: "dapo", overlong: { maxLength: 10, bufferLength: 4 } },
    });
    const v = await dapo.verify([
      { example: ex, response: "7.", responseTokens: 2 },
      { example: ex, response: "8.", responseTokens: 2 },
      { example: ex, response: "7.", responseTokens: 9 },
    ]);
    expect(v.map((x) => x.reward)).toEqual([1, -1, 1 - 3 / 4]);
    expect(v.map((x) => x.correct)).toEqual([true, false, true]);
  });

  it("rejects unknown names and bad options with what is allowed", () => {
    expect(() => createSyntheticTask("sorting")).toThrow(
      /unknown synthetic task "sorting"; known: addition, last-digit, majority, reverse/,
    );
    expect(() => createSyntheticTask("reverse", { length: 0 })).toThrow(/task.length/);
    expect(() => createSyntheticTask("reverse", { reward: { kind: "linear" as "dapo" } })).toThrow(/reward.kind/);
    expect(() => createSyntheticTask("reverse").example(-1)).toThrow(/index/);
    expect(() => createSyntheticTask("reverse").example(0, "valid" as Split)).toThrow(/split/);
    expect(() => createArithChainTask({ minSteps: 4, maxSteps: 2 })).toThrow(/task.maxSteps/);
  });
});

describe("createTask", () => {
  it("builds every built-in by name; an unknown name or a missing path says what is allowed", async () => {
    for (const name of [
      "arith-chain",
      "addition",
      "last-digit",
      "majority",
      "reverse",
      "alfworld",
      "webshop",
    ] as const) {
      const task = createTask({ name });
      expect(task.name).toBe(name);
      expect(task.example(0, "test").id).toMatch(new RegExp(`^${name}/test/`));
      await task.close();
      await task.close(); // idempotent
    }
    expect(TASK_NAMES).toEqual([
      "arith-chain",
      "addition",
      "last-digit",
      "majority",
      "reverse",
      "math-jsonl",
      "code-jsonl",
      "alfworld",
      "webshop",
    ]);
    expect(() => createTask({ name: "gsm8k" } as never)).toThrow(
      /task.name: unknown task "gsm8k"; known: arith-chain, addition, last-digit, majority, reverse, math-jsonl, code-jsonl, alfworld, webshop/,
    );
    expect(() => createTask({ name: "math-jsonl" })).toThrow(/task.path: give a JSONL path/);
  });
});

describe("train and held-out streams", () => {
  it("the overlap check finds shared problems (it can fail)", () => {
    // A task whose streams are seeded per split but not disjoint, like the old synthetic tasks.
    const leaky = {
      example: (i: number, split: Split = "train") => ({
        id: `${split}${i}`,
        prompt: `${(i * (split === "train" ? 7 : 3)) % 10}`,
        answer: "",
      }),
    };
    expect(overlap(leaky, 20).length).toBeGreaterThan(0);
  });

  it.each([
    ...SYNTHETIC_TASK_NAMES.map((n) => [n, 3] as const),
    ["addition", 1] as const,
    ["majority", 3] as const,
  ])("%s (length %i): no train problem is a held-out problem", (name, length) => {
    const task = createSyntheticTask(name, { seed: 3, length });
    expect(overlap(task, 1500)).toEqual([]);
    for (const p of prompts(task, "test", 200)) expect(splitOf(name, p)).toBe("test");
    for (const p of prompts(task, "train", 200)) expect(splitOf(name, p)).toBe("train");
  });

  it("addition length 1: the 100 problems are partitioned; each stream reaches only its part", () => {
    const all: string[] = [];
    for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) all.push(`${a}+${b}=`);
    const held = all.filter((p) => splitOf("addition", p) === "test");
    // About 1 in TEST_BUCKETS held out.
    expect(held.length).toBeGreaterThan(100 / TEST_BUCKETS / 2);
    expect(held.length).toBeLessThan((2 * 100) / TEST_BUCKETS);
    const task = createSyntheticTask("addition", { length: 1 });
    expect(new Set(prompts(task, "test", 400))).toEqual(new Set(held));
    expect(new Set(prompts(task, "train", 2000))).toEqual(new Set(all.filter((p) => !held.includes(p))));
  });

  it("arith-chain: no overlap across seeds either (the split is by content)", () => {
    const a = createArithChainTask({ seed: 1 });
    const b = createArithChainTask({ seed: 2 });
    expect(overlap(a, 3000)).toEqual([]);
    const testB = new Set(prompts(b, "test", 3000));
    expect(prompts(a, "train", 3000).filter((p) => testB.has(p))).toEqual([]);
    void a.close();
    void b.close();
  });

  it("a problem space with nothing to hold out is a clear error, not a hang", () => {
    // "m:1=" hashes to train (checked), so a stream that only ever draws it has no held-out problem.
    expect(splitOf("majority", "m:1=")).toBe("train");
    const draw = (split: Split) =>
      drawInSplit(
        "majority",
        split,
        createRng(0),
        () => "m:1=",
        (p) => p,
      );
    expect(draw("train")).toBe("m:1=");
    expect(() => draw("test")).toThrow(/no test problem in 512 draws; the problem space is too small/);
  });
});
