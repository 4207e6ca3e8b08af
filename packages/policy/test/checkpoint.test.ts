import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import {
  CharTokenizer,
  type CausalLM,
  bf16ToF32,
  f32ToBf16,
  loadPolicy,
  parseSafetensors,
  readCheckpointTensors,
  savePolicy,
  serializeSafetensors,
} from "../src/index.js";
import { ids2d, tinyModel, values } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "policy-ckpt-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("safetensors format", () => {
  it("writes an 8-byte little-endian header length, a JSON header with __metadata__, padded to 8 bytes", () => {
    const bytes = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const buf = serializeSafetensors(new Map([["w", { dtype: "F32", shape: [3], bytes }]]), { format: "pt" });
    const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
    expect(header).toEqual({ __metadata__: { format: "pt" }, w: { dtype: "F32", shape: [3], data_offsets: [0, 12] } });
    expect(Array.from(new Float32Array(buf.slice(8 + n).buffer))).toEqual([1, 2, 3]);
  });

  it("reads a file assembled by hand (BF16 and F16 tensors, unpadded header)", () => {
    const header = JSON.stringify({
      a: { dtype: "BF16", shape: [2], data_offsets: [0, 4] },
      b: { dtype: "F16", shape: [1], data_offsets: [4, 6] },
    });
    const hb = new TextEncoder().encode(header);
    const buf = new Uint8Array(8 + hb.length + 6);
    new DataView(buf.buffer).setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    // bf16 1.5 = 0x3FC0, -2 = 0xC000; f16 0.5 = 0x3800 (little-endian bytes)
    buf.set([0xc0, 0x3f, 0x00, 0xc0, 0x00, 0x38], 8 + hb.length);
    const file = parseSafetensors(buf);
    expect(Array.from(bf16ToF32(new Uint16Array(file.tensors.get("a")!.bytes.slice().buffer)))).toEqual([1.5, -2]);
    expect(file.tensors.get("b")!.shape).toEqual([1]);
  });

  it("rejects data_offsets that disagree with dtype x shape", () => {
    const header = new TextEncoder().encode(JSON.stringify({ a: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }));
    const buf = new Uint8Array(8 + header.length + 4);
    new DataView(buf.buffer).setBigUint64(0, BigInt(header.length), true);
    buf.set(header, 8);
    expect(() => parseSafetensors(buf)).toThrow(/"a" has 4 bytes but F32 \[2\] needs 8/);
  });
});

