/**
 * Ops of @tokenrl/advantages (`advantage/<name>` for every registered
 * estimator) and @tokenrl/core (aggregate), run through their public APIs. `kl` and `loss/*` belong to
 * @tokenrl/objectives and live in ops/objectives.ts.
 */
import { advantageEstimators } from "@tokenrl/advantages";
import type { AdvantageEstimator } from "@tokenrl/advantages";
import { AGGREGATION_MODES, ConfigError, aggregateLoss, batchFromArrays, disposeBatch, tf } from "@tokenrl/core";
import type { BatchArrays } from "@tokenrl/core";
import { BadParamError, checkParams, matrix, numberParam, stringParam, vector } from "../op.js";
import type { CaseInput, OpHandler, OpResult } from "../op.js";

/**
 * `advantage/<name>` for every estimator in the registry: the case's params are
 * the estimator's own (checked by it: unknown is UNKNOWN_PARAM, a bad value
 * BAD_PARAM), the inputs `responseMask` and the fields it requires.
 */
function advantageHandler(estimator: AdvantageEstimator): OpHandler {
  // A plain function registered without defineAdvantageEstimator has no defaults or requires:
  // its params go through unchecked here (it checks them itself), its inputs are every field given.
  const params = estimator.defaults ? Object.keys(estimator.defaults) : undefined;
  const requires = estimator.requires ?? (["tokenRewards", "groupIds", "values"] as const);
  return (c: CaseInput): OpResult => {
    if (params) checkParams(c, params);
    try {
      estimator.resolve?.(c.params);
    } catch (err) {
      if (err instanceof ConfigError) {
        const prefix = `${estimator.estimatorName}.`;
        const param = err.path.startsWith(prefix) ? err.path.slice(prefix.length) : err.path;
        throw new BadParamError(param, err.message.slice(err.path.length + 2));
      }
      throw err;
    }
    const arrays: BatchArrays & { responseMask: number[][] } = { responseMask: matrix(c, "responseMask") };
    for (const name of requires) {
      if (!estimator.requires && c.inputs[name] === undefined) continue;
      arrays[name] = name === "groupIds" ? vector(c, name) : matrix(c, name);
    }
    const batch = batchFromArrays(arrays);
    try {
      const { advantages, returns } = estimator(batch, c.params);
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

/** Built when the loader calls it, so estimators registered before the run are included. */
export function ops(): Record<string, OpHandler> {
  const table: Record<string, OpHandler> = { aggregate };
  for (const name of advantageEstimators.list())
    table[`advantage/${name}`] = advantageHandler(advantageEstimators.get(name));
  return table;
}
