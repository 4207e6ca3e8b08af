import { createRng } from "@tokenrl/core";
import { type ModelConfig, type ModelConfigInput, makeConfig } from "./config.js";
import { CausalLM } from "./model.js";
import { type HostTensor, hfWeightShapes, paramsFromHf } from "./weights.js";

export interface CreatePolicyOptions {
  /** Seed of the initialisation; the same seed gives the same weights on every backend. */
  seed: number;
  /**
   * "normal" (default): HF's initialisation. "zeros": every parameter 0 (norm
   * weights 1), for a model whose weights are about to be overwritten (a
   * worker thread that loads them from shared memory): no random draws.
   */
  init?: "normal" | "zeros";
}

/**
 * A randomly initialised model, HF's `_init_weights` for these families: linear
 * and embedding weights ~ N(0, initializerRange^2), biases 0, norm weights 1.
 * Each tensor draws from its own stream `createRng(seed).fork(hfName)`, so
 * adding layers or changing one shape does not reshuffle the others.
 */
export function createPolicy(config: ModelConfig | ModelConfigInput, options: CreatePolicyOptions): CausalLM {
  const c = makeConfig(config);
  const root = createRng(options.seed);
  const host = new Map<string, HostTensor>();
  for (const [name, shape] of hfWeightShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (name.endsWith("norm.weight")) values.fill(1);
    else if (!name.endsWith(".bias") && options.init !== "zeros") {
      const rng = root.fork(name);
      for (let i = 0; i < size; i++) values[i] = rng.normal() * c.initializerRange;
    }
    host.set(name, { values, shape });
  }
  return new CausalLM(
    c,
    paramsFromHf(c, (n) => host.get(n)),
  );
}
