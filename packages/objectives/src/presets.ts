import { UnknownNameError } from "@tokenrl/core";
import type { AggregationMode } from "@tokenrl/core";
import type { KlEstimator } from "./kl.js";

/**
 * Published recipes as plain data: which advantage estimator (by the name
 * @tokenrl/advantages registers it under), which objective with which
 * options, how the loss is aggregated, and the KL / entropy terms. A trainer
 * reads a preset and looks each name up in its registry; nothing here runs.
 */
export interface Preset {
  readonly name: string;
  /** The paper or reference recipe the numbers come from. */
  readonly source: string;
  /** Advantage estimator name (@tokenrl/advantages: grpo, dr-grpo, rloo, reinforce-plus-plus, ...). */
  readonly advantageEstimator: string;
  readonly advantageOptions: Readonly<Record<string, unknown>>;
  /** Objective name in this package's registry. */
  readonly objective: string;
  readonly objectiveOptions: Readonly<Record<string, unknown>>;
  /** How the policy loss is aggregated (fixed by the objective for gspo and sapo). */
  readonly aggregation: AggregationMode;
  readonly kl: { readonly coef: number; readonly estimator: KlEstimator } | null;
  readonly entropyCoef: number;
  /** DAPO dynamic sampling: drop groups whose verdicts are all equal. */
  readonly dynamicSampling: boolean;
  /** DAPO soft overlong penalty (null = off). */
  readonly overlongPenalty: {
    readonly maxLength: number;
    readonly bufferLength: number;
    readonly factor: number;
  } | null;
}

const DAPO_OVERLONG = Object.freeze({ maxLength: 20480, bufferLength: 4096, factor: 1.0 });

const list: Preset[] = [
  {
    name: "grpo",
    source:
      "DeepSeekMath (arXiv 2402.03300): group-normalised advantage, clip 0.2, k3 KL beta 0.04, seq-mean-token-mean",
    advantageEstimator: "grpo",
    advantageOptions: { normalizeByStd: true, epsilon: 1e-6 },
    objective: "ppo-clip",
    objectiveOptions: { clipLow: 0.2, clipHigh: 0.2, dualClip: null, aggregation: "seq-mean-token-mean" },
    aggregation: "seq-mean-token-mean",
    kl: { coef: 0.04, estimator: "k3" },
    entropyCoef: 0,
    dynamicSampling: false,
    overlongPenalty: null,
  },
  {
    name: "dr-grpo",
    source: "Dr.GRPO (arXiv 2503.20783): no std normalisation, no length normalisation (token-sum / constant), no KL",
    advantageEstimator: "dr-grpo",
    advantageOptions: {},
    objective: "ppo-clip",
    objectiveOptions: { clipLow: 0.2, clipHigh: 0.2, dualClip: null, aggregation: "seq-mean-token-sum-norm" },
    aggregation: "seq-mean-token-sum-norm",
    kl: null,
    entropyCoef: 0,
    dynamicSampling: false,
    overlongPenalty: null,
  },
  {
    name: "dapo",
    source:
      "DAPO (arXiv 2503.14476): clip-higher 0.2/0.28, dual clip 10 (verl recipe), token-mean, dynamic sampling, soft overlong penalty, no KL",
    advantageEstimator: "grpo",
    advantageOptions: { normalizeByStd: true, epsilon: 1e-6 },
    objective: "ppo-clip",
    objectiveOptions: { clipLow: 0.2, clipHigh: 0.28, dualClip: 10, aggregation: "token-mean" },
    aggregation: "token-mean",
    kl: null,
    entropyCoef: 0,
    dynamicSampling: true,
    overlongPenalty: DAPO_OVERLONG,
  },
  {
    name: "gspo",
    source: "GSPO (arXiv 2507.18071): sequence-level ratio, clip 3e-4 / 4e-4, seq-mean-token-mean, no KL",
    advantageEstimator: "grpo",
    advantageOptions: { normalizeByStd: true, epsilon: 1e-6 },
    objective: "gspo",
    objectiveOptions: { clipLow: 3e-4, clipHigh: 4e-4 },
    aggregation: "seq-mean-token-mean",
    kl: null,
    entropyCoef: 0,
    dynamicSampling: false,
    overlongPenalty: null,
  },
  {
    name: "sapo",
    source: "SAPO (arXiv 2511.20347): soft gate, tau_pos 1.0, tau_neg 1.05, seq-mean-token-mean, no KL",
    advantageEstimator: "grpo",
    advantageOptions: { normalizeByStd: true, epsilon: 1e-6 },
    objective: "sapo",
    objectiveOptions: { tauPos: 1.0, tauNeg: 1.05 },
    aggregation: "seq-mean-token-mean",
    kl: null,
    entropyCoef: 0,
    dynamicSampling: false,
    overlongPenalty: null,
  },
  {
    name: "cispo",
    source:
      "CISPO (MiniMax-M1, arXiv 2506.13585): clipped IS weight, no lower bound (clipLow 1), token-mean, no KL; eps_high is tokenrl's 0.28 (M1 tunes it)",
    advantageEstimator: "grpo",
    advantageOptions: { normalizeByStd: true, epsilon: 1e-6 },
    objective: "cispo",
    objectiveOptions: { clipLow: 1, clipHigh: 0.28, aggregation: "token-mean" },
    aggregation: "token-mean",
    kl: null,
    entropyCoef: 0,
    dynamicSampling: false,
    overlongPenalty: null,
  },
  {
    name: "htpo",
    source:
      "HTPO (arXiv 2605.08283): DAPO base (clip 0.2/0.28, dual clip 10, token-mean, dynamic sampling, overlong penalty) with the HTPO cells",
    advantageEstimator: "grpo",
    advantageOptions: { normalizeByStd: true, epsilon: 1e-6 },
    objective: "htpo",
    objectiveOptions: {
      difficultyThreshold: 0.6,
      highEntropyRatio: 0.2,
      detachLowRatio: 0.006,
      detachHighRatio: 0.02,
      clipLow: 0.2,
      clipHigh: 0.28,
      dualClip: 10,
      sign: "paper",
      aggregation: "token-mean",
    },
    aggregation: "token-mean",
    kl: null,
    entropyCoef: 0,
    dynamicSampling: true,
    overlongPenalty: DAPO_OVERLONG,
  },
  {
    name: "cppo",
    source:
      "CPPO (arXiv 2606.10968): mean-centred advantages without std, delta 0.15, wMin 0.8, budget floor 0.02 (dynamic), seq-mean-token-sum-norm",
    advantageEstimator: "dr-grpo",
    advantageOptions: {},
    objective: "cppo",
    objectiveOptions: {
      delta: 0.15,
      wMin: 0.8,
      budgetFloor: 0.02,
      dynamicBudget: true,
      aggregation: "seq-mean-token-sum-norm",
    },
    aggregation: "seq-mean-token-sum-norm",
    kl: null,
    entropyCoef: 0,
    dynamicSampling: false,
    overlongPenalty: null,
  },
];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export const PRESETS: Readonly<Record<string, Preset>> = deepFreeze(Object.fromEntries(list.map((p) => [p.name, p])));

export function getPreset(name: string): Preset {
  const preset = PRESETS[name];
  if (!preset) throw new UnknownNameError("preset", name, Object.keys(PRESETS));
  return preset;
}

export function listPresets(): string[] {
  return Object.keys(PRESETS);
}
