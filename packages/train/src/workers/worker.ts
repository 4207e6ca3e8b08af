// The worker thread: one tfjs backend instance, one copy of the policy (weights
// from shared memory), and the tasks the pool sends. Node only.
import { parentPort, workerData } from "node:worker_threads";
import { backendInfo, createRng, disposeBatch, initBackend, resolveSamplingParams, tf } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";
import { advantageEstimators } from "@tokenrl/advantages";
import { objectives } from "@tokenrl/objectives";
import { partitioners } from "@tokenrl/partitioners";
import { CharTokenizer, HfTokenizer, createPolicy } from "@tokenrl/policy";
import type { CausalLM, KVCache, PolicyTokenizer } from "@tokenrl/policy";
import { generate, prefillPrompts } from "@tokenrl/rollout";
import type { Prefilled } from "@tokenrl/rollout";
import { batchFromTransfer } from "./batch-transfer.js";
import { countTokens, inProcessGradients } from "../update.js";
import { buildActorLoss } from "./loss.js";
import type { ActorLoss } from "../loss.js";
import type {
  GenerateTask,
  GradientsTask,
  PrefillTask,
  ReduceTask,
  ScoreTask,
  ShardResult,
  TaskOp,
  TaskResults,
  TokenizerSpec,
  WorkerInit,
  WorkerReply,
  WorkerTask,
} from "./protocol.js";
import { serializeError } from "./protocol.js";
import { assignFromShared, writeShared } from "./shared-weights.js";
import { readPrefix, writePrefix } from "./shared-prefix.js";

const port = parentPort;
if (!port) throw new Error("@tokenrl/train/workers: worker.js runs only as a worker thread");
const init = workerData as WorkerInit;

let model: CausalLM;
let variables: tf.Variable[];
let tokenizer: PolicyTokenizer | undefined;
let actorLoss: ActorLoss | undefined;
let weightsVersion = -1;
const taskCounts: Partial<Record<TaskOp, number>> = {};

function post(reply: WorkerReply): void {
  port!.postMessage(reply);
}

function tokenizerFrom(spec: TokenizerSpec): PolicyTokenizer {
  if (spec.kind === "char") return new CharTokenizer(spec.alphabet);
  return new HfTokenizer(spec.tokenizer, spec.tokenizerConfig, spec.fallbacks);
}

async function start(): Promise<void> {
  await initBackend({ backend: init.backend, log: null });
  // The same registries as the main thread: its plugins register objectives,
  // estimators and partitioners here too, before anything is looked up.
  for (const plugin of init.plugins) await import(plugin);
  model = createPolicy(init.modelConfig, { seed: 0, init: "zeros" });
  variables = model.trainableVariables();
  if (variables.length !== init.layout.slots.length)
    throw new Error(
      `worker ${init.index}: the model has ${variables.length} trainable variables, the shared layout ${init.layout.slots.length}`,
    );
  if (init.tokenizer) tokenizer = tokenizerFrom(init.tokenizer);
  if (init.loss) actorLoss = await buildActorLoss(model, init.loss);
  post({
    kind: "ready",
    backend: tf.getBackend(),
    threads: backendInfo()?.threads ?? 1,
    registries: {
      objective: objectives.list(),
      advantageEstimator: advantageEstimators.list(),
      partitioner: partitioners.list(),
    },
  });
}

/** Reloads the weights when the pool published a newer version; returns the ms it took. */
function reload(version: number): number {
  if (version === weightsVersion) return 0;
  const started = performance.now();
  assignFromShared(init.weights, init.layout, variables);
  weightsVersion = version;
  return performance.now() - started;
}

function maybeFault(op: TaskOp): void {
  const f = init.fault;
  if (!f || f.worker !== init.index || f.op !== op) return;
  if ((taskCounts[op] ?? 0) !== f.nth) return;
  if (f.mode === "exit") process.exit(70);
  if (f.mode === "oom") {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1 << 20).fill(hoard.length));
  }
  // Thrown outside any promise chain: an uncaught exception, as a kernel crash would be.
  setImmediate(() => {
    throw new Error(`injected fault in worker ${init.index} on ${op} task ${f.nth}`);
  });
  throw new HaltTask();
}

/** Stops the current task without answering (the injected fault answers for it). */
class HaltTask extends Error {}

async function runPrefill(task: PrefillTask): Promise<TaskResults["prefill"]> {
  const reloadMs = reload(task.weightsVersion);
  const started = performance.now();
  const out = prefillPrompts(model, task.prompts, {
    padTo: task.padTo,
    maxLength: task.padTo,
    ...(tokenizer ? { tokenizer } : {}),
  });
  try {
    const logits = (await out.logits.data()) as Float32Array;
    writePrefix(task.buffer, task.layout, task.start, (out.cache as KVCache).toData(), logits);
  } finally {
    out.logits.dispose();
    out.cache.dispose();
  }
  return { reloadMs, computeMs: performance.now() - started };
}

