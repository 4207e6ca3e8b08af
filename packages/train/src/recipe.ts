import { advantageEstimators } from "@tokenrl/advantages";
import {
  AGGREGATION_MODES,
  ConfigError,
  assertAggregationMode,
  batchFromArrays,
  disposeBatch,
  tf,
} from "@tokenrl/core";
import type { AggregationMode } from "@tokenrl/core";
import { assertKlEstimator, disposeResult, objectives } from "@tokenrl/objectives";
import { disposePartition, partitioners } from "@tokenrl/partitioners";
import { getPreset } from "./presets.js";
import type { EntropySpec, KlSpec, NamedOptions, OverlongSpec, Recipe, RecipeSpec } from "./recipe-types.js";

export type { EntropySpec, KlSpec, NamedOptions, OverlongSpec, Recipe, RecipeSpec };

/** What a user writes: a preset name and/or any part of the recipe (explicit parts win). */
export interface RecipeInput {
  preset?: string | null;
  advantage?: { name?: string; options?: Record<string, unknown> };
  partition?: { name?: string; options?: Record<string, unknown> } | null;
  objective?: { name?: string; options?: Record<string, unknown> };
  aggregation?: string;
  kl?: { coef?: number; estimator?: string } | null;
  entropy?: { coef?: number } | null;
  dynamicSampling?: boolean;
  overlong?: { maxLength?: number; bufferLength?: number; factor?: number } | null;
}

/**
 * Resolves a recipe: the preset's parts, each replaced by the explicit part
 * when given. Options of a named part merge over the preset's only when the
 * name is the preset's (another estimator or objective starts from its own
 * defaults). Then `validateRecipe`.
 */
export function resolveRecipe(input: RecipeInput): Recipe {
  const base = input.preset ? getPreset(input.preset) : undefined;
  const named = (key: "advantage" | "objective", given: RecipeInput["advantage"]): NamedOptions => {
    const name = given?.name ?? base?.[key].name;
    if (!name)
      throw new ConfigError(
        `${key}.name`,
        `required when no preset is given (e.g. ${key === "advantage" ? "grpo" : "ppo-clip"})`,
      );
    const inherited = base && base[key].name === name ? base[key].options : {};
    return { name, options: { ...inherited, ...(given?.options ?? {}) } };
  };
  const partition = (): NamedOptions | null => {
    if (input.partition === null) return null;
    if (input.partition === undefined) return base?.partition ?? null;
    const name = input.partition.name ?? base?.partition?.name;
    if (!name) throw new ConfigError("partition.name", "required (e.g. htpo, entropy-quantile, position)");
    const inherited = base?.partition && base.partition.name === name ? base.partition.options : {};
    return { name, options: { ...inherited, ...(input.partition.options ?? {}) } };
  };
  const optional = <T extends object>(
    given: Partial<T> | null | undefined,
    from: T | null | undefined,
    defaults: T,
  ) => {
    if (given === null) return null;
    if (given === undefined) return from ?? null;
    return { ...defaults, ...(from ?? {}), ...given } as T;
  };
  const recipe: Recipe = {
    preset: input.preset ?? null,
    advantage: named("advantage", input.advantage),
    partition: partition(),
    objective: named("objective", input.objective),
    aggregation: (input.aggregation ?? base?.aggregation ?? "token-mean") as AggregationMode,
    kl: optional<KlSpec>(input.kl as Partial<KlSpec>, base?.kl, { coef: 0.001, estimator: "k3" }),
    entropy: optional<EntropySpec>(input.entropy, base?.entropy, { coef: 0 }),
    dynamicSampling: input.dynamicSampling ?? base?.dynamicSampling ?? false,
    overlong: optional<OverlongSpec>(input.overlong, base?.overlong, {
      maxLength: 20480,
      bufferLength: 4096,
      factor: 1,
    }),
  };
  validateRecipe(recipe);
  return recipe;
}

/** The objective's options with the recipe's aggregation mode, for objectives that take one. */
export function objectiveOptionsOf(recipe: RecipeSpec): Record<string, unknown> {
  const objective = objectives.get(recipe.objective.name);
  const takesAggregation = "aggregation" in (objective.defaults as object);
  return takesAggregation
    ? { ...recipe.objective.options, aggregation: recipe.aggregation }
    : { ...recipe.objective.options };
}

/**
 * Checks a whole recipe before any work: every name is registered, every
 * number is in range, and the estimator, partitioner and objective accept
 * their options — by running each once on a tiny made-up batch of two groups,
 * so an unknown or bad option fails here with its name, not after a warm-up.
 */
