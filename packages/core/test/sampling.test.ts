import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng, sampleTokens, sampleTokensSync, setKernelPath, tf, useBackend } from "../src/index.js";
import type { SamplingParams } from "../src/index.js";

beforeAll(async () => {
  await useBackend("wasm");
});
afterAll(() => setKernelPath("auto"));

// Row 0: probabilities 0.5, 0.25, 0.15, 0.1 at ids 2, 0, 3, 1; row 1: a near-uniform row.
const logits = () =>
  tf.tensor2d([
    [Math.log(0.25), Math.log(0.1), Math.log(0.5), Math.log(0.15)],
    [0.1, 0.0, 0.05, 0.02],
  ]);

describe("the one sampler", () => {
  it("draws by inverse CDF in vocabulary order: row 0 with u maps 0.1 -> id 0, 0.3 -> 1, 0.5 -> 2, 0.9 -> 3", async () => {
    // cdf over ids 0..3 = 0.25, 0.35, 0.85, 1.0: the first id whose cdf reaches u.
    setKernelPath("host");
    const x = logits();
    for (const [u, id] of [
      [0.1, 0],
      [0.3, 1],
      [0.5, 2],
      [0.9, 3],
    ] as const) {
      const fixed = { next: () => u } as unknown as ReturnType<typeof createRng>;
      const out = await sampleTokens(x, { temperature: 1 }, [fixed, fixed]);
      expect(out.tokenIds[0]).toBe(id);
      expect(out.logProbs[0]).toBeCloseTo(Math.log([0.25, 0.1, 0.5, 0.15][id]!), 5);
    }
    x.dispose();
  });

  it.each<[string, SamplingParams]>([
    ["plain", { temperature: 1 }],
    ["top-k 2 at T 0.7", { temperature: 0.7, topK: 2 }],
    ["top-p 0.7", { temperature: 1, topP: 0.7 }],
    ["min-p 0.4, raw log-probs", { temperature: 1.3, minP: 0.4, logProbsMode: "raw" }],
    ["greedy", { temperature: 0 }],
  ])("host and tensor paths, async and sync, agree: %s", async (_name, params) => {
    const x = logits();
    const draw = async (path: "host" | "tensor", sync: boolean) => {
      setKernelPath(path);
      const rngs = [createRng(7).fork(0), createRng(7).fork(1)];
      const all = [];
      for (let i = 0; i < 20; i++) {
        const r = sync ? sampleTokensSync(x, params, rngs) : await sampleTokens(x, params, rngs);
        all.push(
          [...r.tokenIds],
          [...r.logProbs].map((v) => Number(v.toFixed(5))),
        );
      }
      return all;
    };
    const host = await draw("host", false);
    expect(await draw("tensor", false)).toEqual(host);
    expect(await draw("host", true)).toEqual(host);
    expect(await draw("tensor", true)).toEqual(host);
    x.dispose();
  });
});
