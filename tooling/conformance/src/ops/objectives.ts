/**
 * Ops of @tokenrl/objectives (`kl` and every `loss/*`), run through its public
 * API: the objective by its registry name, d loss / d logProbs by tfjs
 * autograd (`lossAndGrad`), and the metrics the objective reports under
 * FORMAT.md's names (the runner compares those a case expects).
 */
import { AGGREGATION_MODES, batchFromArrays, disposeBatch, tf } from "@tokenrl/core";
import type { AggregationMode, BatchArrays, BatchField, TrainingBatch } from "@tokenrl/core";
import { KL_ESTIMATORS, klPenalty, lossAndGrad, objectives, readMetrics } from "@tokenrl/objectives";
import { booleanParam, checkParams, matrix, numberParam, stringParam, vector } from "../op.js";
import type { CaseInput, OpHandler, OpResult } from "../op.js";

type Reader = (c: CaseInput) => unknown;

interface LossOp {
  /** Registered objective name. */
  objective: string;
  /** Case params and how to read each (they are the objective's own option names). */
  params: Record<string, Reader>;
  /** Params the reference accepts but ignores (verl always aggregates SAPO seq-mean-token-mean). */
  ignored?: readonly string[];
  /** `[B][T]` inputs besides responseMask and logProbs, then `[B]` inputs. */
  matrices: readonly BatchField[];
  vectors?: readonly BatchField[];
}

const num =
  (name: string, fallback: number): Reader =>
  (c) =>
    numberParam(c, name, fallback);
const nullableNum =
  (name: string, fallback: number | null): Reader =>
  (c) =>
    numberParam(c, name, fallback, true);
const aggregation =
  (fallback: AggregationMode): Reader =>
  (c) =>
    stringParam(c, "aggregation", AGGREGATION_MODES, fallback);

const LOSS_OPS: Record<string, LossOp> = {
  "loss/ppo-clip": {
    objective: "ppo-clip",
    params: {
      clipLow: num("clipLow", 0.2),
      clipHigh: num("clipHigh", 0.2),
      dualClip: nullableNum("dualClip", 3),
      aggregation: aggregation("token-mean"),
      lossScaleFactor: nullableNum("lossScaleFactor", null),
    },
    matrices: ["oldLogProbs", "advantages"],
  },
  "loss/gspo": {
    objective: "gspo",
    params: { clipLow: num("clipLow", 3e-4), clipHigh: num("clipHigh", 4e-4) },
    matrices: ["oldLogProbs", "advantages"],
  },
  "loss/sapo": {
    objective: "sapo",
    params: { tauPos: num("tauPos", 1.0), tauNeg: num("tauNeg", 1.05) },
    ignored: ["aggregation"],
    matrices: ["oldLogProbs", "advantages"],
  },
  "loss/cispo": {
    objective: "cispo",
    params: {
      clipLow: num("clipLow", 0.2),
      clipHigh: num("clipHigh", 0.2),
      aggregation: aggregation("token-mean"),
      lossScaleFactor: nullableNum("lossScaleFactor", null),
    },
    matrices: ["oldLogProbs", "advantages"],
  },
  "loss/htpo": {
    objective: "htpo",
    params: {
      difficultyThreshold: num("difficultyThreshold", 0.6),
      highEntropyRatio: num("highEntropyRatio", 0.2),
      detachLowRatio: num("detachLowRatio", 0.006),
      detachHighRatio: num("detachHighRatio", 0.02),
      clipLow: num("clipLow", 0.2),
      clipHigh: num("clipHigh", 0.28),
      dualClip: nullableNum("dualClip", 10),
      sign: (c) => stringParam(c, "sign", ["paper", "released"] as const, "paper"),
    },
    matrices: ["oldLogProbs", "advantages", "entropy"],
    vectors: ["correct", "groupIds"],
  },
  "loss/cppo": {
    objective: "cppo",
    params: {
      delta: num("delta", 0.15),
      wMin: num("wMin", 0.8),
      budgetFloor: num("budgetFloor", 0.02),
      dynamicBudget: (c) => booleanParam(c, "dynamicBudget", true),
      aggregation: aggregation("seq-mean-token-sum-norm"),
      lossScaleFactor: nullableNum("lossScaleFactor", null),
    },
    matrices: ["rolloutLogProbs", "advantages"],
  },
};

function buildBatch(c: CaseInput, matrices: readonly BatchField[], vectors: readonly BatchField[] = []): TrainingBatch {
  const arrays: BatchArrays & { responseMask: number[][] } = { responseMask: matrix(c, "responseMask") };
  const fields: BatchArrays = arrays;
  for (const name of matrices) fields[name] = matrix(c, name);
  for (const name of vectors) fields[name] = vector(c, name);
  return batchFromArrays(arrays);
}

function lossHandler(spec: LossOp): OpHandler {
  return async (c: CaseInput): Promise<OpResult> => {
    checkParams(c, [...Object.keys(spec.params), ...(spec.ignored ?? [])]);
    const options: Record<string, unknown> = {};
    for (const [name, read] of Object.entries(spec.params)) if (name in c.params) options[name] = read(c);
    const objective = objectives.get(spec.objective);
    const batch = buildBatch(c, ["logProbs", ...spec.matrices], spec.vectors);
    try {
      const r = lossAndGrad((b) => objective.compute(b, options), batch);
      try {
        const loss = (await r.loss.data())[0]!;
        const gradLogProbs = (await r.grad.array()) as number[][];
        return { outputs: { loss, gradLogProbs }, metrics: await readMetrics(r.metrics) };
      } finally {
        tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
      }
    } finally {
      disposeBatch(batch);
    }
  };
}

/** `kl`: the per-token estimate times responseMask (verl multiplies in `apply_kl_penalty`). */
const kl: OpHandler = (c) => {
  checkParams(c, ["estimator"]);
  const estimator = stringParam(c, "estimator", KL_ESTIMATORS, "k3");
  const batch = buildBatch(c, ["logProbs", "refLogProbs"]);
  try {
    const out = tf.tidy(() => tf.mul(klPenalty(batch.logProbs!, batch.refLogProbs!, estimator), batch.responseMask));
    const value = out.arraySync() as number[][];
    out.dispose();
    return { outputs: { kl: value } };
  } finally {
    disposeBatch(batch);
  }
};

export const ops: Record<string, OpHandler> = {
  kl,
  ...Object.fromEntries(Object.entries(LOSS_OPS).map(([op, spec]) => [op, lossHandler(spec)])),
};
