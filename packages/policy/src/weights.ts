import { ConfigError, InvalidInputError, tf } from "@tokenrl/core";
import type { ModelConfig } from "./config.js";
import type { LayerParams, ModelParams } from "./params.js";

/** A float32 host array with its shape, in HF's layout (linear weights `[out, in]`). */
export interface HostTensor {
  values: Float32Array;
  shape: number[];
}

/** The HF tensor names a config implies, with their HF shapes, in the order HF saves them. */
export function hfWeightShapes(c: ModelConfig): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, numHeads: nh, numKvHeads: nkv, headDim: D, vocabSize: V } = c;
  const m = new Map<string, number[]>();
  m.set("model.embed_tokens.weight", [V, H]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    m.set(`${p}input_layernorm.weight`, [H]);
    m.set(`${p}self_attn.q_proj.weight`, [nh * D, H]);
    m.set(`${p}self_attn.k_proj.weight`, [nkv * D, H]);
    m.set(`${p}self_attn.v_proj.weight`, [nkv * D, H]);
    if (c.qkvBias) {
      m.set(`${p}self_attn.q_proj.bias`, [nh * D]);
      m.set(`${p}self_attn.k_proj.bias`, [nkv * D]);
      m.set(`${p}self_attn.v_proj.bias`, [nkv * D]);
    }
    if (c.qkNorm) {
      m.set(`${p}self_attn.q_norm.weight`, [D]);
      m.set(`${p}self_attn.k_norm.weight`, [D]);
    }
    m.set(`${p}self_attn.o_proj.weight`, [H, nh * D]);
    if (c.oBias) m.set(`${p}self_attn.o_proj.bias`, [H]);
    m.set(`${p}post_attention_layernorm.weight`, [H]);
    m.set(`${p}mlp.gate_proj.weight`, [I, H]);
    m.set(`${p}mlp.up_proj.weight`, [I, H]);
    m.set(`${p}mlp.down_proj.weight`, [H, I]);
  }
  m.set("model.norm.weight", [H]);
  if (!c.tieWordEmbeddings) m.set("lm_head.weight", [V, H]);
  return m;
}

/** [rows, cols] row-major -> [cols, rows]. */
function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c]!;
  }
  return out;
}

/** Stacks HF `[out_i, in]` matrices along out and returns the `[in, sum out_i]` internal layout. */
function fuseLinear(parts: HostTensor[]): Float32Array {
  const inDim = parts[0]!.shape[1]!;
  const outDim = parts.reduce((a, p) => a + p.shape[0]!, 0);
  const stacked = new Float32Array(outDim * inDim);
  let offset = 0;
  for (const p of parts) {
    stacked.set(p.values, offset);
    offset += p.values.length;
  }
  return transpose2d(stacked, outDim, inDim);
}

