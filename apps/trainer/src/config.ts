import { readFileSync } from "node:fs";
import { ConfigError } from "@tokenrl/core";
import { listPresets } from "@tokenrl/objectives";
import { SYNTHETIC_TASK_NAMES } from "@tokenrl/tasks";

/**
 * The trainer's configuration. Every field is documented where it is declared,
 * with its default; a config file (JSON) overrides any subset, and a key the
 * schema does not know is an error naming it, not something silently ignored.
 */
export interface TrainConfig {
  /** Seed of everything random: initialisation, prompts, sampling. Default 0. */
  seed: number;
  /** Output folder: metrics.jsonl, checkpoint/, report.html, report.json. Default "runs/train". */
  out: string;
  /**
   * Recipe preset from @tokenrl/objectives (htpo, dapo, grpo, dr-grpo, gspo, sapo,
   * cispo, cppo): advantage estimator, objective and its defaults. Default "htpo".
   */
  preset: string;
  /** Overrides of the preset objective's options (e.g. `{ "sign": "released" }`). Default {}. */
  objectiveOptions: Record<string, unknown>;
  task: {
    /** Built-in synthetic task (@tokenrl/tasks). Default "addition". */
    name: string;
    /** Operand digits / string length. Default 1. */
    length: number;
  };
  model: {
    /** Load a Hugging Face checkpoint directory instead of initialising from scratch. Default null. */
    path: string | null;
    /** For a model created from scratch (Qwen3 family, character tokenizer over the task's alphabet). */
    hiddenSize: number;
    intermediateSize: number;
    numLayers: number;
    numHeads: number;
    numKvHeads: number;
  };
  /**
   * Supervised warm-up on the task's reference answers before RL, as RL starts
   * from a model that sometimes succeeds (a base model); 0 steps = none.
   */
  sft: { steps: number; batchSize: number; learningRate: number };
  rl: {
    /** Policy-gradient steps (one rollout batch each). Default 150. */
    steps: number;
    /** Groups (prompts) per training batch. Default 16. */
    promptsPerStep: number;
    /** G: responses per prompt. Default 8. */
    groupSize: number;
    /** DAPO dynamic sampling: generation batches allowed to fill the batch with informative groups. Default 3. */
    maxGenerationBatches: number;
    /** Sampling temperature for rollouts. Default 1.0 (HTPO's setting). */
    temperature: number;
    /** Adam learning rate. Default 1e-3. */
    learningRate: number;
    /** Global gradient-norm clip. Default 1.0. */
    maxGradNorm: number;
    /** Optimiser steps per rollout batch (PPO mini-batches; >1 makes the ratio move off 1). Default 2. */
    miniBatches: number;
  };
  eval: {
    /** Held-out examples scored greedily. Default 200. */
    examples: number;
    /** Evaluate every N RL steps (and at the start and end). Default 25. */
    every: number;
  };
  checkpoint: {
    /** Save (atomically) every N steps and at the end; 0 = only at the end. Default 25. */
    every: number;
  };
}

