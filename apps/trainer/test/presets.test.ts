import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { disposeBatch, tf } from "@tokenrl/core";
import { loadPolicy } from "@tokenrl/policy";
import { toTrainingBatch } from "@tokenrl/rollout";
import { createTask } from "@tokenrl/tasks";
import { listPresets } from "@tokenrl/train";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";
import { train } from "../src/train.js";
import { TINY } from "./helpers.js";

// Every preset on an easy task (1-digit addition). "Rising reward" is measured
// without sampling noise: the policy's probability of the correct answer on 64
// held-out prompts (exp of the summed log-probs of the reference response, the
// expected binary reward of that answer), before RL and after a few RL steps.
const RUN = {
  ...TINY,
  sft: { steps: 12, batchSize: 32, learningRate: 1e-2 },
  rl: { steps: 8, promptsPerStep: 8, groupSize: 4, maxGenerationBatches: 2, miniBatches: 2 },
  optim: { lr: 3e-3 },
  eval: { examples: 0, every: 0 },
  checkpoint: { every: 0, keepLast: 2 },
  log: { samplesPerStep: 0 },
};

async function answerProbability(dir: string): Promise<number> {
  const { model, tokenizer } = await loadPolicy(dir);
  const task = createTask({ name: "addition", length: 1, seed: 0 });
  const examples = Array.from({ length: 64 }, (_, i) => task.example(i, "test"));
  const batch = toTrainingBatch(
    examples.map((e) => {
      const responseIds = tokenizer.encode(e.reference ?? `${e.answer}${task.stop[0] ?? ""}`);
      return {
        promptIds: tokenizer.encode(e.prompt),
        responseIds,
        rolloutLogProbs: responseIds.map(() => 0),
        finishReason: "stop" as const,
        text: "",
      };
    }),
    { padTokenId: tokenizer.padTokenId },
  );
  const p = tf.tidy(() => {
    const { logProbs } = model.scoreResponses({
      promptIds: batch.promptIds!,
      promptMask: batch.promptMask!,
      responseIds: batch.responseIds!,
      responseMask: batch.responseMask,
    });
    return tf.mean(tf.exp(tf.sum(logProbs, 1)));
  });
  const value = p.dataSync()[0]!;
  tf.dispose(p);
  disposeBatch(batch);
  model.dispose();
  await task.close();
  return value;
}

describe("every preset raises the reward on an easy task", () => {
  for (const preset of listPresets()) {
    it(preset, async () => {
      const out = mkdtempSync(join(tmpdir(), `trainer-preset-${preset}-`));
      await train(resolveConfig(RUN, { out, preset }), { progress: false });
      const before = await answerProbability(join(out, "checkpoints", "rl_step_000000"));
      const after = await answerProbability(join(out, "checkpoints", "rl_step_000008"));
      expect(after, `${preset}: P(correct answer) ${before.toFixed(4)} -> ${after.toFixed(4)}`).toBeGreaterThan(before);
    }, 120_000);
  }
});
