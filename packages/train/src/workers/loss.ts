import { ConfigError } from "@tokenrl/core";
import type { CausalLM } from "@tokenrl/policy";
import { createActorLoss } from "../loss.js";
import { sftShardLoss } from "../sft.js";
import type { ActorLoss } from "../loss.js";
import type { RecipeSpec } from "../recipe.js";

/**
 * How a worker builds the actor loss, as plain data (it crosses a thread boundary):
 * - `recipe`: `createActorLoss(model, recipe)`, the trainer's loss; the
 *   recipe's objective, partitioner and estimator may come from plugins (the
 *   pool's `plugins`, which every worker imports first);
 * - `module`: `import(module)[exportName](model, options)` returns an ActorLoss:
 *   any loss a user writes, rebuilt the same way in every worker.
 */
export type WorkerLossSpec =
  | { kind: "recipe"; recipe: RecipeSpec }
  | { kind: "sft" }
  | { kind: "module"; module: string; exportName?: string; options?: unknown };

export type ActorLossFactory = (model: CausalLM, options: unknown) => ActorLoss | Promise<ActorLoss>;

/** The ActorLoss for `spec`: the same function on the main thread and in every worker. */
export async function buildActorLoss(model: CausalLM, spec: WorkerLossSpec): Promise<ActorLoss> {
  if (spec.kind === "recipe") return createActorLoss(model, spec.recipe);
  if (spec.kind === "sft") return sftShardLoss(model);
  if (spec.kind === "module") {
    const mod = (await import(spec.module)) as Record<string, unknown>;
    const name = spec.exportName ?? "createActorLoss";
    const factory = mod[name];
    if (typeof factory !== "function")
      throw new ConfigError("loss.exportName", `${spec.module} exports no function "${name}"`);
    return (factory as ActorLossFactory)(model, spec.options);
  }
  throw new ConfigError(
    "loss.kind",
    `expected "recipe", "sft" or "module", got ${JSON.stringify((spec as { kind?: unknown }).kind)}`,
  );
}
