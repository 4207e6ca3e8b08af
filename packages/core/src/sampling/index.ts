// The one token sampler (rollout's batched generation, policy's single-prompt
// generate, the completions server): vLLM's SamplingParams, logits
// processing, and seeded inverse-CDF sampling on the host or the device as
// `kernelPath()` decides.
export * from "./params.js";
export { sampleOnHost } from "./host.js";
export type { SampledTokens } from "./host.js";
export * from "./sampling.js";
