// The pool's own benchmark, below the trainer: an RL step (rollout -> rewards ->
// advantages -> old log-probs -> PPO update) on short-answer addition (1-3
// response tokens, so per-call costs show) in this process, then with a worker
// pool of 1 and of 2 workers, from the same initial weights and seeds (so every
// configuration does the same work), for the demo's model shape and a 3.16M one.
// Reports seconds per phase and the 2-worker / 1-worker ratios. The main job
// itself (arith-chain, the trainer's loop) is apps/trainer/bench/workers.bench.mjs.
//
//   pnpm --filter @tokenrl/train bench [-- --model demo|medium|both] [--steps N]
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { advantageEstimators } from "@tokenrl/advantages";
import { disposeBatch, initBackend, tf } from "@tokenrl/core";
import { CharTokenizer, createPolicy, parameterCount } from "@tokenrl/policy";
import { createLocalEngine, sampleGroups, toTrainingBatch } from "@tokenrl/rollout";
import { createSyntheticTask } from "@tokenrl/tasks";
import { AdamW, createActorLoss, ppoUpdate, resolveRecipe } from "../dist/index.js";
import { createWorkerPool } from "../dist/workers/index.js";
import { headroom } from "./headroom.mjs";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "both" },
    // Node 20's parseArgs has no negated booleans (allowNegative is Node 22+).
    "no-sync": { type: "boolean", default: false },
    steps: { type: "string", default: "3" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  process.stdout.write(
    "usage: node bench/workers.bench.mjs [--model demo|medium|both] [--steps N] [--no-sync]\n" +
      "  RL step seconds (rollout, update, step) in-process and with 1 and 2 workers, and the ratios;\n" +
      "  then the weight broadcast and gradient reduce costs of the 10.5M-parameter policy benchmark model.\n",
  );
  process.exit(0);
}
const STEPS = Number(args.steps);

// The trainer's defaults (apps/trainer DEFAULT_CONFIG): 16 prompts x G = 8, 2 PPO mini-batches, HTPO.
const RL = { promptsPerStep: 16, groupSize: 8, miniBatches: 2, temperature: 1, lr: 1e-3 };
const MODELS = {
  demo: { hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2 },
  medium: { hiddenSize: 256, intermediateSize: 768, numLayers: 4, numHeads: 8, numKvHeads: 4 },
};

await initBackend({ log: null });
const task = createSyntheticTask("addition", { seed: 0, length: 2 });
const tokenizer = new CharTokenizer(task.alphabet);
const recipe = resolveRecipe({ preset: "htpo" });
const sampling = {
  temperature: RL.temperature,
  maxTokens: task.maxResponseLength,
  stop: [...task.stop],
  includeStopStrInOutput: true,
};

function makeModel(shape) {
  return createPolicy(
    {
      modelType: "qwen3",
      vocabSize: tokenizer.vocabSize,
      ...shape,
      maxPositionEmbeddings: 256,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      bosTokenId: tokenizer.bosTokenId,
    },
    { seed: 0 },
  );
}

async function verdicts(sequences, examples) {
  const requests = sequences.map((s, i) => ({ example: examples[Math.floor(i / RL.groupSize)], response: s.text }));
  const out = await task.verify(requests);
  return out.map((v) => (v.correct ? 1 : 0));
}

