// One unit of the main job's rollout work, run by `decodeHeadroom` in a worker
// thread: a batch-64 prefill and 60 host-path decode steps of the demo's model
// shape (Qwen3, 64 wide, 2 layers). Posts "ready" after a warm-up, runs its
// units on "go" and posts the milliseconds they took (`serveUnits`).
import { initBackend, tf } from "../../core/dist/index.js";
import { DEMO_MODEL_CONFIG } from "../../policy/bench/demo-model.mjs";
import { createPolicy } from "../../policy/dist/index.js";
import { serveUnits } from "./probe-worker.mjs";

await initBackend({ backend: "wasm", log: null });
const model = createPolicy(DEMO_MODEL_CONFIG, { seed: 1 });
const B = 64;
const P = 40;
const T = 60;
function unit() {
  const ids = tf.tensor2d(
    Array.from({ length: B * P }, (_, i) => 4 + (i % 30)),
    [B, P],
    "int32",
  );
  let { logits, cache } = model.forward(ids, { cache: model.createCache(B, P + T), logits: "last" });
  ids.dispose();
  logits.dispose();
  for (let t = 0; t < T; t++) {
    const next = tf.tensor2d(new Int32Array(B).fill(5 + (t % 20)), [B, 1], "int32");
    ({ logits, cache } = model.forward(next, { cache, logits: "last" }));
    next.dispose();
    logits.dataSync();
    logits.dispose();
  }
  cache.dispose();
}
serveUnits(unit);
