export {
  MODEL_TYPES,
  WEIGHT_DTYPES,
  configFromHf,
  configToHf,
  makeConfig,
  parameterCount,
  validateConfig,
} from "./config.js";
export type { ModelConfig, ModelConfigInput, ModelType, RopeScaling, WeightDType } from "./config.js";
export { CausalLM } from "./model.js";
export type { ForwardOptions, ForwardResult, LayerParams, ModelParams } from "./model.js";
export type { KVCache, KVCacheData } from "./cache.js";
export { createPolicy } from "./init.js";
export type { CreatePolicyOptions } from "./init.js";
export { loadPolicy, readCheckpointTensors, savePolicy } from "./checkpoint.js";
export type { LoadedPolicy, SavePolicyOptions } from "./checkpoint.js";
export { scoreResponses } from "./score.js";
export type { Decoder, ScoreInput, ScoreOptions, ScoreOutput } from "./score.js";
export {
  CHAR_SPECIAL_TOKENS,
  CharTokenizer,
  DEFAULT_CHAR_ALPHABET,
  HfTokenizer,
  loadTokenizer,
  saveTokenizer,
} from "./tokenizer.js";
export type { DecodeOptions, EncodeOptions, PolicyTokenizer, SpecialTokenFallbacks } from "./tokenizer.js";
export {
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
  rawToFloat32,
  float32ToRaw,
} from "./safetensors.js";
export type { RawTensor, SafetensorsDType, SafetensorsFile } from "./safetensors.js";
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./dtypes.js";
export { embedLookup } from "./embedding.js";
export { generate, scoreSequence } from "./generate.js";
export type { GenerateOptions, GenerateResult } from "./generate.js";
export { createChatTemplate, loadChatTemplate } from "./chat-template.js";
export type {
  ChatTemplateMessage,
  ChatTemplateRenderer,
  CreateChatTemplateOptions,
  RenderChatOptions,
} from "./chat-template.js";
