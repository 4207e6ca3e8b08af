/**
 * Ops of @tokenrl/advantages (advantage/*) and @tokenrl/core (aggregate),
 * run through their public APIs. `kl` and `loss/*` belong to
 * @tokenrl/objectives and live in ops/objectives.ts.
 */
import { advantageEstimators } from "@tokenrl/advantages";
import type { AdvantageEstimatorName } from "@tokenrl/advantages";
import { AGGREGATION_MODES, aggregateLoss, batchFromArrays, disposeBatch, tf } from "@tokenrl/core";
import type { BatchArrays } from "@tokenrl/core";
import { checkParams, matrix, numberParam, stringParam, vector } from "../op.js";
import type { CaseInput, OpHandler, OpResult } from "../op.js";

interface AdvantageOp {
  estimator: AdvantageEstimatorName;
  /** The case's params, passed through unchanged: they are the estimator's own param names. */
  params: readonly string[];
  inputs: readonly ("tokenRewards" | "groupIds" | "values")[];
}

const ADVANTAGE_OPS: Record<string, AdvantageOp> = {
  "advantage/grpo": {
    estimator: "grpo",
    params: ["normalizeByStd", "epsilon", "ddof"],
    inputs: ["tokenRewards", "groupIds"],
  },
  "advantage/dr-grpo": { estimator: "dr-grpo", params: [], inputs: ["tokenRewards", "groupIds"] },
  "advantage/rloo": { estimator: "rloo", params: [], inputs: ["tokenRewards", "groupIds"] },
  "advantage/reinforce-plus-plus": { estimator: "reinforce-plus-plus", params: ["gamma"], inputs: ["tokenRewards"] },
  "advantage/reinforce-plus-plus-baseline": {
    estimator: "reinforce-plus-plus-baseline",
    params: [],
    inputs: ["tokenRewards", "groupIds"],
  },
  "advantage/gae": { estimator: "gae", params: ["gamma", "lambda"], inputs: ["tokenRewards", "values"] },
};

function advantageHandler(spec: AdvantageOp): OpHandler {
  return (c: CaseInput): OpResult => {
    checkParams(c, spec.params);
    const arrays: BatchArrays & { responseMask: number[][] } = { responseMask: matrix(c, "responseMask") };
    for (const name of spec.inputs) arrays[name] = name === "groupIds" ? vector(c, name) : matrix(c, name);
    const batch = batchFromArrays(arrays);
    try {
      const { advantages, returns } = advantageEstimators.get(spec.estimator)(batch, c.params);
      const outputs = { advantages: advantages.arraySync(), returns: returns.arraySync() };
      tf.dispose([advantages, returns]);
      return { outputs };
    } finally {
      disposeBatch(batch);
    }
  };
}

/** `aggregate`: core's aggregateLoss over `values` and `responseMask`; `lossScaleFactor: null` = the default (T). */
const aggregate: OpHandler = (c) => {
  checkParams(c, ["mode", "lossScaleFactor"]);
  const mode = stringParam(c, "mode", AGGREGATION_MODES, "token-mean");
  const lossScaleFactor = numberParam(c, "lossScaleFactor", null, true);
  const values = matrix(c, "values");
  const mask = matrix(c, "responseMask");
  const value = tf.tidy(
    () => aggregateLoss(tf.tensor2d(values), tf.tensor2d(mask), mode, { lossScaleFactor }).dataSync()[0]!,
  );
  return { outputs: { value } };
};

export const ops: Record<string, OpHandler> = {
  ...Object.fromEntries(Object.entries(ADVANTAGE_OPS).map(([op, spec]) => [op, advantageHandler(spec)])),
  aggregate,
};
