import type { tf } from "@tokenrl/core";

/** One decoder layer's parameters. Linear weights are `[in, out]`; q/k/v and gate/up are fused column-wise. */
export interface LayerParams {
  inputNorm: tf.Variable; // [H]
  qkv: tf.Variable; // [H, (nh + 2 nkv) D]: q | k | v columns
  qkvBias?: tf.Variable; // [(nh + 2 nkv) D]
  qNorm?: tf.Variable; // [D]
  kNorm?: tf.Variable; // [D]
  o: tf.Variable; // [nh D, H]
  oBias?: tf.Variable; // [H]
  postNorm: tf.Variable; // [H]
  gateUp: tf.Variable; // [H, 2 I]: gate | up columns
  down: tf.Variable; // [I, H]
}

export interface ModelParams {
  embed: tf.Variable; // [V, H], HF layout
  layers: LayerParams[];
  finalNorm: tf.Variable; // [H]
  lmHead?: tf.Variable; // [H, V]; absent when tied (logits = h @ embed^T)
}
