import { ConfigError } from "@tokenrl/core";

/** The decoder families whose HF `config.json` this package reads and writes. */
export const MODEL_TYPES = ["llama", "qwen2", "qwen3"] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** Storage dtypes for checkpoint weights (the in-memory model is always float32). */
export const WEIGHT_DTYPES = ["float32", "float16", "bfloat16"] as const;
export type WeightDType = (typeof WEIGHT_DTYPES)[number];

/**
 * A decoder-only transformer of the Llama / Qwen2 / Qwen3 family, in camelCase.
 * `configFromHf` reads it from an HF `config.json`; `configToHf` writes one back.
 */
export interface ModelConfig {
  /** HF `model_type`: decides which weights exist (qwen2: q/k/v bias; qwen3: q/k RMSNorm). */
  modelType: ModelType;
  /** HF `vocab_size`: rows of the embedding and of the LM head. */
  vocabSize: number;
  /** HF `hidden_size`: the residual stream width. */
  hiddenSize: number;
  /** HF `intermediate_size`: width of the SwiGLU MLP. */
  intermediateSize: number;
  /** HF `num_hidden_layers`. */
  numLayers: number;
  /** HF `num_attention_heads`: query heads. */
  numHeads: number;
  /** HF `num_key_value_heads` (default numHeads): key/value heads shared by numHeads / numKvHeads query heads (GQA). */
  numKvHeads: number;
  /** HF `head_dim` (default hiddenSize / numHeads; Qwen3 sets it explicitly). */
  headDim: number;
  /** HF `rope_theta` (default 10000): RoPE base. */
  ropeTheta: number;
  /** HF `rope_scaling`, when the checkpoint has one. */
  ropeScaling?: RopeScaling;
  /** HF `rms_norm_eps` (default 1e-6). */
  rmsNormEps: number;
  /** HF `tie_word_embeddings`: the LM head reuses the embedding matrix (no `lm_head.weight` saved). */
  tieWordEmbeddings: boolean;
  /** Per-head RMSNorm on queries and keys before RoPE (Qwen3: `q_norm`, `k_norm`). */
  qkNorm: boolean;
  /** Bias on q/k/v projections (Qwen2 always; Llama/Qwen3 with `attention_bias`). */
  qkvBias: boolean;
  /** Bias on the output projection (Llama/Qwen3 with `attention_bias`; never Qwen2). */
  oBias: boolean;
  /** HF `max_position_embeddings`: the longest context the model was trained for (default 2048). */
  maxPositionEmbeddings: number;
  /** HF `initializer_range` (default 0.02): std of the normal init of linear and embedding weights. */
  initializerRange: number;
  /** HF `eos_token_id`; when HF gives a list, the first (all are in `eosTokenIds`). */
  eosTokenId: number | undefined;
  /** Every id that ends a sequence (HF allows a list). */
  eosTokenIds: number[];
  /** HF `bos_token_id`, if the model has one. */
  bosTokenId: number | undefined;
  /** HF `pad_token_id`, if set. */
  padTokenId: number | undefined;
  /** HF `torch_dtype` / `dtype`: the dtype `savePolicy` writes weights in (default float32). */
  weightDtype: WeightDType;
}

/**
 * HF `rope_scaling`: "linear" divides every frequency by `factor`; "llama3"
 * (Llama 3.1+) divides only the low frequencies, blending in between.
 */
export interface RopeScaling {
  type: "linear" | "llama3";
  factor: number;
  /** llama3 only (HF default 1). */
  lowFreqFactor?: number;
  /** llama3 only (HF default 4). */
  highFreqFactor?: number;
  /** llama3 only (HF default 8192). */
  originalMaxPositionEmbeddings?: number;
}

/** Fields a caller must give to `makeConfig`; the rest take HF's defaults. */
export type ModelConfigInput = Pick<
  ModelConfig,
  "vocabSize" | "hiddenSize" | "intermediateSize" | "numLayers" | "numHeads"
> &
  Partial<ModelConfig>;

/** Fills HF defaults and checks the shape arithmetic (heads divide, GQA groups whole). */
export function makeConfig(input: ModelConfigInput): ModelConfig {
  const modelType = input.modelType ?? "llama";
  const numHeads = input.numHeads;
  const eosTokenIds = input.eosTokenIds ?? (input.eosTokenId !== undefined ? [input.eosTokenId] : []);
  const config: ModelConfig = {
    modelType,
    vocabSize: input.vocabSize,
    hiddenSize: input.hiddenSize,
    intermediateSize: input.intermediateSize,
    numLayers: input.numLayers,
    numHeads,
    numKvHeads: input.numKvHeads ?? numHeads,
    headDim: input.headDim ?? Math.floor(input.hiddenSize / numHeads),
    ropeTheta: input.ropeTheta ?? 10000,
    ...(input.ropeScaling ? { ropeScaling: input.ropeScaling } : {}),
    rmsNormEps: input.rmsNormEps ?? 1e-6,
    tieWordEmbeddings: input.tieWordEmbeddings ?? false,
    qkNorm: input.qkNorm ?? modelType === "qwen3",
    qkvBias: input.qkvBias ?? modelType === "qwen2",
    oBias: input.oBias ?? false,
    maxPositionEmbeddings: input.maxPositionEmbeddings ?? 2048,
    initializerRange: input.initializerRange ?? 0.02,
    eosTokenId: input.eosTokenId ?? eosTokenIds[0],
    eosTokenIds,
    bosTokenId: input.bosTokenId,
    padTokenId: input.padTokenId,
    weightDtype: input.weightDtype ?? "float32",
  };
  validateConfig(config);
  return config;
}

