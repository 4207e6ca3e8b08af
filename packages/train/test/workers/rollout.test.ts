import { tf, useBackend } from "@tokenrl/core";
import { createLocalEngine, sampleGroups } from "@tokenrl/rollout";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerPool } from "../../src/workers/index.js";
import type { WorkerPool } from "../../src/workers/index.js";
import type { CausalLM } from "@tokenrl/policy";
import { prompts, smallPolicy, tokenizer } from "./fixtures.js";

let model: CausalLM;
let one: WorkerPool;
let two: WorkerPool;

beforeAll(async () => {
  await useBackend("wasm");
  model = smallPolicy();
  [one, two] = await Promise.all([
    createWorkerPool({ model, tokenizer, workers: 1 }),
    createWorkerPool({ model, tokenizer, workers: 2 }),
  ]);
});

afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
  model.dispose();
});

const params = { temperature: 1, maxTokens: 8, stop: [";"], includeStopStrInOutput: true };

describe("rollout in workers", () => {
  it("samples the same tokens with 1 and 2 workers as the in-process engine", async () => {
    const local = createLocalEngine({ model, tokenizer, seed: 11 });
    const engines = [local, one.engine({ seed: 11, tokenizer }), two.engine({ seed: 11, tokenizer })];
    // Two calls each: call k of every engine draws from the same stream.
    const results = [];
    for (const engine of engines) {
      const first = await sampleGroups(engine, prompts, { ...params, groupSize: 4 });
      const second = await engine.generate(prompts, params);
      results.push([...first, ...second]);
    }
    const [a, b, c] = results;
    expect(a!.length).toBe(prompts.length * 4 + prompts.length);
    for (const other of [b!, c!]) {
      expect(other.map((s) => s.responseIds)).toEqual(a!.map((s) => s.responseIds));
      expect(other.map((s) => s.text)).toEqual(a!.map((s) => s.text));
      expect(other.map((s) => s.finishReason)).toEqual(a!.map((s) => s.finishReason));
      other.forEach((s, i) => {
        s.rolloutLogProbs.forEach((lp, t) => expect(lp).toBeCloseTo(a![i]!.rolloutLogProbs[t]!, 5));
      });
    }
    // Two workers prefilled each distinct prompt once between them (G copies and both calls' prompts
    // alike); one worker prefills inside its own generate.
    expect(two.rolloutStats()).toMatchObject({
      calls: 2,
      rows: 5 * prompts.length,
      sharedPrefillPrompts: 2 * prompts.length,
    });
    expect(one.rolloutStats()).toMatchObject({ calls: 2, sharedPrefillPrompts: 0 });
    // A sampler that ignored the seed would give identical rows within a group.
    expect(new Set(a!.slice(0, 4).map((s) => s.responseIds.join(","))).size).toBeGreaterThan(1);
  });

  it("splits the rows over the workers and follows weight updates", async () => {
    const v = model.trainableVariables()[0]!;
    const before = await two.engine({ seed: 5, tokenizer }).generate(prompts, params);
    const saved = v.clone();
    v.assign(tf.mul(v, 1.5));
    const after = await two.engine({ seed: 5, tokenizer }).generate(prompts, params);
    const local = await createLocalEngine({ model, tokenizer, seed: 5 }).generate(prompts, params);
    expect(after.map((s) => s.responseIds)).toEqual(local.map((s) => s.responseIds));
    expect(after.map((s) => s.responseIds)).not.toEqual(before.map((s) => s.responseIds));
    v.assign(saved);
    saved.dispose();
    // One broadcast for the first call of the file, one after the update; an unchanged model is not re-sent.
    expect(two.syncStats().broadcasts).toBe(2);
  });
});