/** Inverse of fuseLinear: internal `[in, sum out]` -> HF `[out_i, in]` pieces. */
function splitLinear(fused: Float32Array, inDim: number, outs: number[]): Float32Array[] {
  const total = outs.reduce((a, b) => a + b, 0);
  const stacked = transpose2d(fused, inDim, total);
  const pieces: Float32Array[] = [];
  let offset = 0;
  for (const o of outs) {
    pieces.push(stacked.slice(offset * inDim, (offset + o) * inDim));
    offset += o;
  }
  return pieces;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Builds model parameters from HF-named host tensors, checking every name and shape. */
export function paramsFromHf(c: ModelConfig, get: (name: string) => HostTensor | undefined): ModelParams {
  const shapes = hfWeightShapes(c);
  const take = (name: string): HostTensor => {
    const t = get(name);
    const expected = shapes.get(name)!;
    if (!t)
      throw new InvalidInputError(`checkpoint: missing tensor "${name}" (expected shape [${expected.join(", ")}])`);
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i]))
      throw new InvalidInputError(
        `checkpoint: tensor "${name}" has shape [${t.shape.join(", ")}], config implies [${expected.join(", ")}]`,
      );
    return t;
  };
  const v = (values: Float32Array, shape: number[]) => tf.variable(tf.tensor(values, shape, "float32"), true);
  const { hiddenSize: H, intermediateSize: I, numHeads: nh, numKvHeads: nkv, headDim: D } = c;
  const layers: LayerParams[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const a = `${p}self_attn.`;
    const layer: LayerParams = {
      inputNorm: v(take(`${p}input_layernorm.weight`).values, [H]),
      qkv: v(fuseLinear([take(`${a}q_proj.weight`), take(`${a}k_proj.weight`), take(`${a}v_proj.weight`)]), [
        H,
        (nh + 2 * nkv) * D,
      ]),
      o: v(transpose2d(take(`${a}o_proj.weight`).values, H, nh * D), [nh * D, H]),
      postNorm: v(take(`${p}post_attention_layernorm.weight`).values, [H]),
      gateUp: v(fuseLinear([take(`${p}mlp.gate_proj.weight`), take(`${p}mlp.up_proj.weight`)]), [H, 2 * I]),
      down: v(transpose2d(take(`${p}mlp.down_proj.weight`).values, H, I), [I, H]),
    };
    if (c.qkvBias)
      layer.qkvBias = v(
        concat([take(`${a}q_proj.bias`).values, take(`${a}k_proj.bias`).values, take(`${a}v_proj.bias`).values]),
        [(nh + 2 * nkv) * D],
      );
    if (c.qkNorm) {
      layer.qNorm = v(take(`${a}q_norm.weight`).values, [D]);
      layer.kNorm = v(take(`${a}k_norm.weight`).values, [D]);
    }
    if (c.oBias) layer.oBias = v(take(`${a}o_proj.bias`).values, [H]);
    layers.push(layer);
  }
  const params: ModelParams = {
    embed: v(take("model.embed_tokens.weight").values, [c.vocabSize, H]),
    layers,
    finalNorm: v(take("model.norm.weight").values, [H]),
  };
  if (!c.tieWordEmbeddings)
    params.lmHead = v(transpose2d(take("lm_head.weight").values, c.vocabSize, H), [H, c.vocabSize]);
  return params;
}

/** Reads the parameters back out as HF-named, HF-layout host tensors (in HF's order). */
export function paramsToHf(c: ModelConfig, params: ModelParams): Map<string, HostTensor> {
  const shapes = hfWeightShapes(c);
  const out = new Map<string, HostTensor>();
  const put = (name: string, values: Float32Array) => {
    const shape = shapes.get(name);
    if (!shape) throw new ConfigError(name, "not a weight of this config");
    out.set(name, { values, shape });
  };
  const read = (t: tf.Variable) => t.dataSync() as Float32Array;
  const { hiddenSize: H, intermediateSize: I, numHeads: nh, numKvHeads: nkv, headDim: D } = c;
  put("model.embed_tokens.weight", Float32Array.from(read(params.embed)));
  params.layers.forEach((l, i) => {
    const p = `model.layers.${i}.`;
    const a = `${p}self_attn.`;
    put(`${p}input_layernorm.weight`, Float32Array.from(read(l.inputNorm)));
    const [q, k, vv] = splitLinear(read(l.qkv), H, [nh * D, nkv * D, nkv * D]);
    put(`${a}q_proj.weight`, q!);
    put(`${a}k_proj.weight`, k!);
    put(`${a}v_proj.weight`, vv!);
    if (l.qkvBias) {
      const b = read(l.qkvBias);
      put(`${a}q_proj.bias`, b.slice(0, nh * D));
      put(`${a}k_proj.bias`, b.slice(nh * D, (nh + nkv) * D));
      put(`${a}v_proj.bias`, b.slice((nh + nkv) * D));
    }
    if (l.qNorm && l.kNorm) {
      put(`${a}q_norm.weight`, Float32Array.from(read(l.qNorm)));
      put(`${a}k_norm.weight`, Float32Array.from(read(l.kNorm)));
    }
    put(`${a}o_proj.weight`, transpose2d(read(l.o), nh * D, H));
    if (l.oBias) put(`${a}o_proj.bias`, Float32Array.from(read(l.oBias)));
    put(`${p}post_attention_layernorm.weight`, Float32Array.from(read(l.postNorm)));
    const [gate, up] = splitLinear(read(l.gateUp), H, [I, I]);
    put(`${p}mlp.gate_proj.weight`, gate!);
    put(`${p}mlp.up_proj.weight`, up!);
    put(`${p}mlp.down_proj.weight`, transpose2d(read(l.down), I, H));
  });
  put("model.norm.weight", Float32Array.from(read(params.finalNorm)));
  if (params.lmHead) put("lm_head.weight", transpose2d(read(params.lmHead), H, c.vocabSize));
  return out;
}
