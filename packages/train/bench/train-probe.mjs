// One unit of the main job's update work, run by `trainHeadroom` in a worker
// thread: the forward and backward of a 32-row shard (what each of 2 workers
// takes of a 64-row mini-batch) of the demo's model shape, prompts of 10 and
// responses of 65 tokens, the loss the mean response log-prob. Posts "ready"
// after a warm-up, runs its units on "go" and posts the milliseconds they took
// (`serveUnits`).
import { initBackend, tf } from "../../core/dist/index.js";
import { DEMO_MODEL_CONFIG } from "../../policy/bench/demo-model.mjs";
import { createPolicy } from "../../policy/dist/index.js";
import { serveUnits } from "./probe-worker.mjs";

await initBackend({ backend: "wasm", log: null });
const model = createPolicy(DEMO_MODEL_CONFIG, { seed: 1 });
const variables = model.trainableVariables();
const B = 32;
const P = 10;
const T = 65;
const ids = (n, at) => Array.from({ length: B * n }, (_, i) => 4 + ((i * 7 + at) % 30));
const input = {
  promptIds: tf.tensor2d(ids(P, 0), [B, P], "int32"),
  promptMask: tf.ones([B, P]),
  responseIds: tf.tensor2d(ids(T, 3), [B, T], "int32"),
  // Responses of 33-65 tokens, as sampled ones end at different lengths.
  responseMask: tf.tensor2d(
    Array.from({ length: B * T }, (_, i) => (i % T < 33 + (Math.floor(i / T) % 33) ? 1 : 0)),
    [B, T],
  ),
};
function unit() {
  const { value, grads } = tf.variableGrads(() => {
    const { logProbs } = model.scoreResponses(input, { entropy: false });
    return tf.neg(tf.div(tf.sum(logProbs), tf.sum(input.responseMask)));
  }, variables);
  value.dataSync();
  value.dispose();
  tf.dispose(Object.values(grads));
}
serveUnits(unit);
