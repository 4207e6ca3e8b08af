import { mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { advantageEstimators } from "@tokenrl/advantages";
import { ConfigError, backendInfo, disposeBatch, initBackend, tf } from "@tokenrl/core";
import type { Tensor, TrainingBatch } from "@tokenrl/core";
import type { CausalLM, PolicyTokenizer } from "@tokenrl/policy";
import { writeReport } from "@tokenrl/report/node";
import { createLocalEngine, dynamicSampling, sampleGroups, toTrainingBatch } from "@tokenrl/rollout";
import type { RolloutEngine, RolloutSequence } from "@tokenrl/rollout";
import { createTask, guardedVerify, rewardRuntime, withRewardWorkers } from "@tokenrl/tasks";
import type { Task, TaskExample, TaskVerdict } from "@tokenrl/tasks";
import {
  AdamW,
  createActorLoss,
  ppoUpdate,
  resolveRecipe,
  rewardsOnLastToken,
  shardedSftStep,
  sftStep,
} from "@tokenrl/train";
import type { ComputeGradients, FrozenReference, Recipe } from "@tokenrl/train";
import { createWorkerPool, planWorkers } from "@tokenrl/train/workers";
import type { WorkerPlan, WorkerPool, WorkerTaskStats } from "@tokenrl/train/workers";
import {
  MetricsLog,
  loadLatestCheckpoint,
  loadOrCreateReference,
  lockRunFolder,
  saveCheckpoint,
} from "@tokenrl/train/node";
import type { MetricsRecord, TrainingState } from "@tokenrl/train/node";
import type { TrainConfig } from "./config.js";
import { recipeInputOf } from "./config.js";
import { evaluateHeldOut } from "./evaluate.js";
import type { EvalResult } from "./evaluate.js";
import { loadPlugins } from "./plugins.js";
import { ProgressBar, rlStatus } from "./progress.js";
import { configHash, createTaskPolicy, packageVersions } from "./setup.js";
import { buildSummary } from "./summary.js";
import type { RunSummary } from "./summary.js";

export interface TrainOptions {
  /** Continue from the run folder's latest checkpoint when there is one (default true); false = `--fresh`. */
  resume?: boolean;
  /** Progress bars and the backend line on stderr (default true). */
  progress?: boolean;
  /** Write every metrics record to this stream as a JSON line (`--jsonl`). */
  jsonl?: NodeJS.WritableStream;
  /** Stop after this many optimiser-visible steps of this process (tests use it to simulate a kill). */
  stopAfterSteps?: number;
  /** Folder plugin paths are resolved from (default: the current directory). */
  baseDir?: string;
  /**
   * Diagnostics: the worker pool runs one task at a time (`WorkerPoolOptions.exclusive`), so the
   * `workers/busy_s/*` metrics are each task's cost with no other worker running (the workers bench).
   * summary.json says `workers.exclusive`: its timing_s are not a speed to compare.
   */
  exclusiveWorkers?: boolean;
  /** Use this task instead of building `config.task` (library users with their own Task; tests). */
  task?: Task;
  /**
   * Awaited before each SFT and RL step, with the step about to run (1-based): a caller paces the
   * run without forking the loop (a UI's pause button; the workers bench, which runs several
   * configurations' steps in turn so that a shared machine's drift falls on all of them alike).
   * Nothing is open while it waits: no step, no tensor scope, no pending worker task. The run's
   * set-up and its start-of-run eval come before the first call, its final eval and report after
   * the last, unpaced.
   */
  beforeStep?: (phase: "sft" | "rl", step: number) => void | Promise<void>;
  /** Data-parallel gradients (a worker pool); default: in this thread. */
  computeGradients?: (model: CausalLM, recipe: Recipe) => ComputeGradients | Promise<ComputeGradients>;
}

export interface TrainResult {
  out: string;
  records: MetricsRecord[];
  summary: RunSummary;
  reportPath: string;
  resumed: boolean;
  /** Whether every configured step is done (false when stopped by `stopAfterSteps`). */
  completed: boolean;
  finalEval?: EvalResult;
}

/** The task's spec from the config: its options, the run's seed, the recipe's reward shaping and the planned reward workers. */
function taskSpecOf(config: TrainConfig, recipe: Recipe, plan: WorkerPlan): Parameters<typeof createTask>[0] {
  const spec = {
    ...config.task.options,
    name: config.task.name,
    seed: (config.task.options.seed as number | undefined) ?? config.seed,
    reward: {
      kind: config.task.reward,
      ...(recipe.overlong
        ? {
            overlong: {
              maxLength: recipe.overlong.maxLength,
              bufferLength: recipe.overlong.bufferLength,
              penaltyFactor: recipe.overlong.factor,
            },
          }
        : {}),
    },
  } as Parameters<typeof createTask>[0];
  return plan.rewardWorkers > 0 ? withRewardWorkers(spec, plan.rewardWorkers) : spec;
}

const order = (phase: string) => (phase === "sft" ? 0 : 1);

/** Fails early (before any training) when `out` cannot be created or written, e.g. read-only or full. */
function checkWritable(out: string): void {
  const probe = join(out, `.write-test-${process.pid}`);
  try {
    mkdirSync(out, { recursive: true });
    writeFileSync(probe, Buffer.alloc(64 * 1024));
    unlinkSync(probe);
  } catch (err) {
    try {
      rmSync(probe, { force: true });
    } catch {
      // the folder itself is unusable
    }
    throw new ConfigError(
      "out",
      `cannot write to the output folder ${out} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/**
 * One training run: supervised warm-up on the task's references, then RL
 * with the recipe, held-out pass@1 at the start, after the warm-up, every
 * `eval.every` steps and at the end, versioned atomic checkpoints that a
 * killed run resumes from exactly, metrics.jsonl, samples.jsonl,
 * summary.json and report.html. Everything that can be wrong with the
 * config, the recipe, the plugins, the task or the output folder is an
 * error before any work.
 */
export async function train(config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const started = performance.now();
  const showProgress = options.progress ?? true;
  await initBackend(showProgress ? {} : { log: null });
  const plugins = await loadPlugins(config.plugins, options.baseDir ?? process.cwd());
  const recipe = resolveRecipe(recipeInputOf(config));
  const hash = configHash(config);
  const out = resolve(config.out);
  // One decision for policy workers (rollout, scoring, gradients) and reward workers (verifier threads,
  // sandboxes). The trainer verifies after generating, so the two phases alternate and neither starves.
  const plan = planWorkers({
    backend: backendInfo()?.name ?? tf.getBackend(),
    rewards: options.task ? "none" : rewardRuntime(config.task.name),
    overlapped: false,
    ...(config.workers !== null ? { policyWorkers: config.workers } : {}),
  });
  if (options.exclusiveWorkers && (plan.policyWorkers < 2 || options.computeGradients))
    throw new ConfigError(
      "exclusiveWorkers",
      `runs a worker pool one task at a time, but this run has no pool (${options.computeGradients ? "options.computeGradients given" : `${plan.policyWorkers} policy worker: ${plan.reason}`}); set workers >= 2`,
    );
  const task = options.task ?? createTask(taskSpecOf(config, recipe, plan));
  let lock: ReturnType<typeof lockRunFolder>;
  try {
    checkWritable(out);
    lock = lockRunFolder(out);
  } catch (err) {
    await task.close();
    throw err;
  }
  let model: CausalLM | undefined;
  let reference: FrozenReference | undefined;
  let pool: WorkerPool | undefined;
  try {
    const checkpoints = join(out, "checkpoints");
    const referenceDir = join(out, "reference");
    if (options.resume === false) {
      for (const f of [
        "checkpoints",
        "reference",
        "metrics.jsonl",
        "samples.jsonl",
        "summary.json",
        "report.html",
        "config.json",
      ])
        rmSync(join(out, f), { recursive: true, force: true });
    }
    const log = new MetricsLog(join(out, "metrics.jsonl"));
    const samplesLog = new MetricsLog(join(out, "samples.jsonl"));
    const verifyWarnings = new Set<string>();
    const loaded = await loadLatestCheckpoint(checkpoints);
    if (loaded && loaded.state.configHash !== hash) {
      loaded.model.dispose();
      throw new ConfigError(
        "checkpoint",
        `${loaded.dir} was written by a run with a different configuration (hash ${loaded.state.configHash}, now ${hash}); pass --fresh to start over or use another --out`,
      );
    }
    // Only now, with the checkpoint check passed, is config.json (re)written.
    writeFileSync(join(out, "config.json"), `${JSON.stringify({ ...config, configHash: hash, recipe }, null, 2)}\n`);

    let tokenizer: PolicyTokenizer;
    let state: TrainingState;
    if (loaded) {
      ({ model, tokenizer, state } = loaded);
      const seen = (r: MetricsRecord) => {
        const p = r.phase === "eval" ? String(r.during ?? "rl") : r.phase;
        return order(p) < order(state.phase) || (order(p) === order(state.phase) && r.step <= state.step);
      };
      log.keep(seen);
      samplesLog.keep(seen);
    } else {
      ({ model, tokenizer } = await createTaskPolicy(config, task));
      state = {
        version: 1,
        phase: config.sft.steps > 0 ? "sft" : "rl",
        step: 0,
        nextExample: 0,
        rng: { seed: config.seed, draws: 0 },
        optimizerPhase: "sft",
        optimizerStep: 0,
        configHash: hash,
        finished: false,
      };
      log.reset();
      samplesLog.reset();
    }
    const policy: CausalLM = model as CausalLM;
    // Worker threads for rollout, scoring and data-parallel gradients (same tokens and, within float32, gradients for any count).
    const workers = plan.policyWorkers;
    if (workers > 1 && !options.computeGradients) {
      pool = await createWorkerPool({
        model: policy,
        tokenizer,
        workers,
        plugins: plugins.map((p) => p.file),
        loss: { kind: "recipe", recipe },
        ...(options.exclusiveWorkers ? { exclusive: true } : {}),
      });
      if (showProgress)
        process.stderr.write(
          `tokenrl-train: ${workers} worker threads (rollout, scoring, gradients): ${plan.reason}\n`,
        );
    }
    // Every checkpoint is the whole training state at this moment, with the given optimiser.
    const checkpoint = (optimizer: AdamW) =>
      saveCheckpoint(
        checkpoints,
        { model: policy, tokenizer, optimizer, state },
        { keepLast: config.checkpoint.keepLast },
      );
    const emit = (r: MetricsRecord) => {
      log.append(r);
      options.jsonl?.write(`${JSON.stringify(r)}\n`);
    };
    const engineFor = (draw: number): RolloutEngine => {
      const seed = (config.seed * 1_000_003 + draw) >>> 0;
      return pool ? pool.engine({ seed, tokenizer }) : createLocalEngine({ model: policy, tokenizer, seed });
    };
    // A resumed run shows the last held-out result it logged until it evaluates again.
    let lastHeldOut = log
      .read()
      .filter((r) => r.phase === "eval")
      .at(-1)?.["heldOut/pass@1"] as number | undefined;
    const evaluate = async (step: number, during: string, tag: string) => {
      const t0 = performance.now();
      const ev = await evaluateHeldOut(engineFor(-1), tokenizer, task, config.eval.examples, {
        timeoutMs: config.task.verifyTimeoutMs,
      });
      lastHeldOut = ev.passAt1;
      if (ev.firstVerifyError !== undefined)
        warnVerifyFailures(
          verifyWarnings,
          `held-out eval at step ${step}`,
          ev.verifyFailures,
          ev.examples,
          ev.firstVerifyError,
        );
      emit({
        phase: "eval",
        step,
        during,
        tag,
        "heldOut/pass@1": ev.passAt1,
        examples: ev.examples,
        "timing_s/eval": (performance.now() - t0) / 1000,
      });
      return ev;
    };
    let budget = options.stopAfterSteps ?? Number.POSITIVE_INFINITY;
    const alreadyDone = state.finished && state.phase === "rl" && state.step >= config.rl.steps;
    let finalEval: EvalResult | undefined;

    if (!alreadyDone) {
      if (!log.read().some((r) => r.phase === "eval" && r.tag === "start")) await evaluate(0, state.phase, "start");

      // Supervised warm-up.
      if (state.phase === "sft") {
        const optimizer = new AdamW(policy.trainableVariables(), {
          lr: config.sft.learningRate,
          weightDecay: 0,
          maxGradNorm: 1.0,
        });
        try {
          if (state.optimizerPhase === "sft" && loaded) optimizer.restore(loaded.optimizerState);
          const bar = showProgress ? new ProgressBar("sft", config.sft.steps) : undefined;
          while (state.step < config.sft.steps && budget > 0) {
            await options.beforeStep?.("sft", state.step + 1);
            const t0 = performance.now();
            const examples = takeExamples(task, state, config.sft.batchSize);
            const batch = toTrainingBatch(sftSequences(tokenizer, task, examples), {
              padTokenId: tokenizer.padTokenId,
            });
            let r: ReturnType<typeof sftStep>;
            try {
              // With a pool, each worker the gradient of a share of the rows (the same loss, float32-close gradient).
              const sharded = pool;
              r = sharded
                ? await shardedSftStep({
                    optimizer,
                    batch,
                    shards: sharded.size,
                    computeGradients: (shards, counts) =>
                      sharded.computeGradients(shards, counts, { loss: { kind: "sft" } }),
                  })
                : sftStep(policy, optimizer, batch);
            } finally {
              disposeBatch(batch);
            }
            state.step++;
            budget--;
            emit({
              phase: "sft",
              step: state.step,
              "sft/loss": r.loss,
              "actor/grad_norm": r.gradNorm,
              "actor/lr": r.lr,
              applied: r.applied,
              "timing_s/step": (performance.now() - t0) / 1000,
            });
            bar?.update(state.step, `loss ${r.loss.toFixed(3)}`);
          }
          if (state.step >= config.sft.steps) {
            await evaluate(0, "rl", "afterWarmup");
            // The saved moments stay marked "sft": RL starts with a fresh optimiser, resumed or not.
            state = { ...state, phase: "rl", step: 0 };
          }
          await checkpoint(optimizer);
        } finally {
          optimizer.dispose();
        }
      }

      // Reinforcement learning.
      if (state.phase === "rl" && state.step < config.rl.steps && budget > 0) {
        if (recipe.kl && recipe.kl.coef > 0)
          reference = await loadOrCreateReference(referenceDir, { model: policy, tokenizer });
        const optimizerSteps = config.rl.steps * config.rl.miniBatches * config.rl.epochs;
        const optimizer = new AdamW(policy.trainableVariables(), {
          lr: config.optim.lr,
          weightDecay: config.optim.weightDecay,
          betas: config.optim.betas,
          eps: config.optim.eps,
          maxGradNorm: config.optim.maxGradNorm,
          schedule: { ...config.optim.lrScheduler, totalSteps: optimizerSteps },
        });
        try {
          if (state.optimizerPhase === "rl" && loaded) optimizer.restore(loaded.optimizerState);
          state.optimizerPhase = "rl";
          const actorLoss = createActorLoss(policy, recipe);
          const computeGradients = options.computeGradients
            ? await options.computeGradients(policy, recipe)
            : pool
              ? (shards: readonly TrainingBatch[], counts: { tokens: number; sequences: number }) =>
                  pool!.computeGradients(shards, counts)
              : undefined;
          const bar = showProgress ? new ProgressBar("rl ", config.rl.steps) : undefined;
          while (state.step < config.rl.steps && budget > 0) {
            await options.beforeStep?.("rl", state.step + 1);
            const record = await rlStep({
              config,
              recipe,
              task,
              policy,
              tokenizer,
              reference,
              optimizer,
              state,
              actorLoss,
              computeGradients,
              pool,
              engine: engineFor(state.rng.draws),
              samplesLog,
              warnings: verifyWarnings,
            });
            state.rng.draws++;
            state.step++;
            budget--;
            emit({ phase: "rl", step: state.step, ...record });
            bar?.update(state.step, rlStatus(record, lastHeldOut));
            if (config.eval.every > 0 && state.step % config.eval.every === 0 && state.step < config.rl.steps)
              await evaluate(state.step, "rl", "periodic");
            const last = state.step >= config.rl.steps;
            if (last) {
              finalEval = await evaluate(state.step, "rl", "final");
              state.finished = true;
            }
            if (last || budget <= 0 || (config.checkpoint.every > 0 && state.step % config.checkpoint.every === 0))
              await checkpoint(optimizer);
          }
        } finally {
          optimizer.dispose();
        }
      } else if (state.phase === "rl" && state.step >= config.rl.steps && !state.finished && budget > 0) {
        // rl.steps = 0 (warm-up only), or a run extended to fewer steps than it has.
        finalEval = await evaluate(state.step, "rl", "final");
        state.finished = true;
        const optimizer = new AdamW(policy.trainableVariables(), { lr: config.optim.lr });
        try {
          await checkpoint(optimizer);
        } finally {
          optimizer.dispose();
        }
      }
    }

    const completed = state.phase === "rl" && state.step >= config.rl.steps && state.finished;
    const records = log.read();
    const summary = buildSummary({
      config,
      hash,
      recipe,
      records,
      completed,
      versions: packageVersions(),
      wallSeconds: (performance.now() - started) / 1000,
      workers: {
        policy: pool ? pool.size : 1,
        reward: plan.rewardWorkers,
        reason: options.computeGradients ? "gradients from options.computeGradients; no pool" : plan.reason,
        // Its timing_s are the workers' tasks queued one at a time: not a run to compare speeds with.
        ...(options.exclusiveWorkers ? { exclusive: true } : {}),
      },
    });
    writeFileSync(join(out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
    const reportPath = writeReport(join(out, "report.html"), {
      title: `tokenrl run: ${recipe.preset ?? recipe.objective.name} on ${config.task.name}`,
      summary: [
        { label: "held-out pass@1 at start", value: pct(summary.heldOut.start), id: "initial-accuracy" },
        { label: "after the warm-up", value: pct(summary.heldOut.afterWarmup), id: "warmup-accuracy" },
        { label: "final", value: pct(summary.heldOut.final), id: "final-accuracy" },
        { label: "RL steps", value: String(summary.steps.rl) },
        { label: "config hash", value: hash },
      ],
      runs: [{ name: recipe.preset ?? recipe.objective.name, records }],
      ...(finalEval
        ? {
            tables: [
              {
                title: "Held-out samples (greedy)",
                columns: ["prompt", "response", "answer", "correct"],
                rows: finalEval.samples.map((s) => [s.prompt, s.response, s.answer, String(s.correct)]),
              },
            ],
          }
        : {}),
      footer: `Raw data: ${join(out, "metrics.jsonl")}, samples.jsonl, summary.json; checkpoints in checkpoints/ (Hugging Face format).`,
    });
    return {
      out,
      records,
      summary,
      reportPath,
      resumed: Boolean(loaded),
      completed,
      ...(finalEval ? { finalEval } : {}),
    };
  } finally {
    await pool?.close();
    reference?.dispose();
    model?.dispose();
    await task.close();
    lock.release();
  }
}

function takeExamples(task: Task, state: TrainingState, n: number): TaskExample[] {
  const size = task.size("train");
  const examples = Array.from({ length: n }, (_, i) => task.example((state.nextExample + i) % size, "train"));
  state.nextExample += n;
  return examples;
}

/** Prompt + reference response (the task's full derivation when it has one, else answer + stop). */
function sftSequences(tokenizer: PolicyTokenizer, task: Task, examples: TaskExample[]): RolloutSequence[] {
  return examples.map((e) => {
    const target = e.reference ?? `${e.answer}${task.stop[0] ?? ""}`;
    const responseIds = tokenizer.encode(target);
    return {
      promptIds: tokenizer.encode(e.prompt),
      responseIds,
      rolloutLogProbs: new Array(responseIds.length).fill(0),
      finishReason: "stop",
      text: target,
    };
  });
}

interface StepContext {
  config: TrainConfig;
  recipe: Recipe;
  task: Task;
  policy: CausalLM;
  tokenizer: PolicyTokenizer;
  reference: FrozenReference | undefined;
  optimizer: AdamW;
  state: TrainingState;
  actorLoss: ReturnType<typeof createActorLoss>;
  computeGradients: ComputeGradients | undefined;
  pool: WorkerPool | undefined;
  engine: RolloutEngine;
  samplesLog: MetricsLog;
  /** Verify errors already reported on stderr this run. */
  warnings: Set<string>;
}

const MAX_VERIFY_WARNINGS = 5;

/**
 * A failed verification scores 0 and the run goes on, so a verifier that cannot
 * work at all (a worker that will not start, a task whose verify throws) would
 * otherwise show only as accuracy 0: say so on stderr, once per distinct error.
 */
function warnVerifyFailures(warned: Set<string>, where: string, failures: number, total: number, error: string): void {
  if (warned.has(error) || warned.size >= MAX_VERIFY_WARNINGS) return;
  warned.add(error);
  const more =
    warned.size === MAX_VERIFY_WARNINGS
      ? " (further distinct errors: reward/verify_failures in metrics.jsonl only)"
      : "";
  process.stderr.write(
    `tokenrl-train: ${where}: ${failures} of ${total} verifications failed and scored 0, e.g. ${error}${more}\n`,
  );
}

type StepRecord = Record<string, number | string | boolean | null>;

/** Rollout, rewards, advantages, old/ref log-probs, the PPO update: one RL step's metrics, verl names. */
async function rlStep(c: StepContext): Promise<StepRecord> {
  const { config, recipe, task, tokenizer, state } = c;
  const G = config.rl.groupSize;
  const stepStarted = performance.now();
  const sampling = {
    temperature: config.rl.temperature,
    maxTokens: task.maxResponseLength,
    stop: [...task.stop],
    includeStopStrInOutput: true,
  };
  let rewardSeconds = 0;
  let failures = 0;
  let firstError: string | undefined;
  const verdictOf = new Map<readonly number[], { verdict: TaskVerdict; example: TaskExample }>();
  const keep = (responseIds: readonly number[], verdict: TaskVerdict, example: TaskExample) => {
    if (verdict.error) {
      failures++;
      firstError ??= verdict.error;
    }
    verdictOf.set(responseIds, { verdict, example });
  };
  const judge = async (seqs: RolloutSequence[], examples: TaskExample[]) => {
    const t0 = performance.now();
    const verdicts = await guardedVerify(
      task,
      seqs.map((s, i) => ({
        example: examples[Math.floor(i / G)]!,
        response: s.text,
        responseTokens: s.responseIds.length,
        finishReason: s.finishReason,
      })),
      { timeoutMs: config.task.verifyTimeoutMs },
    );
    verdicts.forEach((v, i) => keep(seqs[i]!.responseIds, v, examples[Math.floor(i / G)]!));
    rewardSeconds += (performance.now() - t0) / 1000;
    return verdicts;
  };
  let sequences: RolloutSequence[];
  let generated = 0;
  let correctGenerated = 0;
  const stats: StepRecord = {};
  const genStarted = performance.now();
  const tasksAtGen = c.pool?.taskStats();
  if (task.kind === "episode") {
    const examples = takeExamples(task, state, config.rl.promptsPerStep);
    const repeated = examples.flatMap((e) => Array.from({ length: G }, () => e));
    const episodes = await task.rollout({
      engine: c.engine,
      examples: repeated,
      sampling,
      groupIds: repeated.map((_, i) => Math.floor(i / G)),
    });
    const t0 = performance.now();
    const verdicts = await guardedVerify(
      task,
      episodes.map((e, i) => ({
        example: repeated[i]!,
        response: e.text,
        responseTokens: e.responseIds.length,
        episodeReward: e.reward,
      })),
      { timeoutMs: config.task.verifyTimeoutMs },
    );
    rewardSeconds += (performance.now() - t0) / 1000;
    verdicts.forEach((v, i) => keep(episodes[i]!.responseIds, v, repeated[i]!));
    const groups = examples.map((_, g) =>
      episodes.slice(g * G, (g + 1) * G).map((e, j) => ({ ...e, groupId: g, verdict: verdicts[g * G + j]! })),
    );
    generated = episodes.length;
    correctGenerated = verdicts.filter((v) => v.correct).length;
    const kept = recipe.dynamicSampling
      ? groups.filter((grp) => grp.some((e) => e.verdict.reward !== grp[0]!.verdict.reward))
      : groups;
    stats["sampling/groupsDropped"] = groups.length - kept.length;
    sequences = kept.flatMap((grp, g) => grp.map(({ verdict: _v, ...e }) => ({ ...e, groupId: g })));
  } else if (recipe.dynamicSampling) {
    let batchExamples: TaskExample[] = [];
    const result = await dynamicSampling({
      engine: c.engine,
      groupSize: G,
      numGroups: config.rl.promptsPerStep,
      maxGenerationBatches: config.rl.maxGenerationBatches,
      sampling,
      nextPrompts: (n) => {
        batchExamples = takeExamples(task, state, n);
        return batchExamples.map((e) => tokenizer.encode(e.prompt));
      },
      verify: async (seqs) => {
        const verdicts = await judge(seqs, batchExamples);
        generated += seqs.length;
        correctGenerated += verdicts.filter((v) => v.correct).length;
        // Groups are kept when their rewards differ (verl filter_groups on the score).
        return verdicts.map((v) => v.reward);
      },
    });
    sequences = result.sequences;
    for (const [k, v] of Object.entries(result.stats)) stats[`sampling/${k}`] = typeof v === "boolean" ? Number(v) : v;
  } else {
    const examples = takeExamples(task, state, config.rl.promptsPerStep);
    sequences = await sampleGroups(
      c.engine,
      examples.map((e) => tokenizer.encode(e.prompt)),
      { ...sampling, groupSize: G },
    );
    const verdicts = await judge(sequences, examples);
    generated = sequences.length;
    correctGenerated = verdicts.filter((v) => v.correct).length;
  }
  const genSeconds = (performance.now() - genStarted) / 1000 - rewardSeconds;
  const tasksAfterGen = c.pool?.taskStats();
  if (firstError !== undefined)
    warnVerifyFailures(c.warnings, `step ${state.step + 1}`, failures, generated, firstError);
  const base: StepRecord = {
    accuracy: generated > 0 ? correctGenerated / generated : null,
    "reward/verify_failures": failures,
    "timing_s/gen": genSeconds,
    "timing_s/reward": rewardSeconds,
    ...workerTimes("gen", tasksAtGen, tasksAfterGen),
    ...stats,
  };
  if (sequences.length === 0) {
    return { ...base, skipped: "no informative group", "timing_s/step": (performance.now() - stepStarted) / 1000 };
  }
  const judged = sequences.map((s) => verdictOf.get(s.responseIds)!);
  const rewards = judged.map((j) => j.verdict.reward);
  const lengths = sequences.map((s) => s.responseIds.length);
  for (const [i, s] of sequences.slice(0, config.log.samplesPerStep).entries()) {
    c.samplesLog.append({
      phase: "rl",
      step: state.step + 1,
      prompt: judged[i]!.example.prompt,
      response: s.text,
      answer: judged[i]!.example.answer,
      reward: rewards[i]!,
      correct: judged[i]!.verdict.correct,
      extracted: judged[i]!.verdict.extracted,
    });
  }

  const batch = toTrainingBatch(sequences, { padTokenId: tokenizer.padTokenId });
  const owned: Tensor[] = [];
  const t1 = performance.now();
  try {
    batch.tokenRewards = rewardsOnLastToken(rewards, batch.responseMask);
    batch.correct = tf.tensor1d(
      judged.map((j) => (j.verdict.correct ? 1 : 0)),
      "float32",
    );
    const validTokens = Int32Array.from(sequences, (s) =>
      s.responseMask ? s.responseMask.reduce((a, b) => a + b, 0) : s.responseIds.length,
    );
    batch.host = {
      correct: Float32Array.from(judged, (j) => (j.verdict.correct ? 1 : 0)),
      // The row sum of tokenRewards: a row with no valid token carries no reward (rewardsOnLastToken places none).
      rewards: Float32Array.from(rewards, (r, i) => (validTokens[i]! > 0 ? r : 0)),
      lengths: validTokens,
      ...(batch.groupIds ? { groupIds: Int32Array.from(sequences, (s) => s.groupId ?? 0) } : {}),
    };
    const adv = advantageEstimators.get(recipe.advantage.name)(batch, recipe.advantage.options);
    owned.push(adv.advantages, adv.returns);
    batch.advantages = adv.advantages;
    batch.returns = adv.returns;
    const scored = c.pool
      ? ((await c.pool.score(batch, { entropy: true })) as { logProbs: tf.Tensor2D; entropy: tf.Tensor2D })
      : tf.tidy(() => {
          const s = c.policy.scoreResponses({
            promptIds: batch.promptIds!,
            promptMask: batch.promptMask!,
            responseIds: batch.responseIds!,
            responseMask: batch.responseMask,
          });
          return { logProbs: s.logProbs, entropy: s.entropy };
        });
    owned.push(scored.logProbs, scored.entropy);
    batch.oldLogProbs = scored.logProbs;
    batch.entropy = scored.entropy;
    if (c.reference) {
      batch.refLogProbs = c.reference.refLogProbs(batch);
      owned.push(batch.refLogProbs);
    }
    const oldLogProbSeconds = (performance.now() - t1) / 1000;
    const tasksAfterScore = c.pool?.taskStats();
    const t2 = performance.now();
    const update = await ppoUpdate({
      batch,
      optimizer: c.optimizer,
      ...(c.computeGradients ? { computeGradients: c.computeGradients } : { loss: c.actorLoss }),
      miniBatches: config.rl.miniBatches,
      epochs: config.rl.epochs,
      ...(config.rl.microBatchSize !== null ? { microBatchSize: config.rl.microBatchSize } : {}),
      ...(c.pool ? { shardsPerMiniBatch: c.pool.size } : {}),
    });
    if (update.skipped > 0)
      process.stderr.write(
        `tokenrl-train: step ${state.step + 1}: ${update.skipped} optimiser step(s) had a NaN/Inf loss or gradient and were skipped\n`,
      );
    const updateSeconds = (performance.now() - t2) / 1000;
    const stepSeconds = (performance.now() - stepStarted) / 1000;
    const promptTokens = sequences.reduce((a, s) => a + s.promptIds.length, 0);
    const responseTokens = lengths.reduce((a, b) => a + b, 0);
    return {
      ...base,
      "critic/score/mean": mean(rewards),
      "critic/score/max": Math.max(...rewards),
      "critic/score/min": Math.min(...rewards),
      "response_length/mean": mean(lengths),
      "response_length/max": Math.max(...lengths),
      "response_length/clip_ratio": sequences.filter((s) => s.finishReason === "length").length / sequences.length,
      groups: sequences.length / G,
      ...update.metrics,
      "actor/skipped_steps": update.skipped,
      "timing_s/old_log_prob": oldLogProbSeconds,
      "timing_s/update": updateSeconds,
      "timing_s/step": stepSeconds,
      ...workerTimes("old_log_prob", tasksAfterGen, tasksAfterScore),
      ...workerTimes("update", tasksAfterScore, c.pool?.taskStats()),
      "perf/total_num_tokens": promptTokens + responseTokens,
      "perf/throughput": (promptTokens + responseTokens) / stepSeconds,
    };
  } finally {
    tf.dispose(owned);
    for (const k of ["advantages", "returns", "oldLogProbs", "entropy", "refLogProbs"] as const) batch[k] = undefined;
    disposeBatch(batch as TrainingBatch);
  }
}

/**
 * A phase's worker time, beside its `timing_s/<phase>`: `workers/busy_s` sums
 * the workers' task seconds, `workers/critical_s` the slowest task of each fan-out.
 * busy / (workers x critical) is 1 when every task took as long as the slowest
 * (lower: shared unevenly); timing_s minus critical is what the main thread spent
 * alone (with exclusive workers, minus busy).
 */
function workerTimes(
  phase: string,
  before: WorkerTaskStats | undefined,
  after: WorkerTaskStats | undefined,
): StepRecord {
  if (!before || !after) return {};
  return {
    [`workers/busy_s/${phase}`]: (after.busyMs - before.busyMs) / 1000,
    [`workers/critical_s/${phase}`]: (after.criticalMs - before.criticalMs) / 1000,
  };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}
