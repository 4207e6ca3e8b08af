import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { setKernelPath, tf, useBackend } from "@tokenrl/core";
import type { CausalLM, KVCache, ModelConfigInput } from "../src/index.js";
import { attendRows, siluGate } from "../src/host-decode.js";
import { allocHostKV, kernelAttend, kernelSilu, releaseHostKV } from "../src/host-kv.js";
import { ids2d, maxAbsDiff, tinyModel, values } from "./helpers.js";

const here = dirname(fileURLToPath(import.meta.url));

interface Script {
  /** Left-padded prompt ids and their mask. */
  prompt: number[][];
  mask: number[][];
  /** Tokens fed at each decode step (one per row of the current batch). */
  steps: number[][];
  /** Pass the mask and positions explicitly (as @tokenrl/rollout does) or let forward derive them. */
  explicit: boolean;
  /** After this step, keep these rows (selectRows). */
  select?: { after: number; rows: number[] };
  /** After this step, feed the next two tokens in one forward (a tensor-path forward on a host cache). */
  chunkAfter?: number;
  maxLength?: number;
}

/** Every step's logits of `script`, on whichever path `setKernelPath` selects. */
function run(model: CausalLM, script: Script): number[] {
  const out: number[] = [];
  const B0 = script.prompt.length;
  const P = script.prompt[0]!.length;
  let mask = script.mask.map((r) => [...r]);
  const ids = ids2d(script.prompt);
  const m = tf.tensor2d(mask);
  const pre = model.forward(ids, { attentionMask: m, cache: model.createCache(B0, script.maxLength ?? 64) });
  out.push(...values(pre.logits));
  tf.dispose([ids, m, pre.logits]);
  let cache: KVCache = pre.cache;
  let t = 0;
  while (t < script.steps.length) {
    const chunk = script.chunkAfter !== undefined && t === script.chunkAfter + 1 ? 2 : 1;
    const tokens = script.steps.slice(t, t + chunk);
    const B = cache.batchSize;
    const input = tf.tensor2d(
      Array.from({ length: B }, (_, b) => tokens.map((s) => s[b]!)),
      [B, chunk],
      "int32",
    );
    mask = mask.map((r) => [...r, ...new Array<number>(chunk).fill(1)]);
    const past = cache.length;
    const opts: Parameters<CausalLM["forward"]>[1] = { cache };
    const extra: tf.Tensor[] = [input];
    if (script.explicit) {
      const am = tf.tensor2d(mask);
      const pos = tf.tensor2d(
        mask.map((r) =>
          Array.from({ length: chunk }, (_, i) => r.slice(0, past + i + 1).reduce((a, v) => a + v, 0) - 1),
        ),
        [B, chunk],
        "int32",
      );
      opts.attentionMask = am;
      opts.positionIds = pos;
      extra.push(am, pos);
    }
    const r = model.forward(input, opts);
    out.push(...values(r.logits));
    tf.dispose([...extra, r.logits]);
    cache = r.cache;
    t += chunk;
    if (script.select && t - 1 === script.select.after) {
      cache = cache.selectRows(script.select.rows);
      mask = script.select.rows.map((i) => mask[i]!);
      script = { ...script, steps: script.steps.map((s, j) => (j < t ? s : script.select!.rows.map((i) => s[i]!))) };
    }
    expect(cache.length).toBe(P + t);
  }
  cache.dispose();
  return out;
}

function bothPaths(model: CausalLM, script: Script): { host: number[]; tensor: number[] } {
  setKernelPath("tensor");
  const tensor = run(model, script);
  setKernelPath("auto");
  const before = tf.memory().numTensors;
  const host = run(model, script);
  expect(tf.memory().numTensors).toBe(before);
  return { host, tensor };
}

const padded: Pick<Script, "prompt" | "mask"> = {
  prompt: [
    [0, 0, 1, 5, 6],
    [1, 7, 8, 9, 10],
    [0, 1, 11, 12, 13],
  ],
  mask: [
    [0, 0, 1, 1, 1],
    [1, 1, 1, 1, 1],
    [0, 1, 1, 1, 1],
  ],
};
const steps = Array.from({ length: 12 }, (_, t) => [3 + (t % 7), 4 + ((2 * t) % 11), 5 + ((3 * t) % 13)]);

