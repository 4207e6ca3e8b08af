import { ConfigError, ShapeError, tf } from "@tokenrl/core";
import type { Tensor1D, Tensor2D, TrainingBatch } from "@tokenrl/core";

/**
 * Why a response ended: `stop` (EOS, a stop token or a stop string), `length`
 * (maxTokens or a token budget), `done` (an environment ended the episode),
 * `turns` (an agent loop hit its turn limit).
 */
export type FinishReason = "stop" | "length" | "done" | "turns";

/** One generated response, as plain arrays; every engine and loop produces these. */
export interface RolloutSequence {
  /** The prompt's token ids (unpadded). */
  promptIds: number[];
  /** The response's token ids, ending with EOS / the stop token when that stopped it. */
  responseIds: number[];
  /** 1 on tokens trained on; 0 on environment tokens in an agent episode. Absent means all 1. */
  responseMask?: number[];
  /** Log-prob of each response token under the sampling distribution (0 on environment tokens). */
  rolloutLogProbs: number[];
  finishReason: FinishReason;
  /** What stopped it: the stop string, or the stop / EOS token id. */
  stoppedBy?: string | number;
  /** Decoded response (stop string removed unless includeStopStrInOutput). */
  text: string;
  /** Group (prompt) index, set by group sampling. */
  groupId?: number;
}

export interface ToTrainingBatchOptions {
  /** Token id for padding promptIds and responseIds. */
  padTokenId: number;
  /** Pad responses to this many tokens (default: the longest response). Longer responses are an error. */
  responseLength?: number;
  /** Pad prompts to this many tokens (default: the longest prompt). */
  promptLength?: number;
}

/**
 * The TrainingBatch fields rollout owns, built from sequences: `promptIds`
 * (left-padded) and `promptMask`, `responseIds` (right-padded), `responseMask`,
 * `rolloutLogProbs`, and `groupIds` when every sequence has one. The caller owns
 * the tensors (`disposeBatch`).
 */
export function toTrainingBatch(sequences: readonly RolloutSequence[], options: ToTrainingBatchOptions): TrainingBatch {
  const B = sequences.length;
  if (B === 0) throw new ShapeError("sequences", "[B >= 1]", [0], "no sequences to batch");
  const T = options.responseLength ?? Math.max(1, ...sequences.map((s) => s.responseIds.length));
  const P = options.promptLength ?? Math.max(1, ...sequences.map((s) => s.promptIds.length));
  const pad = options.padTokenId;
  const promptIds = new Int32Array(B * P).fill(pad);
  const promptMask = new Float32Array(B * P);
  const responseIds = new Int32Array(B * T).fill(pad);
  const responseMask = new Float32Array(B * T);
  const rolloutLogProbs = new Float32Array(B * T);
  // Plain loops: callbacks made per call were compiled again in every RL step (their code goes with them).
  for (let b = 0; b < B; b++) {
    const s = sequences[b]!;
    const n = s.responseIds.length;
    if (n > T) throw new ShapeError(`sequences[${b}].responseIds`, `at most ${T} tokens (responseLength)`, [n]);
    if (s.promptIds.length > P)
      throw new ShapeError(`sequences[${b}].promptIds`, `at most ${P} tokens (promptLength)`, [s.promptIds.length]);
    if (s.rolloutLogProbs.length !== n)
      throw new ShapeError(`sequences[${b}].rolloutLogProbs`, `[${n}] (as responseIds)`, [s.rolloutLogProbs.length]);
    if (s.responseMask && s.responseMask.length !== n)
      throw new ShapeError(`sequences[${b}].responseMask`, `[${n}] (as responseIds)`, [s.responseMask.length]);
    const offset = P - s.promptIds.length;
    for (let j = 0; j < s.promptIds.length; j++) {
      promptIds[b * P + offset + j] = s.promptIds[j]!;
      promptMask[b * P + offset + j] = 1;
    }
    for (let t = 0; t < n; t++) {
      responseIds[b * T + t] = s.responseIds[t]!;
      responseMask[b * T + t] = s.responseMask ? s.responseMask[t]! : 1;
      rolloutLogProbs[b * T + t] = s.rolloutLogProbs[t]!;
    }
  }
  const withGroups = sequences.every((s) => s.groupId !== undefined);
  if (!withGroups && sequences.some((s) => s.groupId !== undefined)) {
    throw new ConfigError("sequences.groupId", "set on some sequences but not all");
  }
  return {
    promptIds: tf.tensor2d(promptIds, [B, P], "int32") as Tensor2D,
    promptMask: tf.tensor2d(promptMask, [B, P], "float32") as Tensor2D,
    responseIds: tf.tensor2d(responseIds, [B, T], "int32") as Tensor2D,
    responseMask: tf.tensor2d(responseMask, [B, T], "float32") as Tensor2D,
    rolloutLogProbs: tf.tensor2d(rolloutLogProbs, [B, T], "float32") as Tensor2D,
    ...(withGroups
      ? {
          groupIds: tf.tensor1d(
            sequences.map((s) => s.groupId!),
            "int32",
          ) as Tensor1D,
        }
      : {}),
  };
}