/** One RL step; `pool` undefined = everything in this thread. Returns seconds per phase. */
async function rlStep(step, model, optimizer, pool) {
  const t0 = performance.now();
  const examples = Array.from({ length: RL.promptsPerStep }, (_, i) =>
    task.example(step * RL.promptsPerStep + i, "train"),
  );
  const prompts = examples.map((e) => tokenizer.encode(e.prompt));
  const engine = pool
    ? pool.engine({ seed: 1000 + step, tokenizer })
    : createLocalEngine({ model, tokenizer, seed: 1000 + step });
  const sequences = await sampleGroups(engine, prompts, { ...sampling, groupSize: RL.groupSize });
  const t1 = performance.now();
  const correct = await verdicts(sequences, examples);
  const batch = toTrainingBatch(sequences, { padTokenId: tokenizer.padTokenId });
  const [B, T] = batch.responseMask.shape;
  const rewards = new Float32Array(B * T);
  sequences.forEach((s, b) => {
    rewards[b * T + Math.max(0, s.responseIds.length - 1)] = correct[b];
  });
  batch.tokenRewards = tf.tensor2d(rewards, [B, T]);
  batch.correct = tf.tensor1d(correct, "float32");
  batch.groupIds = tf.tensor1d(
    sequences.map((_, i) => Math.floor(i / RL.groupSize)),
    "int32",
  );
  const adv = advantageEstimators.get(recipe.advantage.name)(batch, recipe.advantage.options);
  batch.advantages = adv.advantages;
  adv.returns.dispose();
  const t2 = performance.now();
  const input = {
    promptIds: batch.promptIds,
    promptMask: batch.promptMask,
    responseIds: batch.responseIds,
    responseMask: batch.responseMask,
  };
  const scored = pool ? await pool.score(batch) : model.scoreResponses(input);
  batch.oldLogProbs = scored.logProbs;
  batch.entropy = scored.entropy;
  const result = await ppoUpdate({
    batch,
    optimizer,
    miniBatches: RL.miniBatches,
    ...(pool
      ? { computeGradients: (s, c) => pool.computeGradients(s, c), shardsPerMiniBatch: pool.size }
      : { loss: createActorLoss(model, recipe) }),
  });
  disposeBatch(batch);
  const t3 = performance.now();
  return {
    rollout: (t1 - t0) / 1000,
    rewards: (t2 - t1) / 1000,
    update: (t3 - t2) / 1000,
    step: (t3 - t0) / 1000,
    tokens: sequences.reduce((a, s) => a + s.responseIds.length, 0),
    loss: result.steps.at(-1)?.loss ?? Number.NaN,
  };
}

async function measure(shape, workers) {
  const model = makeModel(shape);
  const optimizer = new AdamW(model.trainableVariables(), { lr: RL.lr });
  const pool =
    workers === 0 ? undefined : await createWorkerPool({ model, tokenizer, workers, loss: { kind: "recipe", recipe } });
  try {
    await rlStep(0, model, optimizer, pool); // warm-up: kernels, caches, first broadcast
    const runs = [];
    for (let s = 1; s <= STEPS; s++) runs.push(await rlStep(s, model, optimizer, pool));
    const mean = (k) => runs.reduce((a, r) => a + r[k], 0) / runs.length;
    return {
      rollout: mean("rollout"),
      update: mean("update"),
      step: mean("step"),
      rewards: mean("rewards"),
      tokens: mean("tokens"),
      loss: runs.at(-1).loss,
      sync: pool?.syncStats(),
    };
  } finally {
    await pool?.close();
    optimizer.dispose();
    model.dispose();
  }
}

