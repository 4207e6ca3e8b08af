import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CharTokenizer, createPolicy, loadPolicy } from "@tokenrl/policy";
import type { CausalLM, PolicyTokenizer } from "@tokenrl/policy";
import type { Task } from "@tokenrl/tasks";
import type { TrainConfig } from "./config.js";

/** A fresh policy for the task: a Qwen3-style decoder over a character tokenizer of the task's alphabet, or `model.path`. */
export async function createTaskPolicy(
  config: TrainConfig,
  task: Task,
): Promise<{ model: CausalLM; tokenizer: PolicyTokenizer }> {
  if (config.model.path) return loadPolicy(config.model.path);
  const tokenizer = new CharTokenizer(task.alphabet);
  const model = createPolicy(
    {
      modelType: "qwen3",
      vocabSize: tokenizer.vocabSize,
      hiddenSize: config.model.hiddenSize,
      intermediateSize: config.model.intermediateSize,
      numLayers: config.model.numLayers,
      numHeads: config.model.numHeads,
      numKvHeads: config.model.numKvHeads,
      maxPositionEmbeddings: config.model.maxPositionEmbeddings,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      bosTokenId: tokenizer.bosTokenId,
    },
    { seed: config.seed },
  );
  return { model, tokenizer };
}

/**
 * Identifies what a run computes: everything but the output folder, cadences,
 * logging, the worker count and `rl.steps` (which may grow on resume to extend a run).
 */
export function configHash(config: TrainConfig): string {
  const { out: _o, eval: _e, checkpoint: _c, log: _l, workers: _w, rl, ...rest } = config;
  const { steps: _s, ...rlRest } = rl;
  return createHash("sha256")
    .update(JSON.stringify({ ...rest, rl: rlRest }))
    .digest("hex")
    .slice(0, 16);
}

const here = dirname(fileURLToPath(import.meta.url));

/** Versions of the packages the trainer runs on, read from their package.json. */
export function packageVersions(): Record<string, string> {
  const names = ["core", "train", "advantages", "partitioners", "objectives", "policy", "rollout", "tasks", "report"];
  const out: Record<string, string> = {};
  const own = JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8")) as { name: string; version: string };
  out[own.name] = own.version;
  for (const n of names) {
    let dir = here;
    for (;;) {
      const p = join(dir, "node_modules", "@tokenrl", n, "package.json");
      if (existsSync(p)) {
        out[`@tokenrl/${n}`] = (JSON.parse(readFileSync(realpathSync(p), "utf8")) as { version: string }).version;
        break;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return out;
}
