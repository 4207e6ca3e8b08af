import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { InvalidInputError, tf } from "@tokenrl/core";
import type { CausalLM, PolicyTokenizer } from "@tokenrl/policy";
import { float32ToRaw, loadPolicy, rawToFloat32, readSafetensors, savePolicy, writeSafetensors } from "@tokenrl/policy";
import { z } from "zod";
import type { AdamW, OptimizerState } from "../optimizer.js";
import { formatIssues } from "./issues.js";

/**
 * Where a run stands, saved with the weights and optimiser: phase and step,
 * the data cursor, the RNG (seed and how many streams were drawn), the
 * optimiser's step count (which drives the LR schedule) and the config hash.
 */
export const trainingStateSchema = z.strictObject({
  version: z.literal(1),
  /** "sft" while warming up, then "rl". */
  phase: z.enum(["sft", "rl"]),
  /** Steps completed in the current phase. */
  step: z.int().nonnegative(),
  /** Next unused example of the training stream (the data cursor). */
  nextExample: z.int().nonnegative(),
  /** The run's seed and the number of per-step streams forked from it so far. */
  rng: z.strictObject({ seed: z.int(), draws: z.int().nonnegative() }),
  /** Which phase's optimiser the saved moments belong to. */
  optimizerPhase: z.enum(["sft", "rl"]),
  /** Optimiser steps taken (the LR schedule's position). */
  optimizerStep: z.int().nonnegative(),
  /** The configuration the run was started with. */
  configHash: z.string().min(1),
  /** Whether the run finished every step (and wrote its final evaluation). */
  finished: z.boolean(),
});
export type TrainingState = z.infer<typeof trainingStateSchema>;

export const POINTER_FILE = "latest_checkpointed_iteration.txt";
const STATE = "trainer-state.json";
const OPTIMIZER = "optimizer.safetensors";
const TMP_PREFIX = ".tmp-";
const NAME = /^(sft|rl)_step_(\d{6})(\.b)?$/;

/** Checks a parsed state file; an error names the file, the key, the bad value and what is allowed. */
export function validateTrainingState(value: unknown, source = STATE): TrainingState {
  const parsed = trainingStateSchema.safeParse(value);
  if (!parsed.success)
    throw new InvalidInputError(`${source}: invalid trainer state: ${formatIssues(parsed.error, value)}`);
  return parsed.data;
}

export interface SaveCheckpointOptions {
  /** Checkpoint folders to keep (the newest); older ones are removed. Default 2. */
  keepLast?: number;
  /** Test hook: runs after the new folder is complete and before the pointer moves to it. */
  beforePointerSwap?: () => void | Promise<void>;
}

/** `sft_step_000060`, `rl_step_000025`: one folder per saved (phase, step). */
export function checkpointName(state: Pick<TrainingState, "phase" | "step">): string {
  return `${state.phase}_step_${String(state.step).padStart(6, "0")}`;
}

/** The folder the pointer names, or undefined when there is no checkpoint yet. */
export async function latestCheckpoint(root: string): Promise<string | undefined> {
  const pointer = join(root, POINTER_FILE);
  if (!existsSync(pointer)) return undefined;
  const name = (await readFile(pointer, "utf8")).trim();
  if (!NAME.test(name))
    throw new InvalidInputError(
      `${pointer}: expected a checkpoint folder name like rl_step_000025, got ${JSON.stringify(name.slice(0, 80))}`,
    );
  const dir = join(root, name);
  if (!existsSync(dir)) throw new InvalidInputError(`${pointer} names ${name}, which does not exist in ${root}`);
  return dir;
}

/** Removes temp folders left by a save that was killed or ran out of space. */
export async function cleanStaleTemps(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const stale = (await readdir(root)).filter((n) => n.startsWith(TMP_PREFIX));
  await Promise.all(stale.map((n) => rm(join(root, n), { recursive: true, force: true })));
  return stale;
}

/**
 * Saves weights (Hugging Face format), optimiser moments and state into a new
 * versioned folder under `root`, then atomically replaces the pointer file
 * (write a temp file, rename over it), like verl's
 * latest_checkpointed_iteration.txt. A kill at any moment leaves the pointer
 * naming a complete checkpoint; stale temp folders are removed, and all but
 * the newest `keepLast` checkpoints pruned. Returns the new folder.
 */
