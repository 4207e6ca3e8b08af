import { batchFromArrays, tf } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import { createPolicy } from "@tokenrl/policy";
import type { CausalLM } from "@tokenrl/policy";

/** A 1-layer, 16-wide Qwen3-style policy over a 12-token vocabulary. */
export function tinyPolicy(seed = 1): CausalLM {
  return createPolicy(
    {
      modelType: "qwen3",
      vocabSize: 12,
      hiddenSize: 16,
      intermediateSize: 32,
      numLayers: 1,
      numHeads: 2,
      numKvHeads: 1,
      maxPositionEmbeddings: 32,
      eosTokenId: 1,
      padTokenId: 0,
      bosTokenId: 2,
    },
    { seed },
  );
}

/**
 * Three groups of two responses with different lengths (one response empty),
 * old / reference / rollout log-probs scored from `policy` with offsets, and
 * advantages of both signs: every aggregation mode weighs rows differently here.
 */
export function ppoBatch(policy: CausalLM): TrainingBatch {
  const responseMask = [
    [1, 1, 1, 1],
    [1, 1, 0, 0],
    [1, 0, 0, 0],
    [1, 1, 1, 0],
    [0, 0, 0, 0],
    [1, 1, 1, 1],
  ];
  const responseIds = [
    [3, 4, 5, 1],
    [6, 1, 0, 0],
    [7, 0, 0, 0],
    [8, 9, 1, 0],
    [0, 0, 0, 0],
    [10, 11, 3, 1],
  ];
  const base = batchFromArrays({
    promptIds: [
      [2, 3],
      [2, 3],
      [0, 4],
      [0, 4],
      [2, 5],
      [2, 5],
    ],
    promptMask: [
      [1, 1],
      [1, 1],
      [0, 1],
      [0, 1],
      [1, 1],
      [1, 1],
    ],
    responseIds,
    responseMask,
    groupIds: [0, 0, 1, 1, 2, 2],
    correct: [1, 0, 1, 0, 0, 1],
  });
  const scored = policy.scoreResponses({
    promptIds: base.promptIds!,
    promptMask: base.promptMask!,
    responseIds: base.responseIds!,
    responseMask: base.responseMask,
  });
  const shift = (d: number) => tf.tidy(() => tf.mul(tf.add(scored.logProbs, d), base.responseMask)) as tf.Tensor2D;
  const batch: TrainingBatch = {
    ...base,
    oldLogProbs: shift(0.05),
    rolloutLogProbs: shift(0.08),
    refLogProbs: shift(-0.1),
    entropy: scored.entropy,
    advantages: tf.tidy(() =>
      tf.mul(tf.tile(tf.tensor2d([[1.2], [-0.7], [0.9], [-1.1], [0.4], [-0.3]]), [1, 4]), base.responseMask),
    ) as tf.Tensor2D,
  };
  scored.logProbs.dispose();
  return batch;
}

/** Max |a - b| / (max |b| + tiny) over every variable's gradient. */
export function relativeDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  let worst = 0;
  a.forEach((g, i) => {
    const x = g.dataSync();
    const y = b[i]!.dataSync();
    let scale = 1e-12;
    for (const v of y) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - y[j]!) / scale);
  });
  return worst;
}
