import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { advantageEstimators } from "@tokenrl/advantages";
import { ConfigError, aggregateLoss, disposeBatch, initBackend, tf } from "@tokenrl/core";
import type { Scalar, Tensor, Tensor2D, TrainingBatch } from "@tokenrl/core";
import { composeObjective, getPreset, readMetrics } from "@tokenrl/objectives";
import type { Preset } from "@tokenrl/objectives";
import type { CausalLM, PolicyTokenizer } from "@tokenrl/policy";
import { loadPolicy, savePolicy } from "@tokenrl/policy";
import { createLocalEngine, dynamicSampling, sampleGroups, toTrainingBatch } from "@tokenrl/rollout";
import type { RolloutSequence } from "@tokenrl/rollout";
import { createSyntheticTask } from "@tokenrl/tasks";
import type { Task, TaskExample } from "@tokenrl/tasks";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import type { TrainerState } from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import { evaluateGreedy } from "./evaluate.js";
import type { EvalResult } from "./evaluate.js";
import { MetricsLog } from "./metrics-log.js";
import type { MetricsRecord } from "./metrics-log.js";
import { ClippedAdam } from "./optimizer.js";
import type { OptimizerStateEntry } from "./optimizer.js";
import { ProgressBar } from "./progress.js";
import { writeReport } from "./report.js";
import { configHash, createTaskPolicy } from "./setup.js";

export interface TrainOptions {
  /** Continue from `out/checkpoint` when it exists (default true); false starts over. */
  resume?: boolean;
  /** Progress bars and the backend line on stderr (default true). */
  progress?: boolean;
  /** Stop after this many optimiser-visible steps of this process (tests use it to simulate a kill). */
  stopAfterSteps?: number;
}

export interface TrainResult {
  out: string;
  records: MetricsRecord[];
  initialEval: EvalResult;
  finalEval: EvalResult;
  reportPath: string;
  /** Whether this call resumed from a checkpoint. */
  resumed: boolean;
  /** Whether the run completed every configured step (false when stopped by `stopAfterSteps`). */
  completed: boolean;
}

/**
 * One training run: an optional supervised warm-up, then RL with the preset's
 * advantage estimator and objective (HTPO by default), with DAPO dynamic
 * sampling, PPO mini-batches, held-out evaluation, atomic checkpoints that a
 * killed run resumes from, metrics.jsonl, and an HTML report.
 */
