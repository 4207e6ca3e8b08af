import { describe, expect, it } from "vitest";
import { ConfigError } from "@tokenrl/core";
import { configFromHf, configToHf, makeConfig, parameterCount } from "../src/index.js";

// Field values of Qwen/Qwen3-0.6B's config.json.
const QWEN3_06B = {
  architectures: ["Qwen3ForCausalLM"],
  model_type: "qwen3",
  vocab_size: 151936,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  rope_scaling: null,
  tie_word_embeddings: true,
  max_position_embeddings: 40960,
  attention_bias: false,
  bos_token_id: 151643,
  eos_token_id: 151645,
  torch_dtype: "bfloat16",
};

describe("config", () => {
  it("reads Qwen3-0.6B's config.json: head_dim 128 (not hidden / heads), q/k norm, no bias, tied, bf16", () => {
    const c = configFromHf(QWEN3_06B);
    expect(c).toMatchObject({
      headDim: 128,
      numKvHeads: 8,
      qkNorm: true,
      qkvBias: false,
      tieWordEmbeddings: true,
      weightDtype: "bfloat16",
      ropeTheta: 1e6,
      eosTokenId: 151645,
    });
    // Qwen3-0.6B has 596M parameters (0.44B without the tied embedding)
    expect(Math.round(parameterCount(c) / 1e6)).toBe(596);
  });

  it("qwen2 has q/k/v bias and no o bias; llama's attention_bias sets both", () => {
    const base = {
      vocab_size: 10,
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
    };
    expect(configFromHf({ ...base, model_type: "qwen2" })).toMatchObject({
      qkvBias: true,
      oBias: false,
      qkNorm: false,
      headDim: 4,
    });
    expect(configFromHf({ ...base, model_type: "llama", attention_bias: true })).toMatchObject({
      qkvBias: true,
      oBias: true,
    });
  });

  it("configToHf then configFromHf gives the same config (llama3 rope scaling and an EOS list included)", () => {
    const c = makeConfig({
      modelType: "llama",
      vocabSize: 50,
      hiddenSize: 32,
      intermediateSize: 64,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      eosTokenIds: [3, 4],
      bosTokenId: 1,
      ropeScaling: {
        type: "llama3",
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      },
    });
    expect(configFromHf(configToHf(c))).toEqual(c);
  });

  it("names the bad field", () => {
    expect(() => configFromHf({ model_type: "gpt2" })).toThrow(ConfigError);
    expect(() => configFromHf({ ...QWEN3_06B, num_key_value_heads: 5 })).toThrow(
      /numKvHeads: numHeads \(16\) must be a multiple of numKvHeads \(5\)/,
    );
    expect(() => configFromHf({ ...QWEN3_06B, hidden_size: undefined })).toThrow(
      /hidden_size: missing from config.json/,
    );
    expect(() => configFromHf({ ...QWEN3_06B, rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(
      /rope_scaling.rope_type/,
    );
  });
});