function positiveInt(config: ModelConfig, field: keyof ModelConfig): void {
  const v = config[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
    throw new ConfigError(field, `expected a positive integer, got ${JSON.stringify(v)}`);
}

export function validateConfig(config: ModelConfig): void {
  if (!(MODEL_TYPES as readonly string[]).includes(config.modelType))
    throw new ConfigError(
      "modelType",
      `unsupported model_type "${config.modelType}"; expected one of ${MODEL_TYPES.join(", ")}`,
    );
  for (const f of [
    "vocabSize",
    "hiddenSize",
    "intermediateSize",
    "numLayers",
    "numHeads",
    "numKvHeads",
    "headDim",
    "maxPositionEmbeddings",
  ] as const)
    positiveInt(config, f);
  if (config.numHeads % config.numKvHeads !== 0)
    throw new ConfigError(
      "numKvHeads",
      `numHeads (${config.numHeads}) must be a multiple of numKvHeads (${config.numKvHeads})`,
    );
  if (config.headDim % 2 !== 0)
    throw new ConfigError("headDim", `RoPE needs an even head dimension, got ${config.headDim}`);
  if (!(config.ropeTheta > 0))
    throw new ConfigError("ropeTheta", `expected a positive number, got ${config.ropeTheta}`);
  if (!(config.rmsNormEps > 0))
    throw new ConfigError("rmsNormEps", `expected a positive number, got ${config.rmsNormEps}`);
  for (const f of ["eosTokenId", "bosTokenId", "padTokenId"] as const) {
    const v = config[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v >= config.vocabSize))
      throw new ConfigError(f, `expected a token id in [0, ${config.vocabSize}), got ${v}`);
  }
  if (!(WEIGHT_DTYPES as readonly string[]).includes(config.weightDtype))
    throw new ConfigError("weightDtype", `expected one of ${WEIGHT_DTYPES.join(", ")}, got ${config.weightDtype}`);
}

/** Parameter count (what `trainableVariables()` holds), for benchmarks and logs. */
export function parameterCount(config: ModelConfig): number {
  const {
    hiddenSize: H,
    intermediateSize: I,
    numHeads: nh,
    numKvHeads: nkv,
    headDim: D,
    vocabSize: V,
    numLayers,
  } = config;
  const qkv = H * (nh + 2 * nkv) * D + (config.qkvBias ? (nh + 2 * nkv) * D : 0);
  const o = nh * D * H + (config.oBias ? H : 0);
  const layer = qkv + o + 3 * H * I + 2 * H + (config.qkNorm ? 2 * D : 0);
  return V * H * (config.tieWordEmbeddings ? 1 : 2) + numLayers * layer + H;
}

type Json = Record<string, unknown>;

function num(json: Json, key: string, required: boolean): number | undefined {
  const v = json[key];
  if (v === undefined || v === null) {
    if (required) throw new ConfigError(key, "missing from config.json");
    return undefined;
  }
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ConfigError(key, `expected a number in config.json, got ${JSON.stringify(v)}`);
  return v;
}

function tokenIds(json: Json, key: string): number[] {
  const v = json[key];
  if (v === undefined || v === null) return [];
  if (typeof v === "number") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "number")) return v as number[];
  throw new ConfigError(key, `expected a token id or a list of ids, got ${JSON.stringify(v)}`);
}

const DTYPE_FROM_HF: Record<string, WeightDType> = { float32: "float32", float16: "float16", bfloat16: "bfloat16" };