export async function train(config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const showProgress = options.progress ?? true;
  await initBackend(showProgress ? {} : { log: null });
  const out = resolve(config.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const task = createSyntheticTask(config.task.name, { seed: config.seed, length: config.task.length });
  const preset = getPreset(config.preset);
  const hash = configHash(config);
  const checkpointDir = join(out, "checkpoint");
  const log = new MetricsLog(join(out, "metrics.jsonl"));

  let model: CausalLM;
  let tokenizer: PolicyTokenizer;
  let state: TrainerState;
  let optimizerState: OptimizerStateEntry[];
  const loaded = options.resume === false ? undefined : await loadCheckpoint(checkpointDir);
  if (loaded) {
    if (loaded.state.configHash !== hash) {
      throw new ConfigError(
        "checkpoint",
        `${checkpointDir} was written by a run with a different configuration (hash ${loaded.state.configHash}, now ${hash}); pass --fresh to start over or use another --out`,
      );
    }
    ({ model, tokenizer, state } = loaded);
    optimizerState = loaded.optimizerState;
    log.truncateTo(state.phase, state.step);
  } else {
    ({ model, tokenizer } = await createTaskPolicy(config, task));
    state = {
      phase: config.sft.steps > 0 ? "sft" : "rl",
      step: 0,
      nextExample: 0,
      configHash: hash,
      optimizerPhase: "sft",
    };
    optimizerState = [];
    log.reset();
  }
  const resumed = Boolean(loaded);
  const engineFor = (salt: number) => createLocalEngine({ model, tokenizer, seed: config.seed * 1_000_003 + salt });
  const evaluate = () => evaluateGreedy(engineFor(-1), tokenizer, task, config.eval.examples);
  let budget = options.stopAfterSteps ?? Number.POSITIVE_INFINITY;

  // A resumed run reports the accuracy its first process measured, not the resumed model's.
  const firstEval = log.read().find((r) => r.phase === "eval");
  const initialEval: EvalResult = resumed
    ? { accuracy: Number(firstEval?.accuracy ?? Number.NaN), examples: config.eval.examples, samples: [] }
    : await evaluate();
  if (!resumed) log.append({ phase: "eval", step: 0, during: state.phase, accuracy: initialEval.accuracy });

  // Supervised warm-up.
  if (state.phase === "sft") {
    const optimizer = new ClippedAdam(model.trainableVariables(), config.sft.learningRate, 1.0);
    if (state.optimizerPhase === "sft" && optimizerState.length) await optimizer.restore(optimizerState);
    const bar = showProgress ? new ProgressBar("sft", config.sft.steps) : undefined;
    while (state.step < config.sft.steps && budget > 0) {
      const examples = takeExamples(task, state, config.sft.batchSize);
      const record = sftStep(model, tokenizer, task, examples, optimizer);
      state.step++;
      budget--;
      log.append({ phase: "sft", step: state.step, ...record });
      bar?.update(state.step, `loss ${record.loss.toFixed(3)}`);
    }
    if (state.step >= config.sft.steps) {
      const afterSft = await evaluate();
      log.append({ phase: "eval", step: 0, during: "rl", accuracy: afterSft.accuracy, afterWarmup: true });
      // The saved moments stay marked "sft", so RL starts with a fresh optimiser, resumed or not.
      state = { ...state, phase: "rl", step: 0 };
    }
    await saveCheckpoint(checkpointDir, model, tokenizer, optimizer, state);
    optimizer.dispose();
  }

  // Reinforcement learning.
  let completed = false;
  if (state.phase === "rl" && budget > 0) {
    const referenceDir = join(out, "reference");
    const reference = preset.kl ? await referenceModel(referenceDir, model, tokenizer) : undefined;
    const objective = composeObjective({
      policy: preset.objective,
      policyOptions: { ...preset.objectiveOptions, ...config.objectiveOptions },
      ...(preset.kl ? { kl: { coef: preset.kl.coef, estimator: preset.kl.estimator } } : {}),
      ...(preset.entropyCoef ? { entropy: { coef: preset.entropyCoef } } : {}),
    });
    const optimizer = new ClippedAdam(model.trainableVariables(), config.rl.learningRate, config.rl.maxGradNorm);
    if (state.optimizerPhase === "rl" && optimizerState.length) await optimizer.restore(optimizerState);
    state.optimizerPhase = "rl";
    const bar = showProgress ? new ProgressBar("rl ", config.rl.steps) : undefined;
    while (state.step < config.rl.steps && budget > 0) {
      const started = performance.now();
      const record = await rlStep(
        config,
        preset,
        task,
        model,
        tokenizer,
        reference,
        objective,
        optimizer,
        state,
        engineFor(state.step),
      );
      state.step++;
      budget--;
      log.append({ phase: "rl", step: state.step, ...record, seconds: (performance.now() - started) / 1000 });
      bar?.update(
        state.step,
        `reward ${Number(record.rewardMean).toFixed(2)} acc@batch ${Number(record.accuracy).toFixed(2)}`,
      );
      if (config.eval.every > 0 && state.step % config.eval.every === 0 && state.step < config.rl.steps) {
        const ev = await evaluate();
        log.append({ phase: "eval", step: state.step, during: "rl", accuracy: ev.accuracy });
      }
      if (config.checkpoint.every > 0 && state.step % config.checkpoint.every === 0) {
        await saveCheckpoint(checkpointDir, model, tokenizer, optimizer, state);
      }
    }
    completed = state.step >= config.rl.steps;
    await saveCheckpoint(checkpointDir, model, tokenizer, optimizer, state);
    optimizer.dispose();
    reference?.dispose();
  } else if (state.phase === "rl") {
    completed = state.step >= config.rl.steps;
  }

  const finalEval = await evaluate();
  if (completed)
    log.append({ phase: "eval", step: state.step, during: "rl", accuracy: finalEval.accuracy, final: true });
  const records = log.read();
  const reportPath = writeReport(out, { config, records, initialEval, finalEval, preset, completed });
  model.dispose();
  return { out, records, initialEval, finalEval, reportPath, resumed, completed };
}

function takeExamples(task: Task, state: TrainerState, n: number): TaskExample[] {
  const examples = Array.from({ length: n }, (_, i) => task.example(state.nextExample + i, "train"));
  state.nextExample += n;
  return examples;
}

/** The KL reference: the policy as RL starts, saved once so that a resumed run uses the same one. */
async function referenceModel(dir: string, model: CausalLM, tokenizer: PolicyTokenizer): Promise<CausalLM> {
  try {
    return (await loadPolicy(dir)).model;
  } catch {
    await savePolicy(dir, model, tokenizer, { dtype: "float32" });
    return (await loadPolicy(dir)).model;
  }
}

function encodeSequences(tokenizer: PolicyTokenizer, task: Task, examples: TaskExample[]): RolloutSequence[] {
  return examples.map((e) => {
    const responseIds = tokenizer.encode(`${e.answer}${task.stop[0] ?? ""}`);
    return {
      promptIds: tokenizer.encode(e.prompt),
      responseIds,
      rolloutLogProbs: new Array(responseIds.length).fill(0),
      finishReason: "stop",
      text: e.answer,
    };
  });
}

function sftStep(
  model: CausalLM,
  tokenizer: PolicyTokenizer,
  task: Task,
  examples: TaskExample[],
  optimizer: ClippedAdam,
): { loss: number; gradNorm: number; applied: boolean } {
  const batch = toTrainingBatch(encodeSequences(tokenizer, task, examples), { padTokenId: tokenizer.padTokenId });
  try {
    return optimizer.step(() => {
      const { logProbs } = model.scoreResponses(scoreInput(batch));
      return tf.neg(aggregateLoss(logProbs, batch.responseMask, "token-mean")) as Scalar;
    });
  } finally {
    disposeBatch(batch);
  }
}

function scoreInput(batch: TrainingBatch) {
  return {
    promptIds: batch.promptIds!,
    promptMask: batch.promptMask!,
    responseIds: batch.responseIds!,
    responseMask: batch.responseMask,
  };
}

type RlRecord = Record<string, number | string | boolean>;

async function rlStep(
  config: TrainConfig,
  preset: Preset,
  task: Task,
  model: CausalLM,
  tokenizer: PolicyTokenizer,
  reference: CausalLM | undefined,
  objective: ReturnType<typeof composeObjective>,
  optimizer: ClippedAdam,
  state: TrainerState,
  engine: ReturnType<typeof createLocalEngine>,
): Promise<RlRecord> {
  const G = config.rl.groupSize;
  const sampling = {
    temperature: config.rl.temperature,
    maxTokens: task.maxResponseLength,
    stop: [...task.stop],
    includeStopStrInOutput: true,
  };
  let batchExamples: TaskExample[] = [];
  const verdictsOf = (seqs: RolloutSequence[], examples: TaskExample[]) =>
    seqs.map((s, i) => (task.verify(s.text, examples[Math.floor(i / G)]!).correct ? 1 : 0));
  const rolloutStarted = performance.now();
  let sequences: RolloutSequence[];
  let verdicts: number[];
  let stats: Record<string, number | boolean> = {};
  if (preset.dynamicSampling) {
    const result = await dynamicSampling({
      engine,
      groupSize: G,
      numGroups: config.rl.promptsPerStep,
      maxGenerationBatches: config.rl.maxGenerationBatches,
      sampling,
      nextPrompts: (n) => {
        batchExamples = takeExamples(task, state, n);
        return batchExamples.map((e) => tokenizer.encode(e.prompt));
      },
      verify: (seqs) => verdictsOf(seqs, batchExamples),
    });
    ({ sequences, verdicts } = result);
    stats = { ...result.stats };
  } else {
    batchExamples = takeExamples(task, state, config.rl.promptsPerStep);
    sequences = await sampleGroups(
      engine,
      batchExamples.map((e) => tokenizer.encode(e.prompt)),
      { ...sampling, groupSize: G },
    );
    verdicts = verdictsOf(sequences, batchExamples);
  }
  const rolloutSeconds = (performance.now() - rolloutStarted) / 1000;
  const base: RlRecord = {
    groups: sequences.length / G,
    rolloutSeconds,
    ...Object.fromEntries(Object.entries(stats).map(([k, v]) => [`sampling/${k}`, v])),
  };
  if (sequences.length === 0) {
    // Every group was all-right or all-wrong: nothing to learn from this batch.
    return { ...base, skipped: "no informative group", rewardMean: Number.NaN, accuracy: Number.NaN };
  }
  const accuracy = verdicts.reduce((a, b) => a + b, 0) / verdicts.length;
  const responseLength = sequences.reduce((a, s) => a + s.responseIds.length, 0) / sequences.length;

  const batch = toTrainingBatch(sequences, { padTokenId: tokenizer.padTokenId });
  const [B, T] = batch.responseMask.shape;
  const lengths = sequences.map((s) => s.responseIds.length);
  batch.tokenRewards = rewardsOnLastToken(verdicts, lengths, T);
  batch.correct = tf.tensor1d(verdicts, "float32");
  const owned: Tensor[] = [];
  try {
    const adv = advantageEstimators.get(preset.advantageEstimator)(batch, preset.advantageOptions);
    owned.push(adv.advantages, adv.returns);
    batch.advantages = adv.advantages;
    const scored = model.scoreResponses(scoreInput(batch));
    owned.push(scored.logProbs, scored.entropy);
    batch.oldLogProbs = scored.logProbs;
    batch.entropy = scored.entropy;
    if (reference) {
      const ref = reference.scoreResponses(scoreInput(batch));
      owned.push(ref.logProbs, ref.entropy);
      batch.refLogProbs = ref.logProbs;
    }
    const metricSums: Record<string, number> = {};
    let lossSum = 0;
    let gradNormSum = 0;
    let nonFinite = 0;
    const numGroups = B / G;
    const chunks = Math.min(config.rl.miniBatches, numGroups);
    for (let c = 0; c < chunks; c++) {
      const g0 = Math.floor((c * numGroups) / chunks);
      const g1 = Math.floor(((c + 1) * numGroups) / chunks);
      const rows = Array.from({ length: (g1 - g0) * G }, (_, i) => g0 * G + i);
      const sub = sliceRows(batch, rows);
      let metrics: Record<string, Scalar> = {};
      try {
        const step = optimizer.step(() => {
          const { logProbs } = model.scoreResponses(scoreInput(sub));
          const result = objective({ ...sub, logProbs });
          // Clones: a metric may be the loss tensor itself, which the optimiser disposes.
          metrics = Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [k, tf.keep(tf.clone(v))]));
          return result.loss;
        });
        const values = await readMetrics(metrics);
        for (const [k, v] of Object.entries(values)) metricSums[k] = (metricSums[k] ?? 0) + v / chunks;
        lossSum += step.loss / chunks;
        gradNormSum += step.gradNorm / chunks;
        if (!step.applied) nonFinite++;
      } finally {
        tf.dispose(Object.values(metrics));
        disposeBatch(sub);
      }
    }
    if (nonFinite > 0) {
      process.stderr.write(
        `tokenrl-train: step ${state.step + 1}: ${nonFinite} mini-batch(es) had a NaN/Inf loss or gradient and were not applied\n`,
      );
    }
    return {
      ...base,
      rewardMean: accuracy,
      accuracy,
      responseLength,
      loss: lossSum,
      gradNorm: gradNormSum,
      nonFiniteMiniBatches: nonFinite,
      ...metricSums,
    };
  } finally {
    tf.dispose(owned);
    batch.advantages = undefined;
    batch.oldLogProbs = undefined;
    batch.entropy = undefined;
    batch.refLogProbs = undefined;
    disposeBatch(batch);
  }
}

/** Outcome reward on each response's last token (verl's token_level_rewards). */
function rewardsOnLastToken(rewards: number[], lengths: number[], T: number): Tensor2D {
  const values = new Float32Array(rewards.length * T);
  rewards.forEach((r, b) => {
    const last = Math.max(0, lengths[b]! - 1);
    values[b * T + last] = r;
  });
  return tf.tensor2d(values, [rewards.length, T]);
}

const ROW_FIELDS = [
  "promptIds",
  "promptMask",
  "responseIds",
  "responseMask",
  "oldLogProbs",
  "rolloutLogProbs",
  "refLogProbs",
  "entropy",
  "tokenRewards",
  "advantages",
  "groupIds",
  "correct",
] as const;

/** A new batch with only `rows` (whole groups), every tensor field gathered. */
function sliceRows(batch: TrainingBatch, rows: number[]): TrainingBatch {
  const index = tf.tensor1d(rows, "int32");
  const out: Partial<Record<(typeof ROW_FIELDS)[number], Tensor>> = {};
  for (const field of ROW_FIELDS) {
    const t = batch[field] as Tensor | undefined;
    if (t) out[field] = tf.gather(t, index);
  }
  index.dispose();
  return out as unknown as TrainingBatch;
}