/** The generate hook that takes a row's prefill from the call's shared buffer instead of computing it. */
function sharedPrefill(prefix: NonNullable<GenerateTask["prefix"]>, maxLength: number) {
  return (rows: readonly number[]): Prefilled => {
    const { data, logits } = readPrefix(
      prefix.buffer,
      prefix.layout,
      rows.map((r) => prefix.distinct[r]!),
    );
    return {
      cache: model.cacheFromData(data, maxLength),
      logits: tf.tensor2d(logits, [rows.length, prefix.layout.vocabSize]),
    };
  };
}

async function runGenerate(task: GenerateTask): Promise<TaskResults["generate"]> {
  const reloadMs = reload(task.weightsVersion);
  const started = performance.now();
  const { maxTokens } = resolveSamplingParams(task.params);
  const result = await generate(model, task.prompts, {
    ...task.params,
    rng: createRng(task.seed),
    rowStreams: task.rows,
    padTo: task.padTo,
    ...(tokenizer ? { tokenizer } : {}),
    ...(task.groupIds ? { groupIds: task.groupIds } : {}),
    ...(task.prefix ? { prefill: sharedPrefill(task.prefix, task.padTo + maxTokens) } : {}),
  });
  return { sequences: result.sequences, reloadMs, computeMs: performance.now() - started };
}

/** Losses a gradient task named instead of the pool's, by their spec. */
const otherLosses = new Map<string, ActorLoss>();

async function lossOf(task: GradientsTask): Promise<ActorLoss> {
  if (!task.loss) {
    if (!actorLoss)
      throw new Error(`worker ${init.index}: no loss was configured for gradient tasks (pool option "loss")`);
    return actorLoss;
  }
  const key = JSON.stringify(task.loss);
  let loss = otherLosses.get(key);
  if (!loss) {
    loss = await buildActorLoss(model, task.loss);
    otherLosses.set(key, loss);
  }
  return loss;
}

async function runGradients(task: GradientsTask): Promise<TaskResults["gradients"]> {
  // The in-process update's own gradient, one shard at a time, so that each
  // shard's loss and metrics go back as they are (main combines them in shard order).
  const gradientsOf = inProcessGradients(variables, await lossOf(task));
  const reloadMs = reload(task.weightsVersion);
  const started = performance.now();
  const shards: ShardResult[] = [];
  let sum: Tensor[] | undefined;
  for (const data of task.shards) {
    const shard = batchFromTransfer(data);
    try {
      const r = await gradientsOf([shard], task.counts);
      shards.push({ loss: r.loss, metrics: r.metrics, tokens: countTokens(shard).tokens });
      if (sum === undefined) sum = r.grads;
      else {
        const next = sum.map((g, k) => tf.add(g, r.grads[k]!));
        tf.dispose([...sum, ...r.grads]);
        sum = next;
      }
    } finally {
      disposeBatch(shard);
    }
  }
  if (sum) {
    writeShared(init.grads, init.layout, sum);
    tf.dispose(sum);
  } else new Float32Array(init.grads).fill(0);
  return { shards, reloadMs, computeMs: performance.now() - started };
}

function runReduce(task: ReduceTask): TaskResults["reduce"] {
  const started = performance.now();
  const sum = new Float32Array(init.sum, task.start * 4, task.end - task.start);
  task.workers.forEach((w, k) => {
    const g = new Float32Array(init.allGrads[w]!, task.start * 4, task.end - task.start);
    if (k === 0) sum.set(g);
    else for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (g[i] as number);
  });
  return { computeMs: performance.now() - started };
}

async function runScore(task: ScoreTask): Promise<TaskResults["score"]> {
  const reloadMs = reload(task.weightsVersion);
  const started = performance.now();
  const batch = batchFromTransfer(task.batch);
  try {
    const out = model.scoreResponses(
      {
        promptIds: batch.promptIds!,
        promptMask: batch.promptMask!,
        responseIds: batch.responseIds!,
        responseMask: batch.responseMask,
      },
      { entropy: task.entropy },
    );
    const logProbs = (await out.logProbs.data()) as Float32Array;
    const entropy = out.entropy ? ((await out.entropy.data()) as Float32Array) : undefined;
    tf.dispose(out.entropy ? [out.logProbs, out.entropy] : [out.logProbs]);
    return {
      logProbs: logProbs.slice(),
      ...(entropy ? { entropy: entropy.slice() } : {}),
      reloadMs,
      computeMs: performance.now() - started,
    };
  } finally {
    disposeBatch(batch);
  }
}

async function run(task: WorkerTask): Promise<TaskResults[TaskOp]> {
  taskCounts[task.op] = (taskCounts[task.op] ?? 0) + 1;
  maybeFault(task.op);
  switch (task.op) {
    case "prefill":
      return runPrefill(task);
    case "generate":
      return runGenerate(task);
    case "gradients":
      return runGradients(task);
    case "reduce":
      return runReduce(task);
    case "score":
      return runScore(task);
    case "memory": {
      const m = tf.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes };
    }
  }
}

// Tasks run one at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();
port.on("message", (task: WorkerTask) => {
  queue = queue.then(async () => {
    try {
      post({ kind: "result", id: task.id, result: await run(task) });
    } catch (err) {
      if (err instanceof HaltTask) return;
      post({ kind: "error", id: task.id, error: serializeError(err) });
    }
  });
});

start().catch((err) => post({ kind: "init-error", error: serializeError(err) }));
