import { createRegistry, resolveOptions } from "@tokenrl/core";
import type { OptionChecks, Registry } from "@tokenrl/core";
import { readBatch } from "./host.js";
import type { HostBatch } from "./host.js";
import type { AdvantageBatch, AdvantageEstimator, AdvantageField, AdvantageResult } from "./types.js";

/** The built-in names a trainer config uses (verl's `algorithm.adv_estimator` spelling, hyphenated). */
export const ADVANTAGE_ESTIMATOR_NAMES = [
  "grpo",
  "dr-grpo",
  "rloo",
  "reinforce-plus-plus",
  "reinforce-plus-plus-baseline",
  "gae",
] as const;
export type AdvantageEstimatorName = (typeof ADVANTAGE_ESTIMATOR_NAMES)[number];

/**
 * Every estimator under its config name, with the uniform signature
 * `(batch, params) => { advantages, returns }`; params are plain data checked
 * at run time. A user's package adds one with `defineAdvantageEstimator`.
 *
 *     const { advantages } = advantageEstimators.get(config.advantage.name)(batch, config.advantage.params);
 */
export const advantageEstimators: Registry<AdvantageEstimator> =
  createRegistry<AdvantageEstimator>("advantage estimator");

/** What `defineAdvantageEstimator` needs. */
export interface AdvantageEstimatorSpec<P extends object> {
  name: string;
  description: string;
  /** Batch fields read besides `responseMask`; checked (shape, dtype, presence) before `estimate`. */
  requires: readonly AdvantageField[];
  defaults: Readonly<Required<P>>;
  /** One check per param; its message says what was expected. */
  validate: OptionChecks<Required<P>>;
  /** The estimate on resolved params; `host` is the mask read once (see ./host.ts). */
  estimate: (batch: AdvantageBatch, p: Required<P>, host: HostBatch) => AdvantageResult;
}

/** A typed estimator: the registered one, with its params typed. */
export type TypedAdvantageEstimator<P extends object> = AdvantageEstimator &
  ((batch: AdvantageBatch, params?: P) => AdvantageResult);

/**
 * Defines an estimator: resolves and checks its params (core's
 * `resolveOptions`: ConfigError `<name>.<param>`), reads and checks the batch
 * (`requires`, a 0/1 mask), runs `estimate`, and registers it under its name.
 */
export function defineAdvantageEstimator<P extends object>(
  spec: AdvantageEstimatorSpec<P>,
): TypedAdvantageEstimator<P> {
  const resolve = (params?: unknown) =>
    resolveOptions<Required<P>>(spec.name, spec.defaults, params, spec.validate) as Required<P>;
  const estimator = ((batch: AdvantageBatch, params?: unknown) => {
    const p = resolve(params);
    return spec.estimate(batch, p, readBatch(batch, spec.requires));
  }) as TypedAdvantageEstimator<P>;
  Object.defineProperties(estimator, {
    estimatorName: { value: spec.name, enumerable: true },
    description: { value: spec.description, enumerable: true },
    requires: { value: spec.requires, enumerable: true },
    defaults: { value: spec.defaults, enumerable: true },
    resolve: { value: resolve, enumerable: true },
  });
  advantageEstimators.register(spec.name, estimator);
  return estimator;
}

/** Every registered estimator (plugins' included), by name: for `--help` and docs. */
export function describeAdvantageEstimators(): {
  name: string;
  description: string;
  requires: readonly string[];
  defaults: Readonly<Record<string, unknown>>;
}[] {
  return advantageEstimators.list().map((name) => {
    const e = advantageEstimators.get(name);
    return { name, description: e.description ?? "", requires: e.requires ?? [], defaults: e.defaults ?? {} };
  });
}
