// The sampler is core's (one sampler for rollout, policy's generate and the
// completions server; placement by core's kernelPath()). Re-exported here
// under the names rollout has always exported.
export {
  LOG_PROBS_MODES,
  filterLogits,
  isGreedy,
  processLogits,
  resolveSamplingParams,
  sampleTokens,
  sampleTokensSync,
} from "@tokenrl/core";
export type { LogProbsMode, ResolvedSamplingParams, SampledTokens, SamplingParams } from "@tokenrl/core";
