import { DTypeError, ShapeError, tf } from "@tokenrl/core";
import type { Tensor2D } from "@tokenrl/core";
import type { CausalLM } from "./model.js";
import { checkIds } from "./validate.js";
import { positionsFromMask } from "./layers.js";

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

/**
 * Per-token log-probs and entropies of responses in one forward pass over
 * [prompt, response], differentiable (use inside tf.variableGrads / tf.grad).
 * Padding is handled by the attention mask and mask-derived positions, so a
 * left-padded prompt scores the same as the unpadded one. Only the T hidden
 * states that predict response tokens go through the LM head. log-softmax is
 * the max-shifted one; entropy is -sum p log p over the whole vocabulary.
 */
export function scoreResponses(model: CausalLM, input: ScoreInput): ScoreOutput {
  const { promptIds, promptMask, responseIds, responseMask } = input;
  checkIds("promptIds", promptIds);
  checkIds("responseIds", responseIds);
  const [B, P] = promptIds.shape;
  const [B2, T] = responseIds.shape;
  if (P < 1) throw new ShapeError("promptIds", "[B, P] with P >= 1 (the first response token is predicted from the last prompt position)", promptIds.shape);
  if (B2 !== B) throw new ShapeError("responseIds", `[${B}, T] (batch of promptIds)`, responseIds.shape);
  if (promptMask.rank !== 2 || promptMask.shape[0] !== B || promptMask.shape[1] !== P)
    throw new ShapeError("promptMask", `[${B}, ${P}] (as promptIds)`, promptMask.shape);
  if (responseMask.rank !== 2 || responseMask.shape[0] !== B || responseMask.shape[1] !== T)
    throw new ShapeError("responseMask", `[${B}, ${T}] (as responseIds)`, responseMask.shape);
  if (promptMask.dtype === "string") throw new DTypeError("promptMask", "float32 or int32", promptMask.dtype);
  const V = model.config.vocabSize;
  return tf.tidy(() => {
    const ids = tf.concat([promptIds, responseIds], 1) as Tensor2D;
    const respMask = tf.cast(responseMask, "float32") as Tensor2D;
    const mask = tf.concat([tf.cast(promptMask, "float32"), respMask], 1) as Tensor2D;
    const { hidden } = model.decode(ids, mask, positionsFromMask(mask), 0, () => undefined);
    const H = model.config.hiddenSize;
    // Position P-1+t predicts response token t.
    const h = tf.reshape(tf.slice(tf.reshape(hidden, [B, P + T, H]), [0, P - 1, 0], [B, T, H]), [B * T, H]) as Tensor2D;
    // Max-shifted log-softmax sharing one exp with the entropy: with s = x - max(x), e = exp(s),
    // Z = sum(e): log p = s - log Z and H = -sum p log p = log Z - sum(p * s).
    const logits = model.lmHead(h);
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    const e = tf.exp(shifted);
    const z = tf.sum(e, -1, true);
    const logZ = tf.log(z);
    const target = tf.cast(tf.oneHot(tf.reshape(responseIds, [-1]), V), "float32");
    const logProbs = tf.reshape(tf.sub(tf.sum(tf.mul(shifted, target), -1, true), logZ), [B, T]);
    const entropy = tf.reshape(tf.sub(logZ, tf.sum(tf.mul(tf.div(e, z), shifted), -1, true)), [B, T]);
    return { logProbs: tf.mul(logProbs, respMask) as Tensor2D, entropy: tf.mul(entropy, respMask) as Tensor2D };
  });
}
