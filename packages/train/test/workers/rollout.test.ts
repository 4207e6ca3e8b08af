import { tf, useBackend } from "@tokenrl/core";
import { createLocalEngine, sampleGroups } from "@tokenrl/rollout";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerPool } from "../../src/workers/index.js";
import type { WorkerPool } from "../../src/workers/index.js";
import { CharTokenizer } from "@tokenrl/policy";
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
      // Bit for bit, not only the tokens: every worker pads to the call's longest prompt, as the
      // in-process call does, and a row's arithmetic does not depend on its batch-mates.
      expect(other.map((s) => s.rolloutLogProbs)).toEqual(a!.map((s) => s.rolloutLogProbs));
    }
    // Two workers prefilled each distinct prompt of the grouped call once between them; the second
    // call's prompts each sit on one worker, so it skipped the shared prefill. One worker prefills
    // inside its own generate.
    expect(two.rolloutStats()).toMatchObject({
      calls: 2,
      rows: 5 * prompts.length,
      sharedPrefillPrompts: prompts.length,
    });
    expect(one.rolloutStats()).toMatchObject({ calls: 2, sharedPrefillPrompts: 0 });
    // A sampler that ignored the seed would give identical rows within a group.
    expect(new Set(a!.slice(0, 4).map((s) => s.responseIds.join(","))).size).toBeGreaterThan(1);
  });

  it("an exclusive pool runs one task at a time, samples the same tokens, and counts its fan-outs", async () => {
    const exclusive = await createWorkerPool({ model, tokenizer, workers: 2, exclusive: true });
    try {
      const engines = [two.engine({ seed: 3, tokenizer }), exclusive.engine({ seed: 3, tokenizer })];
      const before = [two.taskStats(), exclusive.taskStats()];
      const walls: number[] = [];
      const results = [];
      for (const engine of engines) {
        const t0 = performance.now();
        results.push(await sampleGroups(engine, prompts, { ...params, groupSize: 4 }));
        walls.push(performance.now() - t0);
      }
      expect(results[1]!.map((s) => s.responseIds)).toEqual(results[0]!.map((s) => s.responseIds));
      const [concurrent, alone] = [two.taskStats(), exclusive.taskStats()].map((after, i) => ({
        fanOuts: after.fanOuts - before[i]!.fanOuts,
        busyMs: after.busyMs - before[i]!.busyMs,
        criticalMs: after.criticalMs - before[i]!.criticalMs,
      }));
      // The shared prefill, then the generate: two fan-outs of two tasks each, in both pools.
      expect(concurrent!.fanOuts).toBe(2);
      expect(alone!.fanOuts).toBe(2);
      for (const t of [concurrent!, alone!]) expect(t.criticalMs).toBeGreaterThan(0);
      // One at a time: the call lasted at least all of its tasks' time together.
      expect(walls[1]!).toBeGreaterThanOrEqual(alone!.busyMs);
    } finally {
      await exclusive.close();
    }
  });

  it("an exclusive pool whose worker crashes rejects its queued tasks too; close() ends tasks in flight", async () => {
    const failing = await createWorkerPool({
      model,
      tokenizer,
      workers: 2,
      exclusive: true,
      fault: { worker: 0, op: "generate", nth: 1, mode: "exit" },
    });
    // Worker 0 dies on its first generate; worker 1's task waits behind it in the queue.
    await expect(failing.generate(prompts, params, { seed: 1 })).rejects.toThrow(/worker 0/);
    await failing.close();
    expect(failing.liveWorkers).toBe(0);

    const closing = await createWorkerPool({ model, tokenizer, workers: 2, exclusive: true });
    const call = closing.generate(prompts, { ...params, maxTokens: 64, ignoreEos: true, stop: [] }, { seed: 2 });
    const settled = call.then(
      () => "resolved",
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 30)); // a task is in a worker now
    await closing.close();
    // Not left pending: the in-flight task rejects and the one queued behind it with it.
    expect(await settled).toMatch(/the worker pool was closed/);
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

  it("decodes with the pool's tokenizer only: another one, or stop strings without one, are refused before any work", async () => {
    const bare = await createWorkerPool({ model, workers: 2 });
    try {
      expect(() => bare.engine({ seed: 1, tokenizer })).toThrow(/pass it to createWorkerPool\(\{ tokenizer \}\)/);
      const grouped = prompts.flatMap((p) => [p, p]);
      await expect(bare.engine({ seed: 1 }).generate(grouped, params)).rejects.toThrow(/stop strings need a tokenizer/);
      await expect(bare.engine({ seed: 1 }).generate([], { ...params, stop: [] })).rejects.toThrow(/prompts is empty/);
      // Refused calls count for nothing, the shared prefill included.
      expect(bare.rolloutStats()).toMatchObject({ calls: 0, rows: 0, sharedPrefillPrompts: 0 });
      const ok = await bare.engine({ seed: 1 }).generate(grouped, { ...params, stop: [] });
      expect(ok).toHaveLength(grouped.length);
      expect(bare.rolloutStats()).toMatchObject({
        calls: 1,
        rows: grouped.length,
        sharedPrefillPrompts: prompts.length,
      });
    } finally {
      await bare.close();
    }
    expect(() => two.engine({ seed: 1, tokenizer: new CharTokenizer(["x", "y"]) })).toThrow(/differs from the pool's/);
  });

  it("decodes with the weights its prefill used when another call publishes new ones meanwhile", async () => {
    const v = model.trainableVariables()[1]!;
    const saved = v.clone();
    const grouped = prompts.flatMap((p) => [p, p]);
    const expected = await createLocalEngine({ model, tokenizer, seed: 8 }).generate(grouped, params);
    // The call publishes the current weights and starts its shared prefill; then the weights change
    // and are published (as a concurrent score or update would) before it decodes.
    const call = two.engine({ seed: 8, tokenizer }).generate(grouped, params);
    v.assign(tf.mul(v, 0.5));
    two.publishWeights();
    const got = await call;
    const changed = await createLocalEngine({ model, tokenizer, seed: 8 }).generate(grouped, params);
    // The whole call ran on one set of weights, the newest: prefill and decode alike.
    expect(got.map((s) => s.responseIds)).toEqual(changed.map((s) => s.responseIds));
    expect(changed.map((s) => s.responseIds)).not.toEqual(expected.map((s) => s.responseIds));
    v.assign(saved);
    saved.dispose();
  });
});
