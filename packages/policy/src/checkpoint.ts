import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInputError } from "@tokenrl/core";
import { type ModelConfig, type WeightDType, configFromHf, configToHf } from "./config.js";
import { CausalLM } from "./model.js";
import { type RawTensor, float32ToRaw, rawToFloat32, readSafetensors, serializeSafetensors } from "./safetensors.js";
import { type PolicyTokenizer, loadTokenizer, saveTokenizer } from "./tokenizer.js";
import { type HostTensor, paramsFromHf, paramsToHf } from "./weights.js";

export interface LoadedPolicy {
  model: CausalLM;
  tokenizer: PolicyTokenizer;
  config: ModelConfig;
}

const INDEX_FILE = "model.safetensors.index.json";
const SINGLE_FILE = "model.safetensors";

/** Reads every tensor of a checkpoint directory (single file or sharded with an index). */
export async function readCheckpointTensors(dir: string): Promise<Map<string, RawTensor>> {
  const tensors = new Map<string, RawTensor>();
  const indexPath = join(dir, INDEX_FILE);
  if (existsSync(indexPath)) {
    const index = JSON.parse(await readFile(indexPath, "utf8")) as { weight_map?: Record<string, string> };
    if (!index.weight_map) throw new InvalidInputError(`${indexPath}: missing "weight_map"`);
    const shards = [...new Set(Object.values(index.weight_map))];
    for (const shard of shards) {
      const file = await readSafetensors(join(dir, shard));
      for (const [name, t] of file.tensors) {
        if (index.weight_map[name] !== shard)
          throw new InvalidInputError(`${shard}: tensor "${name}" is not mapped to this shard in ${INDEX_FILE}`);
        tensors.set(name, t);
      }
    }
    for (const name of Object.keys(index.weight_map))
      if (!tensors.has(name))
        throw new InvalidInputError(
          `${INDEX_FILE} maps "${name}" to ${index.weight_map[name]}, which does not contain it`,
        );
    return tensors;
  }
  const single = join(dir, SINGLE_FILE);
  if (!existsSync(single)) throw new InvalidInputError(`${dir}: neither ${SINGLE_FILE} nor ${INDEX_FILE} found`);
  return (await readSafetensors(single)).tensors;
}

/**
 * Loads an HF checkpoint directory: `config.json`, `model.safetensors` or
 * shards + `model.safetensors.index.json` (F32, F16 or BF16 weights; the model
 * computes in float32), and `tokenizer.json` (+ `tokenizer_config.json`).
 */
export async function loadPolicy(dir: string): Promise<LoadedPolicy> {
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) throw new InvalidInputError(`${configPath} not found`);
  const config = configFromHf(JSON.parse(await readFile(configPath, "utf8")));
  const raw = await readCheckpointTensors(dir);
  // HF omits lm_head.weight for tied models; some exporters keep a copy: ignore it then.
  const get = (name: string): HostTensor | undefined => {
    const t = raw.get(name);
    return t ? { values: rawToFloat32(t, name), shape: t.shape } : undefined;
  };
  const tokenizer = await loadTokenizer(dir, {
    eosTokenId: config.eosTokenId,
    bosTokenId: config.bosTokenId,
    padTokenId: config.padTokenId,
  });
  const model = new CausalLM(config, paramsFromHf(config, get));
  return { model, tokenizer, config };
}

export interface SavePolicyOptions {
  /** Storage dtype; default the model config's `weightDtype` (HF `torch_dtype`). */
  dtype?: WeightDType;
  /** Split into `model-0000i-of-0000n.safetensors` shards of at most this many bytes, with an index. Default: one file. */
  maxShardBytes?: number;
}

const ST_DTYPE = { float32: "F32", float16: "F16", bfloat16: "BF16" } as const;

/**
 * Writes an HF checkpoint that `transformers` and `safetensors` read back:
 * config.json, generation_config.json, model.safetensors (or shards + index)
 * with HF names and `[out, in]` layout, tokenizer.json, tokenizer_config.json.
 */
export async function savePolicy(
  dir: string,
  model: CausalLM,
  tokenizer: PolicyTokenizer,
  options: SavePolicyOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? model.config.weightDtype;
  const config: ModelConfig = { ...model.config, weightDtype: dtype };
  await mkdir(dir, { recursive: true });
  const host = paramsToHf(config, model.params);
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of host) raw.set(name, float32ToRaw(t.values, t.shape, ST_DTYPE[dtype]));
  const metadata = { format: "pt" };
  const max = options.maxShardBytes;
  if (max === undefined) {
    await writeFile(join(dir, SINGLE_FILE), serializeSafetensors(raw, metadata));
  } else {
    if (!(max > 0)) throw new InvalidInputError(`savePolicy: maxShardBytes must be positive, got ${max}`);
    const shards: Map<string, RawTensor>[] = [];
    let current = new Map<string, RawTensor>();
    let size = 0;
    for (const [name, t] of raw) {
      if (size > 0 && size + t.bytes.byteLength > max) {
        shards.push(current);
        current = new Map();
        size = 0;
      }
      current.set(name, t);
      size += t.bytes.byteLength;
    }
    shards.push(current);
    const n = shards.length;
    const pad = (i: number) => String(i).padStart(5, "0");
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (let i = 0; i < n; i++) {
      const file = `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
      for (const [name, t] of shards[i]!) {
        weightMap[name] = file;
        total += t.bytes.byteLength;
      }
      await writeFile(join(dir, file), serializeSafetensors(shards[i]!, metadata));
    }
    await writeFile(
      join(dir, INDEX_FILE),
      `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
    );
  }
  await writeFile(join(dir, "config.json"), `${JSON.stringify(configToHf(config), null, 2)}\n`);
  const generation: Record<string, unknown> = {};
  if (config.bosTokenId !== undefined) generation.bos_token_id = config.bosTokenId;
  if (config.eosTokenIds.length > 0)
    generation.eos_token_id = config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds;
  if (config.padTokenId !== undefined) generation.pad_token_id = config.padTokenId;
  await writeFile(join(dir, "generation_config.json"), `${JSON.stringify(generation, null, 2)}\n`);
  await saveTokenizer(dir, tokenizer);
}
