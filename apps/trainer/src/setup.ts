import { createHash } from "node:crypto";
import { CharTokenizer, createPolicy, loadPolicy } from "@tokenrl/policy";
import type { CausalLM, PolicyTokenizer } from "@tokenrl/policy";
import type { Task } from "@tokenrl/tasks";
import type { TrainConfig } from "./config.js";

/** A fresh policy for the task: Qwen3-style decoder over a character tokenizer of the task's alphabet. */
export async function createTaskPolicy(
  config: TrainConfig,
  task: Task,
): Promise<{ model: CausalLM; tokenizer: PolicyTokenizer }> {
  if (config.model.path) {
    const { model, tokenizer } = await loadPolicy(config.model.path);
    return { model, tokenizer };
  }
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
      maxPositionEmbeddings: 256,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      bosTokenId: tokenizer.bosTokenId,
    },
    { seed: config.seed },
  );
  return { model, tokenizer };
}

/** Identifies a run's configuration; `rl.steps` and cadences may change on resume (to extend a run). */
export function configHash(config: TrainConfig): string {
  const { rl, eval: _eval, checkpoint: _checkpoint, out: _out, ...rest } = config;
  const { steps: _steps, ...rlRest } = rl;
  return createHash("sha256")
    .update(JSON.stringify({ ...rest, rl: rlRest }))
    .digest("hex")
    .slice(0, 16);
}