/** Reads an HF `config.json` object (model_type llama, qwen2 or qwen3). */
export function configFromHf(json: Json): ModelConfig {
  const modelType = json.model_type;
  if (typeof modelType !== "string" || !(MODEL_TYPES as readonly string[]).includes(modelType))
    throw new ConfigError(
      "model_type",
      `unsupported ${JSON.stringify(modelType)}; expected one of ${MODEL_TYPES.join(", ")}`,
    );
  const ropeScaling = ropeScalingFromHf(json.rope_scaling);
  if (json.mlp_bias === true) throw new ConfigError("mlp_bias", "MLP biases are not supported");
  if (json.use_sliding_window === true)
    throw new ConfigError("use_sliding_window", "sliding-window attention is not supported");
  const attentionBias = json.attention_bias === true;
  const eos = tokenIds(json, "eos_token_id");
  const dtypeName = (json.torch_dtype ?? json.dtype) as string | undefined;
  const type = modelType as ModelType;
  return makeConfig({
    modelType: type,
    vocabSize: num(json, "vocab_size", true)!,
    hiddenSize: num(json, "hidden_size", true)!,
    intermediateSize: num(json, "intermediate_size", true)!,
    numLayers: num(json, "num_hidden_layers", true)!,
    numHeads: num(json, "num_attention_heads", true)!,
    numKvHeads: num(json, "num_key_value_heads", false),
    headDim: num(json, "head_dim", false),
    ropeTheta: num(json, "rope_theta", false),
    ...(ropeScaling ? { ropeScaling } : {}),
    rmsNormEps: num(json, "rms_norm_eps", false),
    // HF default is false for all three families.
    tieWordEmbeddings: json.tie_word_embeddings === true,
    qkNorm: type === "qwen3",
    qkvBias: type === "qwen2" || attentionBias,
    oBias: type !== "qwen2" && attentionBias,
    maxPositionEmbeddings: num(json, "max_position_embeddings", false),
    initializerRange: num(json, "initializer_range", false),
    eosTokenIds: eos,
    eosTokenId: eos[0],
    bosTokenId: tokenIds(json, "bos_token_id")[0],
    padTokenId: tokenIds(json, "pad_token_id")[0],
    weightDtype: dtypeName && DTYPE_FROM_HF[dtypeName] ? DTYPE_FROM_HF[dtypeName] : "float32",
  });
}

const ARCHITECTURES: Record<ModelType, string> = {
  llama: "LlamaForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  qwen3: "Qwen3ForCausalLM",
};

/** Writes the HF `config.json` object that `transformers.AutoModelForCausalLM` reads back. */
export function configToHf(config: ModelConfig): Json {
  if (config.modelType === "qwen2" && (!config.qkvBias || config.oBias))
    throw new ConfigError("qkvBias", "qwen2 checkpoints always have q/k/v bias and no o_proj bias");
  if (config.modelType === "qwen3" && !config.qkNorm)
    throw new ConfigError("qkNorm", "qwen3 checkpoints always have q/k norm");
  if (config.modelType !== "qwen3" && config.qkNorm)
    throw new ConfigError("qkNorm", `${config.modelType} checkpoints have no q/k norm; use modelType qwen3`);
  if (config.modelType !== "qwen2" && config.qkvBias !== config.oBias)
    throw new ConfigError(
      "oBias",
      `${config.modelType} has one attention_bias switch: qkvBias and oBias must be equal`,
    );
  const json: Json = {
    architectures: [ARCHITECTURES[config.modelType]],
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    hidden_act: "silu",
    rope_theta: config.ropeTheta,
    rms_norm_eps: config.rmsNormEps,
    max_position_embeddings: config.maxPositionEmbeddings,
    initializer_range: config.initializerRange,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_dropout: 0,
    use_cache: true,
    torch_dtype: config.weightDtype,
  };
  if (config.ropeScaling) {
    const r = config.ropeScaling;
    json.rope_scaling =
      r.type === "linear"
        ? { rope_type: "linear", factor: r.factor }
        : {
            rope_type: "llama3",
            factor: r.factor,
            low_freq_factor: r.lowFreqFactor ?? 1,
            high_freq_factor: r.highFreqFactor ?? 4,
            original_max_position_embeddings: r.originalMaxPositionEmbeddings ?? 8192,
          };
  }
  if (config.modelType !== "qwen2") json.attention_bias = config.qkvBias;
  if (config.modelType === "llama") json.mlp_bias = false;
  if (config.bosTokenId !== undefined) json.bos_token_id = config.bosTokenId;
  if (config.eosTokenIds.length > 0)
    json.eos_token_id = config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds;
  if (config.padTokenId !== undefined) json.pad_token_id = config.padTokenId;
  return json;
}

function ropeScalingFromHf(v: unknown): RopeScaling | undefined {
  if (v === undefined || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const type = (r.rope_type ?? r.type) as string | undefined;
  if (type === "default") return undefined;
  const factor = r.factor;
  if (typeof factor !== "number" || !(factor > 0))
    throw new ConfigError("rope_scaling.factor", `expected a positive number, got ${JSON.stringify(factor)}`);
  if (type === "linear") return { type, factor };
  if (type === "llama3") {
    const out: RopeScaling = { type, factor };
    if (typeof r.low_freq_factor === "number") out.lowFreqFactor = r.low_freq_factor;
    if (typeof r.high_freq_factor === "number") out.highFreqFactor = r.high_freq_factor;
    if (typeof r.original_max_position_embeddings === "number")
      out.originalMaxPositionEmbeddings = r.original_max_position_embeddings;
    return out;
  }
  throw new ConfigError("rope_scaling.rope_type", `"${type}" is not supported; expected default, linear or llama3`);
}
