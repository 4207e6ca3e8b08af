import { createRegistry } from "@tokenrl/core";
import type { Registry } from "@tokenrl/core";
import type { RecipeSpec } from "./recipe-types.js";

/**
 * A preset is a named default recipe: which advantage estimator, partition,
 * objective (with options), aggregation, KL / entropy terms, dynamic sampling
 * and overlong shaping a published method uses. Nothing here runs; a trainer
 * resolves a preset (plus the user's explicit overrides) into a `Recipe` and
 * looks every name up in its registry. A plugin can `presets.register(...)`.
 */
export interface Preset extends RecipeSpec {
  readonly name: string;
  /** The paper or reference recipe the numbers come from. */
  readonly source: string;
}

export const presets: Registry<Preset> = createRegistry<Preset>("preset");

const GRPO_ADVANTAGE = { name: "grpo", options: { normalizeByStd: true, epsilon: 1e-6 } };
const DAPO_OVERLONG = { maxLength: 20480, bufferLength: 4096, factor: 1.0 };

const builtIn: Preset[] = [
  {
    name: "grpo",
    source:
      "DeepSeekMath (arXiv 2402.03300): group-normalised advantage, clip 0.2, k3 KL beta 0.04, seq-mean-token-mean",
    advantage: GRPO_ADVANTAGE,
    partition: null,
    objective: { name: "ppo-clip", options: { clipLow: 0.2, clipHigh: 0.2, dualClip: null } },
    aggregation: "seq-mean-token-mean",
    kl: { coef: 0.04, estimator: "k3" },
    entropy: null,
    dynamicSampling: false,
    overlong: null,
  },
  {
    name: "dr-grpo",
    source: "Dr.GRPO (arXiv 2503.20783): no std normalisation, no length normalisation (token-sum / constant), no KL",
    advantage: { name: "dr-grpo", options: {} },
    partition: null,
    objective: { name: "ppo-clip", options: { clipLow: 0.2, clipHigh: 0.2, dualClip: null } },
    aggregation: "seq-mean-token-sum-norm",
    kl: null,
    entropy: null,
    dynamicSampling: false,
    overlong: null,
  },
  {
    name: "dapo",
    source:
      "DAPO (arXiv 2503.14476): clip-higher 0.2/0.28, dual clip 10 (verl recipe), token-mean, dynamic sampling, soft overlong penalty, no KL",
    advantage: GRPO_ADVANTAGE,
    partition: null,
    objective: { name: "ppo-clip", options: { clipLow: 0.2, clipHigh: 0.28, dualClip: 10 } },
    aggregation: "token-mean",
    kl: null,
    entropy: null,
    dynamicSampling: true,
    overlong: DAPO_OVERLONG,
  },
  {
    name: "gspo",
    source: "GSPO (arXiv 2507.18071): sequence-level ratio, clip 3e-4 / 4e-4, seq-mean-token-mean, no KL",
    advantage: GRPO_ADVANTAGE,
    partition: null,
    objective: { name: "gspo", options: { clipLow: 3e-4, clipHigh: 4e-4 } },
    aggregation: "seq-mean-token-mean",
    kl: null,
    entropy: null,
    dynamicSampling: false,
    overlong: null,
  },
  {
    name: "sapo",
    source: "SAPO (arXiv 2511.20347): soft gate, tau_pos 1.0, tau_neg 1.05, seq-mean-token-mean, no KL",
    advantage: GRPO_ADVANTAGE,
    partition: null,
    objective: { name: "sapo", options: { tauPos: 1.0, tauNeg: 1.05 } },
    aggregation: "seq-mean-token-mean",
    kl: null,
    entropy: null,
    dynamicSampling: false,
    overlong: null,
  },
  {
    name: "cispo",
    source:
      "CISPO (MiniMax-M1, arXiv 2506.13585): clipped IS weight, no lower bound (clipLow 1), token-mean, no KL; eps_high is tokenrl's 0.28 (M1 tunes it)",
    advantage: GRPO_ADVANTAGE,
    partition: null,
    objective: { name: "cispo", options: { clipLow: 1, clipHigh: 0.28 } },
    aggregation: "token-mean",
    kl: null,
    entropy: null,
    dynamicSampling: false,
    overlong: null,
  },
  {
    name: "htpo",
    source:
      "HTPO (arXiv 2605.08283): DAPO base (clip 0.2/0.28, dual clip 10, token-mean, dynamic sampling, overlong penalty) with the HTPO cells",
    advantage: GRPO_ADVANTAGE,
    partition: null,
    objective: {
      name: "htpo",
      options: {
        difficultyThreshold: 0.6,
        highEntropyRatio: 0.2,
        detachLowRatio: 0.006,
        detachHighRatio: 0.02,
        clipLow: 0.2,
        clipHigh: 0.28,
        dualClip: 10,
        sign: "paper",
      },
    },
    aggregation: "token-mean",
    kl: null,
    entropy: null,
    dynamicSampling: true,
    overlong: DAPO_OVERLONG,
  },
  {
    name: "cppo",
    source:
      "CPPO (arXiv 2606.10968): mean-centred advantages without std, delta 0.15, wMin 0.8, budget floor 0.02 (dynamic), seq-mean-token-sum-norm",
    advantage: { name: "dr-grpo", options: {} },
    partition: null,
    objective: { name: "cppo", options: { delta: 0.15, wMin: 0.8, budgetFloor: 0.02, dynamicBudget: true } },
    aggregation: "seq-mean-token-sum-norm",
    kl: null,
    entropy: null,
    dynamicSampling: false,
    overlong: null,
  },
];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

for (const p of builtIn) presets.register(p.name, deepFreeze(p));

/** The preset registered as `name` (an UnknownNameError lists the known ones). */
export function getPreset(name: string): Preset {
  return presets.get(name);
}

/** Registered preset names, sorted. */
export function listPresets(): string[] {
  return presets.list();
}
