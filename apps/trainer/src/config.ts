import { readFileSync } from "node:fs";
import { AGGREGATION_MODES, ConfigError } from "@tokenrl/core";
import { KL_ESTIMATORS } from "@tokenrl/objectives";
import { LR_SCHEDULE_TYPES } from "@tokenrl/train";
import { formatIssues } from "@tokenrl/train/node";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const int = (min: number) => z.int().min(min);
const named = z.strictObject({
  name: z.string().min(1).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The trainer's configuration, one zod schema: every key documented here with
 * its default; unknown keys are errors; `--print-config` prints the resolved
 * config. Recipe keys (`advantage` ... `overlong`) default to the preset's.
 */
export const configSchema = z.strictObject({
  /** Seed of everything random: initialisation, prompts, sampling. */
  seed: z.int().min(0).default(0),
  /** Output folder: config.json, metrics.jsonl, samples.jsonl, checkpoints/, reference/, summary.json, report.html. */
  out: z.string().min(1).default("runs/train"),
  /** Packages or files imported before the run; they register estimators, partitioners, objectives, presets. */
  plugins: z.array(z.string().min(1)).default([]),
  /** Worker threads for rollout, scoring and the update (@tokenrl/train/workers); 1 = all in this thread; null = one per core (1 on a native backend). */
  workers: z.int().min(1).max(256).nullable().default(null),

  // The recipe: a preset and/or explicit parts (verl: algorithm.adv_estimator, actor.policy_loss, loss_agg_mode, ...).
  /** Named default recipe (htpo, dapo, grpo, dr-grpo, gspo, sapo, cispo, cppo, or a plugin's); null = none. */
  preset: z.string().min(1).nullable().default("htpo"),
  /** Advantage estimator {name, options} (verl algorithm.adv_estimator). */
  advantage: named.optional(),
  /** Partitioner {name, options} handed to the objective, or null. */
  partition: named.nullable().optional(),
  /** Policy objective {name, options} (verl actor.policy_loss.loss_mode + clip_ratio_*). */
  objective: named.optional(),
  /** Loss aggregation (verl actor.loss_agg_mode). */
  aggregation: z.enum(AGGREGATION_MODES).optional(),
  /** KL loss to the reference policy {coef, estimator} (verl use_kl_loss, kl_loss_coef, kl_loss_type), or null. */
  kl: z
    .strictObject({ coef: z.number().min(0).optional(), estimator: z.enum(KL_ESTIMATORS).optional() })
    .nullable()
    .optional(),
  /** Entropy bonus {coef} (verl entropy_coeff), or null. */
  entropy: z.strictObject({ coef: z.number().optional() }).nullable().optional(),
  /** DAPO dynamic sampling (verl algorithm.filter_groups.enable). */
  dynamicSampling: z.boolean().optional(),
  /** DAPO soft overlong penalty in tokens (verl reward_model.overlong_buffer), or null. */
  overlong: z
    .strictObject({
      maxLength: int(1).optional(),
      bufferLength: int(1).optional(),
      factor: z.number().min(0).optional(),
    })
    .nullable()
    .optional(),

  task: z
    .strictObject({
      /** Task name (@tokenrl/tasks): arith-chain, addition, ..., math-jsonl, code-jsonl, alfworld, webshop. */
      name: z.string().min(1).default("arith-chain"),
      /** The task factory's options (seed defaults to the run's seed; e.g. path for JSONL tasks). */
      options: z.record(z.string(), z.unknown()).default({}),
      /** Reward from the verdict: binary 1/0 or DAPO +1/-1 (overlong shaping comes from the recipe). */
      reward: z.enum(["binary", "dapo"]).default("binary"),
      /** A verify call that takes longer fails its samples (reward 0, counted in reward/verify_failures). */
      verifyTimeoutMs: int(1).default(30_000),
    })
    .prefault({}),
  model: z
    .strictObject({
      /** A Hugging Face checkpoint directory to start from; null = a from-scratch Qwen3-style model below. */
      path: z.string().min(1).nullable().default(null),
      hiddenSize: int(1).default(64),
      intermediateSize: int(1).default(128),
      numLayers: int(1).default(2),
      numHeads: int(1).default(4),
      numKvHeads: int(1).default(2),
      maxPositionEmbeddings: int(8).default(256),
    })
    .prefault({}),
  /** Supervised warm-up on the task's reference responses (0 steps = none). */
  sft: z
    .strictObject({
      steps: int(0).default(120),
      batchSize: int(1).default(32),
      learningRate: z.number().min(0).default(3e-3),
    })
    .prefault({}),
  rl: z
    .strictObject({
      /** Policy-gradient steps, one rollout batch each (verl trainer.total_training_steps). */
      steps: int(0).default(40),
      /** Prompts (groups) per batch (verl data.train_batch_size). */
      promptsPerStep: int(1).default(16),
      /** G: responses per prompt (verl actor_rollout_ref.rollout.n). */
      groupSize: int(2).default(8),
      /** Dynamic sampling's generation batches per step (verl algorithm.filter_groups.max_num_gen_batches). */
      maxGenerationBatches: int(1).default(2),
      temperature: z.number().min(0).default(1.0),
      /** Optimiser steps per epoch (verl: train_batch_size / ppo_mini_batch_size). */
      miniBatches: int(1).default(2),
      /** Passes over each batch (verl ppo_epochs). */
      epochs: int(1).default(1),
      /** Responses per micro-batch (verl ppo_micro_batch_size_per_gpu); null = no gradient accumulation. */
      microBatchSize: int(1).nullable().default(null),
    })
    .prefault({}),
  /** AdamW for RL (verl actor.optim). */
  optim: z
    .strictObject({
      /** RL learning rate; well below the warm-up's (on the demo task 1e-3 collapses the policy in ~10 steps, 3e-4 drifts down, 1e-4 climbs). */
      lr: z.number().min(0).default(1e-4),
      weightDecay: z.number().min(0).default(0.01),
      betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
      eps: z.number().gt(0).default(1e-8),
      /** Global gradient-norm clip (verl actor.grad_clip); 0 = off. */
      maxGradNorm: z.number().min(0).default(1.0),
      /** LR schedule over the RL optimiser steps (verl lr_scheduler_type / warmup_style, lr_warmup_steps, min_lr_ratio). */
      lrScheduler: z
        .strictObject({
          type: z.enum(LR_SCHEDULE_TYPES).default("constant"),
          warmupSteps: int(0).default(0),
          minLrRatio: z.number().min(0).max(1).default(0),
          numCycles: z.number().gt(0).default(0.5),
        })
        .prefault({}),
    })
    .prefault({}),
  eval: z
    .strictObject({
      /** Held-out (test split) examples scored greedily: pass@1. */
      examples: int(0).default(200),
      /** Also every N RL steps (0 = only at start, after the warm-up and at the end). */
      every: int(0).default(10),
    })
    .prefault({}),
  checkpoint: z
    .strictObject({
      /** Save every N RL steps (and at the phase switch and the end); 0 = only those. */
      every: int(0).default(10),
      /** Checkpoint folders kept. */
      keepLast: int(1).default(2),
    })
    .prefault({}),
  log: z
    .strictObject({
      /** Generations per step written to samples.jsonl. */
      samplesPerStep: int(0).default(4),
    })
    .prefault({}),
});

export type TrainConfig = z.infer<typeof configSchema>;
type Plain = Record<string, unknown>;

const FORBIDDEN = new Set(["__proto__", "prototype", "constructor"]);

function isPlain(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (later wins; arrays and scalars replace). */
export function mergeConfig(...layers: Plain[]): Plain {
  const out: Plain = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (FORBIDDEN.has(k))
        throw new ConfigError(k, `unknown key; allowed: ${Object.keys(configSchema.shape).join(", ")}`);
      out[k] = isPlain(v) && isPlain(out[k]) ? mergeConfig(out[k] as Plain, v) : v;
    }
  }
  return out;
}

/** Validates a merged config (defaults filled in); a ConfigError names every bad key, its value and what is allowed. */
export function resolveConfig(...layers: Plain[]): TrainConfig {
  const merged = mergeConfig(...layers);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError("config", formatIssues(parsed.error, merged, configSchema));
  const c = parsed.data;
  if (c.model.hiddenSize % c.model.numHeads !== 0)
    throw new ConfigError(
      "model.hiddenSize",
      `bad value ${c.model.hiddenSize}; must be divisible by model.numHeads (${c.model.numHeads})`,
    );
  if (c.model.numHeads % c.model.numKvHeads !== 0)
    throw new ConfigError(
      "model.numKvHeads",
      `bad value ${c.model.numKvHeads}; must divide model.numHeads (${c.model.numHeads})`,
    );
  return c;
}

export const DEFAULT_CONFIG: TrainConfig = resolveConfig();

/** Reads a YAML or JSON config file (JSON is YAML); a syntax error names the file and line. */
export function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, `cannot read config file (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(path, `not valid YAML/JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlain(parsed)) throw new ConfigError(path, "expected a mapping (an object) at the top level");
  return parsed;
}

/** `a.b.c=value` -> `{ a: { b: { c: value } } }`, the value read as JSON when it is JSON, else a string. */
export function parseOverride(assignment: string): Plain {
  const eq = assignment.indexOf("=");
  if (eq <= 0) throw new ConfigError(assignment, 'expected KEY=VALUE, e.g. "rl.steps=20"');
  const keys = assignment.slice(0, eq).split(".");
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  for (const k of keys) {
    if (!k) throw new ConfigError(assignment, "empty key segment");
    if (FORBIDDEN.has(k)) throw new ConfigError(keys.join("."), `unknown key "${k}"`);
  }
  const root: Plain = {};
  let node = root;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) node[k] = value;
    else node = node[k] = {} as Plain;
  });
  return root;
}

/** The recipe part of a config, as @tokenrl/train's resolveRecipe reads it. */
export function recipeInputOf(c: TrainConfig) {
  const { preset, advantage, partition, objective, aggregation, kl, entropy, dynamicSampling, overlong } = c;
  return Object.fromEntries(
    Object.entries({
      preset,
      advantage,
      partition,
      objective,
      aggregation,
      kl,
      entropy,
      dynamicSampling,
      overlong,
    }).filter(([, v]) => v !== undefined),
  );
}