export function validateRecipe(recipe: RecipeSpec): void {
  for (const key of ["advantage", "objective"] as const) {
    const part = recipe[key];
    if (!part || typeof part.name !== "string") throw new ConfigError(`${key}.name`, "expected a registered name");
    if (!isPlain(part.options))
      throw new ConfigError(`${key}.options`, `expected an object, got ${JSON.stringify(part.options)}`);
  }
  if (!advantageEstimators.has(recipe.advantage.name)) advantageEstimators.get(recipe.advantage.name);
  objectives.get(recipe.objective.name);
  if (recipe.partition) partitioners.get(recipe.partition.name);
  if (!(AGGREGATION_MODES as readonly string[]).includes(recipe.aggregation))
    assertAggregationMode(String(recipe.aggregation), "aggregation");
  if (recipe.objective.options.aggregation !== undefined)
    throw new ConfigError("objective.options.aggregation", "set the recipe's top-level `aggregation` instead");
  if (recipe.kl) {
    coefficient("kl.coef", recipe.kl.coef, 0);
    assertKlEstimator(String(recipe.kl.estimator), "kl.estimator");
  }
  if (recipe.entropy) coefficient("entropy.coef", recipe.entropy.coef, Number.NEGATIVE_INFINITY);
  if (typeof recipe.dynamicSampling !== "boolean")
    throw new ConfigError("dynamicSampling", `expected true or false, got ${JSON.stringify(recipe.dynamicSampling)}`);
  if (recipe.overlong) {
    const o = recipe.overlong;
    if (!(Number.isInteger(o.maxLength) && o.maxLength >= 1))
      throw new ConfigError("overlong.maxLength", `expected an integer >= 1, got ${JSON.stringify(o.maxLength)}`);
    if (!(Number.isInteger(o.bufferLength) && o.bufferLength >= 1 && o.bufferLength <= o.maxLength))
      throw new ConfigError(
        "overlong.bufferLength",
        `expected an integer in [1, overlong.maxLength], got ${JSON.stringify(o.bufferLength)}`,
      );
    coefficient("overlong.factor", o.factor, 0);
  }
  dryRun(recipe);
}

function coefficient(path: string, x: unknown, min: number): void {
  if (typeof x !== "number" || !Number.isFinite(x) || x < min)
    throw new ConfigError(
      path,
      `expected a finite number${min > Number.NEGATIVE_INFINITY ? ` >= ${min}` : ""}, got ${JSON.stringify(x)}`,
    );
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Two groups of two responses, three tokens, every field an algorithm may read. */
function dryRun(recipe: RecipeSpec): void {
  const rows = (a: number[]) => [a, a.map((x) => x * 0.5), a.map((x) => x * 0.25), a.map((x) => x * 0.75)];
  const batch = batchFromArrays({
    promptIds: [[1], [1], [2], [2]],
    promptMask: [[1], [1], [1], [1]],
    responseIds: [
      [3, 4, 5],
      [3, 4, 0],
      [5, 4, 3],
      [5, 0, 0],
    ],
    responseMask: [
      [1, 1, 1],
      [1, 1, 0],
      [1, 1, 1],
      [1, 0, 0],
    ],
    logProbs: rows([-1, -0.5, -2]),
    oldLogProbs: rows([-1.1, -0.4, -2]),
    rolloutLogProbs: rows([-1.2, -0.5, -1.9]),
    refLogProbs: rows([-1, -0.6, -2.1]),
    entropy: rows([0.5, 1.5, 1]),
    tokenRewards: [
      [0, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
      [1, 0, 0],
    ],
    values: rows([0.1, 0.2, 0.3]),
    advantages: rows([1, 1, 1]),
    returns: rows([1, 1, 1]),
    groupIds: [0, 0, 1, 1],
    correct: [1, 0, 0, 1],
  });
  const options = objectiveOptionsOf(recipe);
  try {
    tf.tidy(() => {
      const adv = advantageEstimators.get(recipe.advantage.name)(batch, recipe.advantage.options);
      tf.dispose([adv.advantages, adv.returns]);
      const partition = recipe.partition
        ? partitioners.get(recipe.partition.name).partition(batch, recipe.partition.options)
        : undefined;
      try {
        disposeResult(objectives.get(recipe.objective.name).compute(batch, options, partition ? { partition } : {}));
      } finally {
        if (partition) disposePartition(partition);
      }
    });
  } finally {
    disposeBatch(batch);
  }
}
