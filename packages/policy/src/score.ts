import { DTypeError, ShapeError, kernelPath, tf } from "@tokenrl/core";
import type { Tensor, Tensor2D } from "@tokenrl/core";
import { checkIds } from "./validate.js";
import { positionsFromMask } from "./layers.js";
import { hostTokenStats } from "./token-stats-host.js";

/**
 * What scoring needs of a model: the decoder stack and the LM head (a
 * `CausalLM` is one). A leaf interface, so this module does not import the model.
 */
export interface Decoder {
  readonly config: { readonly hiddenSize: number };
  /** Final-normed hidden states `[B*L, H]` of `inputIds` `[B, L]` (see `CausalLM.decode`). */
  decode(
    inputIds: Tensor2D,
    mask: Tensor2D,
    positions: Tensor2D,
    pastLength: number,
    pastKv: (layer: number) => { key: Tensor; value: Tensor } | undefined,
  ): { hidden: Tensor2D };
  lmHead(hidden: Tensor2D): Tensor2D;
}

export interface ScoreInput {
  /** Prompt ids, left-padded, `[B, P]` int32 (P >= 1). */
  promptIds: Tensor2D;
  /** 1 on real prompt tokens, `[B, P]`. */
  promptMask: Tensor2D;
  /** Response ids, right-padded, `[B, T]` int32. */
  responseIds: Tensor2D;
  /** 1 on real response tokens, `[B, T]`. */
  responseMask: Tensor2D;
}

export interface ScoreOutput {
  /** log pi(response_t | prompt, response_<t), `[B, T]`, 0 where responseMask is 0. */
  logProbs: Tensor2D;
  /** Entropy of the full next-token distribution at each response position, `[B, T]`, 0 where masked. */
  entropy: Tensor2D;
}

export interface ScoreOptions {
  /**
   * Compute the full-vocabulary entropy (default true). `false` skips it where
   * nothing reads it (old / reference log-probs): no `[N, V]` p log p product
   * and sum, forward or backward; `entropy` is then absent from the result.
   */
  entropy?: boolean;
}

/**
 * Per-token log-probs and entropies of responses in one forward pass over
 * [prompt, response], differentiable (use inside tf.variableGrads / tf.grad).
 * Padding is handled by the attention mask and mask-derived positions, so a
 * left-padded prompt scores the same as the unpadded one. Only the T hidden
 * states that predict response tokens go through the LM head. log-softmax is
 * the max-shifted one; entropy is -sum p log p over the whole vocabulary.
 */
export function scoreResponses(model: Decoder, input: ScoreInput, options?: { entropy?: true }): ScoreOutput;
export function scoreResponses(
  model: Decoder,
  input: ScoreInput,
  options: { entropy: false },
): Pick<ScoreOutput, "logProbs"> & { entropy?: undefined };
export function scoreResponses(
  model: Decoder,
  input: ScoreInput,
  options?: ScoreOptions,
): Pick<ScoreOutput, "logProbs"> & { entropy?: Tensor2D };
export function scoreResponses(
  model: Decoder,
  input: ScoreInput,
  options: ScoreOptions = {},
): Pick<ScoreOutput, "logProbs"> & { entropy?: Tensor2D } {
  const { promptIds, promptMask, responseIds, responseMask } = input;
  checkIds("promptIds", promptIds);
  checkIds("responseIds", responseIds);
  const [B, P] = promptIds.shape;
  const [B2, T] = responseIds.shape;
  if (P < 1)
    throw new ShapeError(
      "promptIds",
      "[B, P] with P >= 1 (the first response token is predicted from the last prompt position)",
      promptIds.shape,
    );
  if (B2 !== B) throw new ShapeError("responseIds", `[${B}, T] (batch of promptIds)`, responseIds.shape);
  if (promptMask.rank !== 2 || promptMask.shape[0] !== B || promptMask.shape[1] !== P)
    throw new ShapeError("promptMask", `[${B}, ${P}] (as promptIds)`, promptMask.shape);
  if (responseMask.rank !== 2 || responseMask.shape[0] !== B || responseMask.shape[1] !== T)
    throw new ShapeError("responseMask", `[${B}, ${T}] (as responseIds)`, responseMask.shape);
  if (promptMask.dtype === "string") throw new DTypeError("promptMask", "float32 or int32", promptMask.dtype);
  return tf.tidy(() => {
    const ids = tf.concat([promptIds, responseIds], 1) as Tensor2D;
    const respMask = tf.cast(responseMask, "float32") as Tensor2D;
    const mask = tf.concat([tf.cast(promptMask, "float32"), respMask], 1) as Tensor2D;
    const { hidden } = model.decode(ids, mask, positionsFromMask(mask), 0, () => undefined);
    const H = model.config.hiddenSize;
    // Position P-1+t predicts response token t.
    const h = tf.reshape(tf.slice(tf.reshape(hidden, [B, P + T, H]), [0, P - 1, 0], [B, T, H]), [B * T, H]) as Tensor2D;
    const targets = tf.reshape(responseIds, [-1]) as tf.Tensor1D;
    if (options.entropy === false) {
      const lp = tokenLogProbs(model.lmHead(h), targets);
      return { logProbs: tf.mul(tf.reshape(lp, [B, T]), respMask) as Tensor2D };
    }
    const [lp, ent] = tokenLogProbsAndEntropy(model.lmHead(h), targets);
    const logProbs = tf.reshape(lp!, [B, T]);
    const entropy = tf.reshape(ent!, [B, T]);
    return { logProbs: tf.mul(logProbs, respMask) as Tensor2D, entropy: tf.mul(entropy, respMask) as Tensor2D };
  });
}