const names = args.model === "both" ? Object.keys(MODELS) : [args.model];
console.log(
  `parallel headroom at start: 2 threads run pure JS ${(await headroom()).toFixed(2)}x as fast as 1 (2.0 = idle 2 cores)`,
);
console.log(
  `backend ${tf.getBackend()}; load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log(
  `task addition (2 digits), ${RL.promptsPerStep} prompts x G=${RL.groupSize}, ${RL.miniBatches} mini-batches, HTPO; mean of ${STEPS} steps after 1 warm-up`,
);
for (const name of names) {
  const shape = MODELS[name];
  const probe = makeModel(shape);
  const params = parameterCount(probe.config);
  probe.dispose();
  const results = {};
  for (const [label, n] of [
    ["in-process", 0],
    ["1 worker", 1],
    ["2 workers", 2],
  ])
    results[label] = await measure(shape, n);
  console.log(`\nmodel ${name} (${(params / 1e6).toFixed(2)}M parameters)`);
  console.log("config       rollout s  update s  step s   (rewards s)");
  for (const [label, r] of Object.entries(results)) {
    console.log(
      `${label.padEnd(12)} ${r.rollout.toFixed(3).padStart(9)} ${r.update.toFixed(3).padStart(9)} ${r.step.toFixed(3).padStart(7)}   (${r.rewards.toFixed(3)})`,
    );
  }
  const one = results["1 worker"];
  const two = results["2 workers"];
  const base = results["in-process"];
  const ratio = (a, b) => (a / b).toFixed(2);
  console.log(
    `2 workers vs 1 worker: rollout ${ratio(one.rollout, two.rollout)}x, update ${ratio(one.update, two.update)}x, step ${ratio(one.step, two.step)}x`,
  );
  console.log(
    `2 workers vs in-process: rollout ${ratio(base.rollout, two.rollout)}x, update ${ratio(base.update, two.update)}x, step ${ratio(base.step, two.step)}x`,
  );
  const s = two.sync;
  console.log(
    `weight broadcast (2 workers): ${(s.bytes / 1e6).toFixed(2)} MB, ${(s.publishMs / s.broadcasts).toFixed(2)} ms to publish + ${(s.workerReloadMs / s.broadcasts / 2).toFixed(2)} ms per worker to load; gradient reduce ${(s.reduceMs / Math.max(1, s.broadcasts)).toFixed(2)} ms per mini-batch`,
  );
}
/**
 * The per-optimiser-step costs that do not shrink with more workers, on the
 * 10.5M-parameter model of the policy benchmark (42 MB of float32): copying
 * the weights into shared memory (main thread), loading them in a worker, and
 * reducing the workers' gradients (parallel, one slice per worker).
 */
async function syncCost(workers) {
  // The policy benchmark's model, defined once in that package's bench folder.
  const { BENCH_MODEL_CONFIG } = await import("../../policy/bench/model.mjs");
  const model = createPolicy(BENCH_MODEL_CONFIG, { seed: 0 });
  const pool = await createWorkerPool({
    model,
    workers,
    loss: { kind: "recipe", recipe: resolveRecipe({ preset: "grpo", kl: null }) },
  });
  const v = model.trainableVariables();
  const rows = 2 * workers;
  const batch = {
    promptIds: tf.tensor2d(
      Array.from({ length: rows }, () => [3]),
      [rows, 1],
      "int32",
    ),
    promptMask: tf.ones([rows, 1]),
    responseIds: tf.tensor2d(
      Array.from({ length: rows }, () => [4]),
      [rows, 1],
      "int32",
    ),
    responseMask: tf.ones([rows, 1]),
    oldLogProbs: tf.fill([rows, 1], -9),
    advantages: tf.tensor2d(
      Array.from({ length: rows }, (_, i) => [i % 2 ? 1 : -1]),
      [rows, 1],
    ),
    groupIds: tf.tensor1d(
      Array.from({ length: rows }, (_, i) => Math.floor(i / 2)),
      "int32",
    ),
  };
  const shards = Array.from({ length: workers }, (_, w) =>
    Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, tf.slice(t, [2 * w], [2])])),
  );
  const R = 5;
  let warm;
  for (let r = 0; r <= R; r++) {
    v[0].assign(tf.add(v[0], 0)); // new storage: the next call broadcasts
    const g = await pool.computeGradients(shards, { tokens: rows, sequences: rows });
    tf.dispose(g.grads);
    if (r === 0) warm = pool.syncStats(); // the first round warms up; the stats are cumulative
  }
  const s = pool.syncStats();
  const per = (k) => (s[k] - warm[k]) / R;
  await pool.close();
  tf.dispose([...Object.values(batch), ...shards.flatMap((x) => Object.values(x))]);
  model.dispose();
  return {
    mb: s.bytes / 1e6,
    publish: per("publishMs"),
    reload: per("workerReloadMs") / workers,
    reduce: per("reduceMs"),
  };
}

if (!args["no-sync"]) {
  console.log("\nper optimiser step, 10.5M-parameter model (policy bench config):");
  for (const n of [1, 2]) {
    const c = await syncCost(n);
    console.log(
      `${n} worker(s): ${c.mb.toFixed(1)} MB; publish ${c.publish.toFixed(1)} ms (main) + load ${c.reload.toFixed(1)} ms (each worker, in parallel) + reduce ${c.reduce.toFixed(1)} ms`,
    );
  }
}

console.log(
  `\nload average at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}; parallel headroom at end ${(await headroom()).toFixed(2)}x`,
);