export async function saveCheckpoint(
  root: string,
  contents: { model: CausalLM; tokenizer: PolicyTokenizer; optimizer: AdamW; state: TrainingState },
  options: SaveCheckpointOptions = {},
): Promise<string> {
  const state = validateTrainingState({ ...contents.state, optimizerStep: contents.optimizer.step }, "saveCheckpoint");
  const keepLast = options.keepLast ?? 2;
  if (!(Number.isInteger(keepLast) && keepLast >= 1))
    throw new InvalidInputError(`keepLast must be an integer >= 1, got ${keepLast}`);
  await mkdir(root, { recursive: true });
  await cleanStaleTemps(root);
  const name = checkpointName(state);
  const tmp = join(root, `${TMP_PREFIX}${name}-${process.pid}`);
  const dir = join(root, name);
  let written = dir;
  try {
    await savePolicy(tmp, contents.model, contents.tokenizer, { dtype: "float32" });
    const opt = await contents.optimizer.state();
    const tensors = new Map(opt.tensors.map((s) => [s.name, float32ToRaw(s.values, s.shape, "F32")]));
    await writeSafetensors(join(tmp, OPTIMIZER), tensors, { phase: state.optimizerPhase, step: String(opt.step) });
    await writeFile(join(tmp, STATE), `${JSON.stringify(state, null, 2)}\n`);
    // Re-saving the (phase, step) the pointer names goes to its twin name, so the pointer always names a whole folder.
    const current = await latestCheckpoint(root).catch(() => undefined);
    const target = current === dir ? `${dir}.b` : dir;
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
    await options.beforePointerSwap?.();
    const pointerTmp = join(root, `${TMP_PREFIX}pointer-${process.pid}`);
    await writeFile(pointerTmp, `${basename(target)}\n`);
    await rename(pointerTmp, join(root, POINTER_FILE));
    written = target;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  await prune(root, basename(written), keepLast);
  return written;
}

async function prune(root: string, latest: string, keepLast: number): Promise<void> {
  const order = (n: string) => (n.startsWith("sft") ? 0 : 1e9) + Number(NAME.exec(n)![2]);
  const names = (await readdir(root)).filter((n) => NAME.test(n));
  // The newest keepLast (phase, step)s up to the latest, one folder each: the latest's own.
  const older = names.filter((n) => order(n) < order(latest)).sort((a, b) => order(b) - order(a));
  const keep = new Set([
    latest,
    ...older.filter((n, i) => older.findIndex((m) => order(m) === order(n)) === i).slice(0, keepLast - 1),
  ]);
  await Promise.all(names.filter((n) => !keep.has(n)).map((n) => rm(join(root, n), { recursive: true, force: true })));
}

export interface LoadedCheckpoint {
  dir: string;
  model: CausalLM;
  tokenizer: PolicyTokenizer;
  state: TrainingState;
  optimizerState: OptimizerState;
}

/**
 * Loads the checkpoint the pointer names, or undefined when `root` has none.
 * The state file is validated before anything is used, and weights or
 * optimiser moments holding NaN/Inf are an error (never a silent 0% model).
 */
export async function loadLatestCheckpoint(root: string): Promise<LoadedCheckpoint | undefined> {
  await cleanStaleTemps(root);
  const dir = await latestCheckpoint(root);
  if (!dir) return undefined;
  const statePath = join(dir, STATE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(statePath, "utf8"));
  } catch (err) {
    throw new InvalidInputError(`${statePath}: unreadable trainer state (${(err as Error).message})`);
  }
  const state = validateTrainingState(raw, statePath);
  const { model, tokenizer } = await loadPolicy(dir);
  try {
    assertFiniteWeights(model, dir);
    const file = await readSafetensors(join(dir, OPTIMIZER));
    const tensors = [...file.tensors].map(([name, t]) => ({ name, values: rawToFloat32(t, name), shape: t.shape }));
    return { dir, model, tokenizer, state, optimizerState: { step: state.optimizerStep, tensors } };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Throws naming the first weight tensor of `model` that holds NaN or Inf. */
export function assertFiniteWeights(model: CausalLM, source: string): void {
  for (const [i, w] of model.trainableVariables().entries()) {
    const n = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(w)), "int32")));
    const bad = n.dataSync()[0]!;
    n.dispose();
    if (bad > 0)
      throw new InvalidInputError(
        `${source}: weight ${w.name || i} [${w.shape}] holds ${bad} NaN/Inf value(s); the checkpoint is corrupt`,
      );
  }
}