export const DEFAULT_CONFIG: TrainConfig = {
  seed: 0,
  out: "runs/train",
  preset: "htpo",
  objectiveOptions: {},
  task: { name: "addition", length: 1 },
  model: { path: null, hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2 },
  sft: { steps: 60, batchSize: 32, learningRate: 3e-3 },
  rl: {
    steps: 150,
    promptsPerStep: 16,
    groupSize: 8,
    maxGenerationBatches: 3,
    temperature: 1.0,
    learningRate: 1e-3,
    maxGradNorm: 1.0,
    miniBatches: 2,
  },
  eval: { examples: 200, every: 25 },
  checkpoint: { every: 25 },
};

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Overlays `override` on `base`, rejecting keys `base` does not have (except free-form maps). */
function overlay(base: Plain, override: Plain, path: string, freeForm: ReadonlySet<string>): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in base)) throw new ConfigError(at, `unknown key; known keys here: ${Object.keys(base).join(", ")}`);
    const current = base[key];
    if (freeForm.has(at)) {
      if (!isPlain(value)) throw new ConfigError(at, `expected an object, got ${JSON.stringify(value)}`);
      out[key] = { ...(current as Plain), ...value };
    } else if (isPlain(current)) {
      if (!isPlain(value)) throw new ConfigError(at, `expected an object, got ${JSON.stringify(value)}`);
      out[key] = overlay(current, value, at, freeForm);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function num(path: string, v: unknown, { min, max, integer }: { min?: number; max?: number; integer?: boolean }): void {
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ConfigError(path, `expected a finite number, got ${JSON.stringify(v)}`);
  if (integer && !Number.isInteger(v)) throw new ConfigError(path, `expected an integer, got ${v}`);
  if (min !== undefined && v < min) throw new ConfigError(path, `must be >= ${min}, got ${v}`);
  if (max !== undefined && v > max) throw new ConfigError(path, `must be <= ${max}, got ${v}`);
}

/** Checks every field's type and range; throws a ConfigError naming the first bad one. */
export function validateConfig(c: TrainConfig): TrainConfig {
  num("seed", c.seed, { integer: true, min: 0 });
  if (typeof c.out !== "string" || !c.out) throw new ConfigError("out", "expected a folder path");
  if (!listPresets().includes(c.preset))
    throw new ConfigError("preset", `unknown preset "${c.preset}"; known: ${listPresets().join(", ")}`);
  if (!SYNTHETIC_TASK_NAMES.includes(c.task.name))
    throw new ConfigError("task.name", `unknown task "${c.task.name}"; known: ${SYNTHETIC_TASK_NAMES.join(", ")}`);
  num("task.length", c.task.length, { integer: true, min: 1, max: 12 });
  if (c.model.path !== null && typeof c.model.path !== "string")
    throw new ConfigError("model.path", "expected a folder path or null");
  for (const k of ["hiddenSize", "intermediateSize", "numLayers", "numHeads", "numKvHeads"] as const) {
    num(`model.${k}`, c.model[k], { integer: true, min: 1 });
  }
  if (c.model.hiddenSize % c.model.numHeads !== 0)
    throw new ConfigError("model.hiddenSize", `must be divisible by model.numHeads (${c.model.numHeads})`);
  if (c.model.numHeads % c.model.numKvHeads !== 0)
    throw new ConfigError("model.numKvHeads", `must divide model.numHeads (${c.model.numHeads})`);
  num("sft.steps", c.sft.steps, { integer: true, min: 0 });
  num("sft.batchSize", c.sft.batchSize, { integer: true, min: 1 });
  num("sft.learningRate", c.sft.learningRate, { min: 0 });
  num("rl.steps", c.rl.steps, { integer: true, min: 0 });
  num("rl.promptsPerStep", c.rl.promptsPerStep, { integer: true, min: 1 });
  num("rl.groupSize", c.rl.groupSize, { integer: true, min: 2 });
  num("rl.maxGenerationBatches", c.rl.maxGenerationBatches, { integer: true, min: 1 });
  num("rl.temperature", c.rl.temperature, { min: 0 });
  num("rl.learningRate", c.rl.learningRate, { min: 0 });
  num("rl.maxGradNorm", c.rl.maxGradNorm, { min: 0 });
  num("rl.miniBatches", c.rl.miniBatches, { integer: true, min: 1 });
  num("eval.examples", c.eval.examples, { integer: true, min: 0 });
  num("eval.every", c.eval.every, { integer: true, min: 0 });
  num("checkpoint.every", c.checkpoint.every, { integer: true, min: 0 });
  return c;
}

const FREE_FORM = new Set(["objectiveOptions"]);

/** The defaults overlaid with `overrides` (a parsed config file and/or CLI flags), validated. */
export function resolveConfig(...overrides: Plain[]): TrainConfig {
  let merged: Plain = structuredClone(DEFAULT_CONFIG) as unknown as Plain;
  for (const o of overrides) merged = overlay(merged, o, "", FREE_FORM);
  return validateConfig(merged as unknown as TrainConfig);
}

/** Reads a JSON config file; a syntax error names the file and position. */
export function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, `cannot read config file (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, `not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlain(parsed)) throw new ConfigError(path, "expected a JSON object at the top level");
  return parsed;
}

/** `a.b.c=value` -> `{ a: { b: { c: value } } }`, the value parsed as JSON when it is JSON. */
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
  const root: Plain = {};
  let node = root;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) node[k] = value;
    else node = node[k] = {} as Plain;
  });
  return root;
}
