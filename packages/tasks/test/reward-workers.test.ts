import { describe, expect, it } from "vitest";
import { createTask, rewardRuntime, withRewardWorkers } from "../src/index.js";

describe("reward workers (what planWorkers sizes)", () => {
  it("names the runtime of each built-in task's verifier", () => {
    expect(rewardRuntime("arith-chain")).toBe("math");
    expect(rewardRuntime("math-jsonl")).toBe("math");
    expect(rewardRuntime("code-jsonl")).toBe("code");
    expect(rewardRuntime("addition")).toBe("none");
    expect(rewardRuntime("alfworld")).toBe("none");
  });

  it("sizes the math verifier's pool and the code runner, unless the spec sizes them itself", () => {
    expect(withRewardWorkers({ name: "arith-chain" }, 3)).toEqual({
      name: "arith-chain",
      poolOptions: { concurrency: 3 },
    });
    const own = { name: "arith-chain" as const, poolOptions: { concurrency: 1, timeoutMs: 50 } };
    expect(withRewardWorkers(own, 3)).toBe(own);
    expect(withRewardWorkers({ name: "code-jsonl", path: "x.jsonl", runner: { uidBase: 62000 } }, 2)).toMatchObject({
      runner: { uidBase: 62000, concurrency: 2 },
    });
    const synthetic = { name: "addition" as const };
    expect(withRewardWorkers(synthetic, 4)).toBe(synthetic);
    expect(() => withRewardWorkers(synthetic, 0)).toThrow(/rewardWorkers/);
  });

  it("the sized spec builds a working task", async () => {
    const task = createTask(withRewardWorkers({ name: "arith-chain", seed: 0 }, 1));
    try {
      const e = task.example(0, "test");
      const [v] = await task.verify([{ example: e, response: e.reference ?? "" }]);
      expect(v!.correct).toBe(true);
    } finally {
      await task.close();
    }
  });
});
