import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { InvalidInputError } from "@tokenrl/core";
import type { CausalLM, PolicyTokenizer } from "@tokenrl/policy";
import { float32ToRaw, loadPolicy, rawToFloat32, readSafetensors, savePolicy, writeSafetensors } from "@tokenrl/policy";
import type { ClippedAdam } from "./optimizer.js";

/** Where a run stands, saved beside the weights so that a killed run resumes exactly. */
export interface TrainerState {
  /** "sft" while warming up, then "rl". */
  phase: "sft" | "rl";
  /** Steps completed in the current phase. */
  step: number;
  /** Next unused example index of the training stream. */
  nextExample: number;
  /** The config the run was started with (a resume with a different config is refused). */
  configHash: string;
  /** Optimiser kind of the saved moments ("sft" and "rl" use separate Adam instances). */
  optimizerPhase: "sft" | "rl";
}

const STATE = "trainer-state.json";
const OPTIMIZER = "optimizer.safetensors";

/**
 * Writes the policy (Hugging Face format), the optimiser moments and the
 * trainer state into `dir` atomically: everything goes to a sibling temp
 * folder first, which then replaces `dir` by rename. A kill at any moment
 * leaves either the old checkpoint or the new one, never a mix.
 */
export async function saveCheckpoint(
  dir: string,
  model: CausalLM,
  tokenizer: PolicyTokenizer,
  optimizer: ClippedAdam,
  state: TrainerState,
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await savePolicy(tmp, model, tokenizer, { dtype: "float32" });
  const moments = new Map((await optimizer.state()).map((s) => [s.name, float32ToRaw(s.values, s.shape, "F32")]));
  await writeSafetensors(join(tmp, OPTIMIZER), moments, { phase: state.optimizerPhase });
  await writeFile(join(tmp, STATE), `${JSON.stringify(state, null, 2)}\n`);
  if (existsSync(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

export interface LoadedCheckpoint {
  model: CausalLM;
  tokenizer: PolicyTokenizer;
  state: TrainerState;
  optimizerState: { name: string; values: Float32Array; shape: number[] }[];
}

/** Reads a checkpoint written by `saveCheckpoint`, or undefined when `dir` has none. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint | undefined> {
  const statePath = join(dir, STATE);
  if (!existsSync(statePath)) return undefined;
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(statePath, "utf8"));
  } catch (err) {
    throw new InvalidInputError(`${statePath}: unreadable trainer state (${(err as Error).message})`);
  }
  const { model, tokenizer } = await loadPolicy(dir);
  const file = await readSafetensors(join(dir, OPTIMIZER));
  const optimizerState = [...file.tensors].map(([name, raw]) => ({
    name,
    values: rawToFloat32(raw, name),
    shape: raw.shape,
  }));
  return { model, tokenizer, state, optimizerState };
}