/**
 * log p(target) and the entropy of softmax(logits) per row, `[N]` each, with
 * an analytic gradient (no gradient through the max shift, whose `Equal`
 * mask took a second per step on wasm):
 *   log p_t = s_t - log Z,  H = log Z - sum_j p_j s_j   (s = x - max x, Z = sum exp s)
 *   d log p_t / dx = onehot(t) - p,  dH / dx = -p (log p + H).
 */
export function tokenLogProbsAndEntropy(logits: Tensor, targets: tf.Tensor1D): [Tensor, Tensor] {
  if (onHost(logits)) return hostTokenStats(logits, targets, true) as [Tensor, Tensor];
  const [N, V] = logits.shape as [number, number];
  // [i, target_i] pairs: gatherND / scatterND touch N entries, where a one-hot would fill N x V.
  const pairs = (t: Tensor) => tf.stack([tf.range(0, N, 1, "int32"), tf.cast(t, "int32")], 1);
  return tf.tidy(() => {
    // Only inputs are saved (the engine counts any new tensor kept past the forward as a leak),
    // so the backward recomputes p and log p: one more exp, still no Equal.
    const stats = (x: Tensor) => {
      const shifted = tf.sub(x, tf.max(x, -1, true));
      const logZ = tf.log(tf.sum(tf.exp(shifted), -1, true));
      const logp = tf.sub(shifted, logZ);
      const p = tf.exp(logp);
      return { logp, p, entropy: tf.neg(tf.sum(tf.mul(p, logp), -1, true)) };
    };
    const fused = tf.customGrad((x, save) => {
      // targets shares its data with the caller's ids, so saving it creates no new tensor data.
      (save as tf.GradSaveFunc)([x as Tensor, targets]);
      const { logp, entropy } = stats(x as Tensor);
      return {
        value: tf.concat([tf.reshape(tf.gatherND(logp, pairs(targets)), [N, 1]), entropy], 1),
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const { logp: lq, p, entropy: h } = stats(saved[0]!);
          const [gLogProb, gEntropy] = tf.split(dy, 2, 1) as [Tensor, Tensor];
          // gLogProb (onehot - p) + gEntropy (-p (log p + H)) = -p (gLogProb + gEntropy (log p + H)) + gLogProb onehot
          const dense = tf.neg(tf.mul(p, tf.add(gLogProb, tf.mul(gEntropy, tf.add(lq, h)))));
          return tf.add(dense, tf.scatterND(pairs(saved[1]!), tf.reshape(gLogProb, [N]), [N, V]));
        },
      };
    });
    const both = fused(logits as Tensor2D);
    const [logProb, entropy] = tf.split(both, 2, 1) as [Tensor, Tensor];
    return [tf.reshape(logProb, [-1]), tf.reshape(entropy, [-1])];
  });
}

/**
 * log p(target) per row, `[N]`, with the analytic gradient `onehot(t) - p`
 * (no entropy: `tokenLogProbsAndEntropy` without the `[N, V]` p log p terms).
 * The same max-shifted log-softmax, so the values equal that function's.
 */
export function tokenLogProbs(logits: Tensor, targets: tf.Tensor1D): Tensor {
  if (onHost(logits)) return hostTokenStats(logits, targets, false)[0]!;
  const [N, V] = logits.shape as [number, number];
  const pairs = (t: Tensor) => tf.stack([tf.range(0, N, 1, "int32"), tf.cast(t, "int32")], 1);
  const logSoftmax = (x: Tensor) => {
    const shifted = tf.sub(x, tf.max(x, -1, true));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
  };
  return tf.tidy(() => {
    const fused = tf.customGrad((x, save) => {
      (save as tf.GradSaveFunc)([x as Tensor, targets]);
      return {
        value: tf.gatherND(logSoftmax(x as Tensor), pairs(targets)),
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          // d log p_t / dx = onehot(t) - p, times dy per row.
          const p = tf.exp(logSoftmax(saved[0]!));
          const dense = tf.neg(tf.mul(p, tf.reshape(dy, [N, 1])));
          return tf.add(dense, tf.scatterND(pairs(saved[1]!), tf.reshape(dy, [N]), [N, V]));
        },
      };
    });
    return fused(logits as Tensor2D);
  });
}

/** float32 `[N, V]` logits on a host-memory backend: the one-pass loops of `token-stats-host.ts`. */
function onHost(logits: Tensor): boolean {
  return kernelPath() === "host" && logits.rank === 2 && logits.dtype === "float32";
}