describe.each(TEST_BACKENDS)("checkpoints on %s", (backend) => {
  let model: CausalLM;
  const tokenizer = new CharTokenizer("abcdefghijklmnopqrs");
  const scoreOf = (m: CausalLM) =>
    tf.tidy(() =>
      values(
        m.scoreResponses({
          promptIds: ids2d([[1, 5, 6, 7]]),
          promptMask: tf.ones([1, 4]) as tf.Tensor2D,
          responseIds: ids2d([[8, 9, 2]]),
          responseMask: tf.ones([1, 3]) as tf.Tensor2D,
        }).logProbs,
      ),
    );
  beforeAll(async () => {
    await useBackend(backend);
    model = tinyModel({ vocabSize: tokenizer.vocabSize });
  });
  afterAll(() => model.dispose());

  it("float32: saved tensors read back bit-identically and the loaded model's log-probs equal the in-memory model's", async () => {
    const dir = join(tmp, `${backend}-f32`);
    await savePolicy(dir, model, tokenizer);
    expect(readdirSync(dir).sort()).toEqual([
      "config.json",
      "generation_config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config).toMatchObject({
      model_type: "qwen3",
      num_key_value_heads: 2,
      head_dim: 8,
      torch_dtype: "float32",
      tie_word_embeddings: false,
    });
    const loaded = await loadPolicy(dir);
    const a = model.trainableVariables();
    const b = loaded.model.trainableVariables();
    expect(b.length).toBe(a.length);
    a.forEach((v, i) => expect(Array.from(b[i]!.dataSync())).toEqual(Array.from(v.dataSync())));
    expect(scoreOf(loaded.model)).toEqual(scoreOf(model));
    expect(loaded.tokenizer.encode("abc<eos>")).toEqual(tokenizer.encode("abc<eos>"));
    // Saving the loaded model again writes the same bytes.
    const again = join(tmp, `${backend}-f32-again`);
    await savePolicy(again, loaded.model, loaded.tokenizer);
    expect(readFileSync(join(again, "model.safetensors")).equals(readFileSync(join(dir, "model.safetensors")))).toBe(
      true,
    );
    loaded.model.dispose();
  });

  it("HF names and [out, in] layout: q_proj.weight row r is the weights of query output r", async () => {
    const dir = join(tmp, `${backend}-names`);
    await savePolicy(dir, model, tokenizer);
    const raw = await readCheckpointTensors(dir);
    const q = raw.get("model.layers.0.self_attn.q_proj.weight")!;
    expect(q.shape).toEqual([4 * 8, 16]);
    expect(raw.get("model.layers.1.self_attn.k_norm.weight")!.shape).toEqual([8]);
    expect(raw.get("lm_head.weight")!.shape).toEqual([tokenizer.vocabSize, 16]);
    // internal qkv is [in, out]: column 0 holds q output 0 = HF row 0
    const qkv = model.params.layers[0]!.qkv;
    const col0 = tf.tidy(() => values(tf.slice(qkv, [0, 0], [16, 1])));
    expect(Array.from(new Float32Array(q.bytes.slice(0, 64).buffer))).toEqual(col0);
  });

  it.each([
    "bfloat16",
    "float16",
  ] as const)("%s: reading back is bit-identical and a re-save writes identical bytes", async (dtype) => {
    const dir = join(tmp, `${backend}-${dtype}`);
    await savePolicy(dir, model, tokenizer, { dtype });
    const loaded = await loadPolicy(dir);
    expect(loaded.config.weightDtype).toBe(dtype);
    if (dtype === "bfloat16") {
      // the loaded embedding is exactly bf16(round(original))
      const want = Array.from(bf16ToF32(f32ToBf16(model.params.embed.dataSync() as Float32Array)));
      expect(Array.from(loaded.model.params.embed.dataSync())).toEqual(want);
    }
    const again = join(tmp, `${backend}-${dtype}-again`);
    await savePolicy(again, loaded.model, loaded.tokenizer);
    expect(readFileSync(join(again, "model.safetensors")).equals(readFileSync(join(dir, "model.safetensors")))).toBe(
      true,
    );
    // and the loaded model's log-probs equal those of an in-memory model holding the same rounded weights
    const reloaded = await loadPolicy(again);
    expect(scoreOf(reloaded.model)).toEqual(scoreOf(loaded.model));
    loaded.model.dispose();
    reloaded.model.dispose();
  });

  it("sharded: writes model-0000i-of-0000n shards with an index, and loads them", async () => {
    const dir = join(tmp, `${backend}-sharded`);
    await savePolicy(dir, model, tokenizer, { maxShardBytes: 8000 });
    const files = readdirSync(dir).filter((f) => f.startsWith("model-"));
    expect(files.length).toBeGreaterThan(1);
    expect(files[0]).toMatch(/^model-00001-of-0000\d\.safetensors$/);
    const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"));
    expect(Object.keys(index.weight_map)).toContain("model.embed_tokens.weight");
    expect(index.metadata.total_size).toBe(model.trainableVariables().reduce((a, v) => a + v.size * 4, 0));
    const loaded = await loadPolicy(dir);
    expect(scoreOf(loaded.model)).toEqual(scoreOf(model));
    loaded.model.dispose();
  });

  it("tied embeddings: no lm_head.weight is saved and the loaded model ties", async () => {
    const tied = tinyModel(
      { vocabSize: tokenizer.vocabSize, tieWordEmbeddings: true, modelType: "llama", numKvHeads: 4 },
      5,
    );
    const dir = join(tmp, `${backend}-tied`);
    await savePolicy(dir, tied, tokenizer);
    const raw = await readCheckpointTensors(dir);
    expect(raw.has("lm_head.weight")).toBe(false);
    const loaded = await loadPolicy(dir);
    expect(loaded.config.tieWordEmbeddings).toBe(true);
    expect(scoreOf(loaded.model)).toEqual(scoreOf(tied));
    tied.dispose();
    loaded.model.dispose();
  });

  it("a missing tensor is reported by its HF name and expected shape", async () => {
    const dir = join(tmp, `${backend}-broken`);
    await savePolicy(dir, model, tokenizer);
    const raw = await readCheckpointTensors(dir);
    raw.delete("model.layers.1.mlp.up_proj.weight");
    writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(raw));
    await expect(loadPolicy(dir)).rejects.toThrow(
      /missing tensor "model.layers.1.mlp.up_proj.weight" \(expected shape \[24, 16\]\)/,
    );
  });
});
