import { CharTokenizer, createPolicy, makeConfig } from "@tokenrl/policy";
import type { CausalLM } from "@tokenrl/policy";

/** The tiny test policy: 2 layers, hidden 32, over the character tokenizer (pad 0, bos 1, eos 2). */
export const tokenizer = new CharTokenizer();

export function tinyPolicy(seed = 11): CausalLM {
  return createPolicy(
    makeConfig({
      modelType: "qwen3",
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 32,
      intermediateSize: 64,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 8,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      // A wide init makes logits spread out, so greedy choices are not near-ties.
      initializerRange: 0.3,
    }),
    { seed },
  );
}