const families: [string, Partial<ModelConfigInput>][] = [
  ["qwen3 (q/k norm, GQA 4/2, head 8: the wasm kernel)", {}],
  ["qwen2 (q/k/v bias, tied, 4/1 heads)", { modelType: "qwen2", numKvHeads: 1, tieWordEmbeddings: true }],
  [
    "llama (o bias, llama3 rope scaling)",
    {
      modelType: "llama",
      oBias: true,
      qkvBias: true,
      ropeScaling: { type: "llama3", factor: 8, originalMaxPositionEmbeddings: 16 },
    },
  ],
  ["head size 6 (no kernel: attention in JS)", { hiddenSize: 24, headDim: 6 }],
];

describe.each(TEST_BACKENDS)("host-path decode steps on %s", (backend) => {
  afterEach(() => setKernelPath("auto"));
  afterAll(() => setKernelPath("auto"));

  it.each(families)("%s: every step's logits equal the tensor path's", async (_name, overrides) => {
    await useBackend(backend);
    const model = tinyModel(overrides);
    for (const explicit of [true, false]) {
      const { host, tensor } = bothPaths(model, { ...padded, steps, explicit });
      expect(maxAbsDiff(host, tensor)).toBeLessThan(2e-5);
      // The comparison can fail: the logits move from step to step.
      expect(maxAbsDiff(host.slice(345, 414), host.slice(414, 483))).toBeGreaterThan(1e-2);
    }
    model.dispose();
  });

  it("rows leaving (in place), a fan-out (new storage) and a two-token forward on a host cache", async () => {
    await useBackend(backend);
    const model = tinyModel();
    const scripts: Script[] = [
      { ...padded, steps, explicit: true, select: { after: 3, rows: [0, 2] } },
      { ...padded, steps, explicit: false, select: { after: 2, rows: [1] } },
      { ...padded, steps, explicit: true, select: { after: 4, rows: [2, 2, 0, 1] } },
      { ...padded, steps, explicit: false, chunkAfter: 5 },
      { ...padded, steps, explicit: true, chunkAfter: 2, select: { after: 6, rows: [1, 0] } },
    ];
    for (const script of scripts) {
      const { host, tensor } = bothPaths(model, script);
      expect(maxAbsDiff(host, tensor)).toBeLessThan(2e-5);
    }
    model.dispose();
  });

  it("grows its storage past the first capacity, up to the cache's maxLength, then refuses", async () => {
    await useBackend(backend);
    const model = tinyModel();
    const long = Array.from({ length: 40 }, (_, t) => [3 + (t % 17), 4 + ((5 * t) % 19), 6 + (t % 5)]);
    const { host, tensor } = bothPaths(model, { ...padded, steps: long, explicit: false, maxLength: 45 });
    expect(maxAbsDiff(host, tensor)).toBeLessThan(2e-5);
    let cache = model.createCache(1, 3);
    const pre = model.forward(ids2d([[1, 5]]), { cache });
    cache = pre.cache;
    const one = ids2d([[6]]);
    const step = model.forward(one, { cache });
    expect(() => model.forward(one, { cache: step.cache })).toThrow(/exceed the cache's maxLength 3/);
    tf.dispose([pre.logits, one, step.logits]);
    step.cache.dispose();
    model.dispose();
  });
});

describe("the attention kernel", () => {
  it("is compiled and bound to the cache's memory where the head size allows", () => {
    const dims = { numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8 };
    const state = allocHostKV(3, 10, dims);
    expect(state.kernel).toBeDefined();
    expect(state.keys[1]!.buffer).toBe(state.values[0]!.buffer);
    expect(state.keys[0]!.length).toBe(3 * 2 * 10 * 8);
    expect(allocHostKV(3, 10, { ...dims, headDim: 6 }).kernel).toBeUndefined();
  });

  it("a released cache's arena serves the next cache of a size it holds, and only one at a time", () => {
    const dims = { numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8 };
    // Empty the free list that earlier caches of this thread filled (each tiny state takes one arena).
    const held = [allocHostKV(1, 1, dims), allocHostKV(1, 1, dims)];
    const a = allocHostKV(8, 32, dims);
    const buffer = a.keys[0]!.buffer;
    releaseHostKV(a);
    releaseHostKV(a); // idempotent: not listed twice
    const b = allocHostKV(4, 32, dims); // smaller: fits in a's arena
    expect(b.keys[0]!.buffer).toBe(buffer);
    const c = allocHostKV(4, 32, dims);
    expect(c.keys[0]!.buffer).not.toBe(buffer);
    releaseHostKV(b);
    releaseHostKV(c);
    const big = allocHostKV(64, 32, dims); // larger than both: a new arena
    expect([buffer, c.keys[0]!.buffer]).not.toContain(big.keys[0]!.buffer);
    for (const s of [big, ...held]) releaseHostKV(s);
  });

  it("its JS twin (no SIMD, a cache over 2 GiB) gives the kernel's bits exactly, masked positions included", () => {
    const dims = { numLayers: 1, numHeads: 4, numKvHeads: 2, headDim: 16 };
    const [B, cap, S] = [3, 12, 9];
    const state = allocHostKV(B, cap, dims);
    const k = state.kernel!;
    let seed = 1;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed / 2147483647) * 6 - 3;
    };
    const qkv = k.work.get("qkv")!;
    for (const a of [state.keys[0]!, state.values[0]!, qkv])
      for (let i = 0; i < a.length; i++) a[i] = Math.fround(rand());
    const bias = k.work.get("bias")!.subarray(0, B * S);
    for (let i = 0; i < bias.length; i++) bias[i] = i % 5 === 0 ? -1e9 : 0;
    const scale = Math.fround(1 / Math.sqrt(16));
    kernelAttend(k, 0, B, S, scale);
    const kernel = Array.from(k.work.get("out")!.subarray(0, B * 4 * 16));
    const js = Array.from(attendRows(qkv, state.keys[0]!, state.values[0]!, bias, B, S, 4, 2, 16, cap, scale));
    expect(js).toEqual(kernel);
    expect(new Set(kernel).size).toBeGreaterThan(100);
    releaseHostKV(state);
  });

  it("its silu and the JS twin give the same bits, over the gate's whole range", () => {
    const [B, I] = [3, 10];
    const state = allocHostKV(B, 4, { numLayers: 1, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: I });
    const k = state.kernel!;
    const gu = k.work.get("gu")!.subarray(0, B * 2 * I);
    const gates = [0, -0, 1e-8, -1e-8, 0.5, -0.5, 3, -3, 20, -20, 800, -800, 88.7, -88.7, 1e30, -1e30];
    for (let i = 0; i < gu.length; i++) gu[i] = Math.fround(i % (2 * I) < I ? gates[i % gates.length]! : 1.5 - (i % 7));
    expect(k.gu).toBeGreaterThanOrEqual(0);
    kernelSilu(k, B);
    const kernel = Array.from(k.work.get("act")!.subarray(0, B * I));
    expect(Array.from(siluGate(gu, B, I, new Float32Array(B * I)))).toEqual(kernel);
    expect(kernel.every(Number.isFinite)).toBe(true);
    releaseHostKV(state);
  });

  it("a decode step refuses a token id outside the vocabulary and leaves the cache usable", async () => {
    await useBackend("wasm");
    const model = tinyModel();
    const pre = model.forward(ids2d([[1, 5, 6]]), { cache: model.createCache(1, 8) });
    const bad = ids2d([[23]]);
    expect(() => model.forward(bad, { cache: pre.cache })).toThrow(/token id 23 is outside \[0, 23\)/);
    const good = ids2d([[7]]);
    const step = model.forward(good, { cache: pre.cache });
    expect(step.cache.length).toBe(4);
    tf.dispose([pre.logits, bad, good, step.logits]);
    step.cache.dispose();
    model.dispose();
  });

  it("the committed bytes are attention.wat's (scripts/build-kernels.mjs --check)", () => {
    const script = join(here, "..", "scripts", "build-kernels.mjs");
    expect(() => execFileSync(process.execPath, [script, "--check"], { stdio: "pipe" })).not.toThrow();
  });
});
