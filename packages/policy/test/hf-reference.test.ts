import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import { loadPolicy } from "../src/index.js";
import { maxAbsDiff } from "./helpers.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

// The reference logits were computed by fixtures/hf_reference.py, an independent NumPy
// re-implementation of HF transformers' Llama/Qwen2/Qwen3 forward pass (float64) that
// reads the checkpoint with its own safetensors parser:
//   python3 test/fixtures/hf_reference.py test/fixtures/tiny-qwen3 "1,5,6,7,8,9,10,2" > .../reference-logits.json
// tiny-qwen3: bf16 weights, GQA 4/2 heads, q/k norm, untied. tiny-qwen2: f32, q/k/v bias, 4/1 heads, tied, rope_theta 1000.
describe.each(TEST_BACKENDS)("logits match an independent HF-style reference on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(["tiny-qwen3", "tiny-qwen2"])("%s", async (name) => {
    const dir = join(fixtures, name);
    const ref = JSON.parse(readFileSync(join(dir, "reference-logits.json"), "utf8")) as {
      ids: number[];
      logits: number[][];
    };
    const { model } = await loadPolicy(dir);
    const ids = tf.tensor2d([ref.ids], [1, ref.ids.length], "int32");
    const { logits, cache } = model.forward(ids);
    expect(maxAbsDiff(logits.dataSync(), ref.logits.flat())).toBeLessThan(2e-4);
    tf.dispose([ids, logits]);
    cache.dispose();
    model.dispose();
  });
});
