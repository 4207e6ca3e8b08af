/**
 * Ops of @tokenrl/objectives (`kl` and `loss/<name>` for every objective in
 * its registry), run through its public API: the objective by its registry
 * name, d loss / d logProbs by tfjs autograd (`lossAndGrad`), and the metrics
 * the objective reports under FORMAT.md's names (the runner compares those a
 * case expects). The table is built from the registry when the runner loads
 * this module, so an objective defined with `defineObjective` (and imported
 * before the run) has its op without an edit here.
 */
import { ConfigError, batchFromArrays, disposeBatch, isVectorField, tf } from "@tokenrl/core";
import type { BatchArrays, TrainingBatch } from "@tokenrl/core";
import { KL_ESTIMATORS, klPenalty, lossAndGrad, objectives, readMetrics } from "@tokenrl/objectives";
import type { Objective } from "@tokenrl/objectives";
import { BadParamError, checkParams, matrix, stringParam, vector } from "../op.js";
import type { CaseInput, OpHandler, OpResult } from "../op.js";

function buildBatch(c: CaseInput, fields: readonly string[]): TrainingBatch {
  const arrays: BatchArrays & { responseMask: number[][] } = { responseMask: matrix(c, "responseMask") };
  const out = arrays as Record<string, number[] | number[][]>;
  for (const name of fields) out[name] = isVectorField(name) ? vector(c, name) : matrix(c, name);
  return batchFromArrays(arrays);
}

/**
 * `loss/<name>`: the case's params are the objective's own options, checked
 * by the objective (an unknown one is UNKNOWN_PARAM, a bad value BAD_PARAM).
 * The inputs are `responseMask` and the fields the objective requires. A
 * trainer-wide `aggregation` param is ignored by objectives that fix their
 * own (verl always aggregates GSPO and SAPO seq-mean-token-mean).
 */
// biome-ignore lint/suspicious/noExplicitAny: any objective of the registry
function lossHandler(objective: Objective<any>): OpHandler {
  const options = Object.keys(objective.defaults);
  const fixesAggregation = !options.includes("aggregation");
  return async (c: CaseInput): Promise<OpResult> => {
    checkParams(c, fixesAggregation ? [...options, "aggregation"] : options);
    const given: Record<string, unknown> = { ...c.params };
    if (fixesAggregation) delete given.aggregation;
    let resolved: object;
    try {
      resolved = objective.resolve(given);
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new BadParamError(err.path.slice(objective.name.length + 1), err.message.slice(err.path.length + 2));
      }
      throw err;
    }
    const batch = buildBatch(c, objective.requires);
    try {
      const r = lossAndGrad((b) => objective.compute(b, resolved), batch);
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

/** Built when called (the loader calls it once per run), so objectives registered before the run are included. */
export function ops(): Record<string, OpHandler> {
  const table: Record<string, OpHandler> = { kl };
  for (const name of objectives.list()) table[`loss/${name}`] = lossHandler(objectives.get(name));
  return table;
}
