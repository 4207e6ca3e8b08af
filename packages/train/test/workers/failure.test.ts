import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { disposeBatch, tf, useBackend } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import type { CausalLM } from "@tokenrl/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdamW, ppoUpdate, resolveRecipe } from "../../src/index.js";
import { loadLatestCheckpoint, saveCheckpoint } from "../../src/node/index.js";
import { WorkerCrashedError, createWorkerPool } from "../../src/workers/index.js";
import type { WorkerPool } from "../../src/workers/index.js";
import { rlBatch, smallPolicy, tokenizer } from "./fixtures.js";

let model: CausalLM;
let batch: TrainingBatch;
const dirs: string[] = [];

beforeAll(async () => {
  await useBackend("wasm");
  model = smallPolicy();
  batch = await rlBatch(model);
});

afterAll(() => {
  disposeBatch(batch);
  model.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const state = (step: number) => ({
  version: 1 as const,
  phase: "rl" as const,
  step,
  nextExample: 0,
  rng: { seed: 0, draws: step },
  optimizerPhase: "rl" as const,
  optimizerStep: 0,
  configHash: "test",
  finished: false,
});

/** Training steps with a checkpoint after each, until the pool fails; returns the error and the last saved step. */
async function trainUntilFailure(
  pool: WorkerPool,
  optimizer: AdamW,
  root: string,
): Promise<{ error: unknown; saved: number; weights: Float32Array }> {
  let saved = 0;
  let weights = new Float32Array();
  try {
    for (let step = 1; step <= 5; step++) {
      await ppoUpdate({
        batch,
        optimizer,
        computeGradients: (s, c) => pool.computeGradients(s, c),
        shardsPerMiniBatch: 2,
      });
      await saveCheckpoint(root, { model, tokenizer, optimizer, state: state(step) });
      saved = step;
      weights = (model.trainableVariables()[1]!.dataSync() as Float32Array).slice();
    }
    return { error: undefined, saved, weights };
  } catch (error) {
    return { error, saved, weights };
  }
}

describe("a worker that fails", () => {
  for (const mode of ["throw", "exit"] as const) {
    it(`stops the run with its cause and leaves the last checkpoint intact (${mode})`, async () => {
      const root = mkdtempSync(join(tmpdir(), "tokenrl-crash-"));
      dirs.push(root);
      const recipe = resolveRecipe({ preset: "grpo" });
      // Worker 1 fails on its third gradient task: steps 1 and 2 complete and are checkpointed.
      const pool = await createWorkerPool({
        model,
        tokenizer,
        workers: 2,
        loss: { kind: "recipe", recipe },
        fault: { worker: 1, op: "gradients", nth: 3, mode },
      });
      const optimizer = new AdamW(model.trainableVariables(), { lr: 1e-2 });
      const before = tf.memory().numTensors;
      const { error, saved, weights } = await trainUntilFailure(pool, optimizer, root);
      // The failed step leaked nothing on the main thread.
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      expect(error).toBeInstanceOf(WorkerCrashedError);
      const crash = error as WorkerCrashedError;
      expect(crash.code).toBe("WORKER");
      expect(crash.worker).toBe(1);
      expect(crash.task).toBe("gradients");
      if (mode === "throw") {
        expect(crash.reason).toBe("error");
        expect(crash.message).toContain("injected fault in worker 1 on gradients task 3");
      } else {
        expect(crash.reason).toBe("exit");
        expect(crash.message).toContain("exit code 70");
      }
      expect(saved).toBe(2);
      // Later calls fail fast with the same error; every thread has exited (no orphans).
      await expect(pool.generate([[3]], { maxTokens: 1 }, { seed: 0 })).rejects.toBe(crash);
      await pool.close();
      expect(pool.liveWorkers).toBe(0);
      const loaded = await loadLatestCheckpoint(root);
      expect(loaded?.state.step).toBe(2);
      expect(loaded!.model.trainableVariables()[1]!.dataSync()).toEqual(weights);
      loaded!.model.dispose();
    });
  }

  it("reports a worker that runs out of memory as such", async () => {
    const pool = await createWorkerPool({
      model,
      tokenizer,
      workers: 2,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      fault: { worker: 0, op: "generate", nth: 1, mode: "oom" },
    });
    const error = await pool.generate([[3], [4]], { maxTokens: 2 }, { seed: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as WorkerCrashedError).reason).toBe("out-of-memory");
    expect((error as WorkerCrashedError).message).toMatch(
      /worker 0 ran out of memory during a generate task: ERR_WORKER_OUT_OF_MEMORY/,
    );
    await pool.close();
    expect(pool.liveWorkers).toBe(0);
  });
});
