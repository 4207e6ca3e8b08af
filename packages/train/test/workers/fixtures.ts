import { CharTokenizer, createPolicy } from "@tokenrl/policy";
import type { CausalLM } from "@tokenrl/policy";

export const tokenizer = new CharTokenizer("0123456789+=;");

/** A 2-layer, 32-wide Qwen3-style policy over the digits tokenizer (random weights). */
export function smallPolicy(seed = 3): CausalLM {
  return createPolicy(
    {
      modelType: "qwen3",
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 32,
      intermediateSize: 64,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      maxPositionEmbeddings: 64,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      bosTokenId: tokenizer.bosTokenId,
    },
    { seed },
  );
}

/** Prompts of different lengths (left padding differs between rows). */
export const prompts = ["1+2=", "33+4=", "7+8=", "12+30=", "5+5=", "9+91="].map((p) => tokenizer.encode(p));

import { tf } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import { createLocalEngine, sampleGroups, toTrainingBatch } from "@tokenrl/rollout";

/**
 * An RL batch as the trainer builds it: 6 prompts x G = 4 sampled responses,
 * verdicts from a fixed pattern, GRPO-like advantages of both signs, old
 * log-probs and entropies scored by `model` (shifted, so the ratio is off 1).
 */
export async function rlBatch(model: CausalLM, G = 4): Promise<TrainingBatch> {
  const engine = createLocalEngine({ model, tokenizer, seed: 21 });
  const seqs = await sampleGroups(engine, prompts, { temperature: 1, maxTokens: 6, groupSize: G });
  const batch = toTrainingBatch(seqs, { padTokenId: tokenizer.padTokenId });
  const [B, T] = batch.responseMask.shape;
  const correct = Array.from({ length: B }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
  batch.correct = tf.tensor1d(correct, "float32");
  // toTrainingBatch carries the group ids sampleGroups set (prompt index per row).
  const scored = model.scoreResponses({
    promptIds: batch.promptIds!,
    promptMask: batch.promptMask!,
    responseIds: batch.responseIds!,
    responseMask: batch.responseMask,
  });
  batch.oldLogProbs = tf.tidy(() => tf.mul(tf.add(scored.logProbs, 0.05), batch.responseMask)) as tf.Tensor2D;
  batch.refLogProbs = tf.tidy(() => tf.mul(tf.sub(scored.logProbs, 0.1), batch.responseMask)) as tf.Tensor2D;
  batch.entropy = scored.entropy;
  scored.logProbs.dispose();
  batch.advantages = tf.tidy(() =>
    tf.mul(
      tf.tile(
        tf.tensor2d(
          correct.map((c, i) => (c ? 1 : -1) * (0.5 + (i % 5) / 10)),
          [B, 1],
        ),
        [1, T],
      ),
      batch.responseMask,
    ),
  ) as tf.Tensor2D;
  return batch;
}
