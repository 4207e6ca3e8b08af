import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedPath } from "../../../tooling/test-utils/shared.js";
import { SYNTHETIC_TASK_NAMES, createSyntheticTask, loadJsonlTasks } from "../src/index.js";

describe("synthetic tasks", () => {
  it("computes the right answers", () => {
    const add = createSyntheticTask("addition", { length: 2 });
    for (let i = 0; i < 20; i++) {
      const ex = add.example(i);
      const [a, b] = ex.prompt.slice(0, -1).split("+").map(Number);
      expect(Number(ex.answer)).toBe(a! + b!);
    }
    const rev = createSyntheticTask("reverse", { length: 4 }).example(3);
    expect(rev.answer).toBe([...rev.prompt.slice(2, 6)].reverse().join(""));
    const last = createSyntheticTask("last-digit", { length: 5 }).example(0);
    expect(last.answer).toBe(last.prompt.at(-2));
    const maj = createSyntheticTask("majority", { length: 5 }).example(1);
    const bits = maj.prompt.slice(2, -1);
    expect(maj.answer).toBe([...bits].filter((c) => c === "1").length > bits.length / 2 ? "1" : "0");
  });

  it("is reproducible per seed, index and split, and splits differ", () => {
    const a = createSyntheticTask("reverse", { seed: 5 });
    const b = createSyntheticTask("reverse", { seed: 5 });
    expect(a.example(9)).toEqual(b.example(9));
    const train = Array.from({ length: 30 }, (_, i) => a.example(i, "train").prompt);
    const test = Array.from({ length: 30 }, (_, i) => a.example(i, "test").prompt);
    expect(train).not.toEqual(test);
    expect(createSyntheticTask("reverse", { seed: 6 }).example(9)).not.toEqual(a.example(9));
  });

  it("only uses characters of its alphabet", () => {
    for (const name of SYNTHETIC_TASK_NAMES) {
      const task = createSyntheticTask(name);
      for (let i = 0; i < 10; i++) {
        const ex = task.example(i);
        for (const ch of ex.prompt + ex.answer + task.stop.join("")) expect(task.alphabet).toContain(ch);
      }
    }
  });

  it("accepts the answer followed by the terminator and nothing else", () => {
    const task = createSyntheticTask("addition", { length: 1 });
    const ex = { id: "x", prompt: "3+4=", answer: "7" };
    expect(task.verify("7.", ex)).toEqual({ correct: true, reward: 1, extracted: "7" });
    expect(task.verify("7.99", ex).correct).toBe(true);
    expect(task.verify("7", ex).correct).toBe(false);
    expect(task.verify("8.", ex)).toEqual({ correct: false, reward: 0, extracted: "8" });
  });

  it("rejects unknown names and bad lengths with the list of tasks", () => {
    expect(() => createSyntheticTask("sorting")).toThrow(
      /unknown synthetic task "sorting"; known: addition, last-digit, majority, reverse/,
    );
    expect(() => createSyntheticTask("reverse", { length: 0 })).toThrow(/task.length/);
  });
});

describe("loadJsonlTasks", () => {
  it("reads {id, problem, answer} lines and reports every bad line with its number", () => {
    const dir = mkdtempSync(join(tmpdir(), "tasks-"));
    const good = join(dir, "good.jsonl");
    writeFileSync(good, '{"id":"a","problem":"1+1?","answer":"2"}\n\n{"id":"b","problem":"x?","answer":3}\n');
    expect(loadJsonlTasks(good).map((t) => [t.id, t.answer])).toEqual([
      ["a", "2"],
      ["b", "3"],
    ]);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"id":"a","problem":"1+1?","answer":"2"}\n{oops\n{"id":"c"}\n');
    expect(() => loadJsonlTasks(bad)).toThrow(
      /2 bad line\(s\):\n.*bad.jsonl:2: not JSON.*\n.*bad.jsonl:3: needs a string "problem"/,
    );
  });

  it("loads the shared benchmark sets", () => {
    const path = sharedPath("data/aime24.jsonl", "AIME 2024 loader check");
    if (!path) return;
    const tasks = loadJsonlTasks(path);
    expect(tasks).toHaveLength(30);
    expect(tasks.every((t) => t.prompt.length > 0 && t.answer.length > 0)).toBe(true);
  });
});
