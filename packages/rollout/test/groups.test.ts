import { initBackend } from "@tokenrl/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalEngine, dynamicSampling, sampleGroups } from "../src/index.js";
import type { RolloutEngine, RolloutSequence } from "../src/index.js";
import { tinyPolicy, tokenizer } from "./helpers.js";

/** An engine whose response to prompt [p] at sample k is [p, k]: verdicts can be scripted from the ids. */
function scriptedEngine(): RolloutEngine & { calls: number } {
  const counts = new Map<number, number>();
  const engine = {
    calls: 0,
    padTokenId: 0,
    async generate(prompts: readonly (readonly number[])[]): Promise<RolloutSequence[]> {
      engine.calls++;
      return prompts.map((p) => {
        const k = counts.get(p[0]!) ?? 0;
        counts.set(p[0]!, k + 1);
        return {
          promptIds: [...p],
          responseIds: [p[0]!, k],
          rolloutLogProbs: [-1, -1],
          finishReason: "stop" as const,
          text: "",
        };
      });
    },
  };
  return engine;
}

describe("group sampling", () => {
  let model: ReturnType<typeof tinyPolicy>;
  beforeAll(async () => {
    await initBackend({ log: null });
    model = tinyPolicy();
  });
  afterAll(() => model.dispose());

  it("samples G responses per prompt with groupIds", async () => {
    const engine = createLocalEngine({ model, tokenizer, seed: 1 });
    const out = await sampleGroups(
      engine,
      ["ab", "c"].map((t) => tokenizer.encode(t)),
      { groupSize: 3, maxTokens: 4, firstGroupId: 10 },
    );
    expect(out.map((s) => s.groupId)).toEqual([10, 10, 10, 11, 11, 11]);
    expect(out.map((s) => tokenizer.decode(s.promptIds))).toEqual(["ab", "ab", "ab", "c", "c", "c"]);
    // Same prompt, independent streams: the three responses of a group are not all identical.
    expect(new Set(out.slice(0, 3).map((s) => s.responseIds.join(","))).size).toBeGreaterThan(1);
  });

  it("drops groups whose verdicts are all equal and over-generates to fill the batch", async () => {
    const engine = scriptedEngine();
    // Prompts 1..6 in order, 3 per generation batch; G = 2.
    // Verdicts by prompt: 1 all-correct, 2 mixed, 3 all-wrong | 4 mixed, 5 mixed, 6 all-correct.
    const table: Record<number, number[]> = { 1: [1, 1], 2: [1, 0], 3: [0, 0], 4: [0, 1], 5: [1, 0], 6: [1, 1] };
    let next = 1;
    const result = await dynamicSampling({
      engine,
      nextPrompts: (n) => Array.from({ length: n }, () => [next++]),
      groupSize: 2,
      numGroups: 2,
      promptsPerBatch: 3,
      maxGenerationBatches: 3,
      verify: (seqs) => seqs.map((s) => table[s.responseIds[0]!]![s.responseIds[1]!]!),
    });
    // Batch 1 keeps prompt 2 (1 of 3); batch 2 keeps prompt 4, fills the batch, and prompt 5 is surplus.
    expect(result.stats).toEqual({
      generationBatches: 2,
      groupsGenerated: 6,
      groupsDropped: 3,
      groupsKept: 2,
      groupsSurplus: 1,
      filled: true,
    });
    expect(result.sequences.map((s) => s.promptIds[0])).toEqual([2, 2, 4, 4]);
    expect(result.sequences.map((s) => s.groupId)).toEqual([0, 0, 1, 1]);
    expect(result.verdicts).toEqual([1, 0, 0, 1]);
    expect(engine.calls).toBe(2);
  });

  it("stops after N generation batches and says the batch is not filled", async () => {
    const engine = scriptedEngine();
    const result = await dynamicSampling({
      engine,
      nextPrompts: (n) => Array.from({ length: n }, () => [7]),
      groupSize: 2,
      numGroups: 4,
      maxGenerationBatches: 2,
      verify: (seqs) => seqs.map(() => 1),
    });
    expect(result.stats).toMatchObject({
      generationBatches: 2,
      groupsGenerated: 8,
      groupsDropped: 8,
      groupsKept: 0,
      filled: false,
    });
    expect(result.sequences).toEqual([]);
  });
});
