import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { ConfigError, batchFromArrays, disposeBatch, setKernelPath, tf, useBackend } from "@tokenrl/core";
import type { BatchArrays, TrainingBatch } from "@tokenrl/core";
import { createRng } from "@tokenrl/core";
import {
  definePartitioner,
  describePartitioners,
  makePartition,
  ratio,
  HTPO_CELLS,
  HTPO_SUBSETS,
  disposePartition,
  entropyQuantilePartition,
  htpoCells,
  htpoPartition,
  partitioners,
  positionPartition,
  readCounts,
} from "../src/index.js";
import { select } from "../src/select.js";
import type { Partition } from "../src/index.js";

const masksOf = async (p: Partition) =>
  Object.fromEntries(
    await Promise.all(Object.entries(p.masks).map(async ([k, v]) => [k, (await v.array()) as number[][]])),
  );

function withBatch<T>(
  arrays: BatchArrays & { responseMask: number[][] },
  f: (b: TrainingBatch) => Promise<T>,
): Promise<T> {
  const b = batchFromArrays(arrays);
  return f(b).finally(() => disposeBatch(b));
}

// Group 0: one correct, one wrong -> accuracy 0.5 < 0.6: hard. Group 1: both correct -> easy.
const htpoBatch = {
  responseMask: [
    [1, 1, 1, 1, 1, 0],
    [1, 1, 1, 0, 0, 0],
    [1, 1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0, 0],
  ],
  entropy: [
    [1, 2, 2, 0.5, 2, 9], // ties at the top: k = max(floor(0.2*5),1) = 1, tau = 2, high = the three 2s
    [3, 1, 2, 0, 0, 0], // k = 1, tau = 3: high {3}, low {1, 2}
    [6, 5, 4, 3, 2, 1], // k = 1: high {6}
    [0, 0, 0, 0, 0, 0], // empty row
  ],
  correct: [0, 1, 1, 1],
  groupIds: [0, 0, 1, 1],
};

describe.each(TEST_BACKENDS)("partitioners on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => setKernelPath("auto"));

  describe.each(["host", "tensor"] as const)("HTPO partition (%s kernels)", (impl) => {
    beforeAll(() => setKernelPath(impl));

    it("correctness all-correct / all-wrong drops the verdict axis of the cells, not of the difficulty", async () => {
      await withBatch(htpoBatch, async (b) => {
        // Row 0 is wrong in hard group 0: with all-correct it sits in hard-correct (high {2, 2, 2} as before);
        // row 2 (correct, easy group 1) with all-wrong sits in easy-wrong. Difficulty is unchanged.
        const allCorrect = htpoPartition(b, { correctness: "all-correct" });
        const m1 = await masksOf(allCorrect);
        expect(m1["hard-correct-high"]![0]).toEqual([0, 1, 1, 0, 1, 0]);
        expect(m1["hard-wrong-high"]!.flat().every((v: number) => v === 0)).toBe(true);
        const allWrong = htpoPartition(b, { correctness: "all-wrong" });
        const m2 = await masksOf(allWrong);
        expect(m2["easy-wrong-low"]![2]).toEqual([0, 1, 1, 1, 1, 1]);
        expect(m2["detach-highest"]!.flat().every((v: number) => v === 0)).toBe(true);
        expect(() => htpoPartition(b, { correctness: "none" as never })).toThrow(/htpo\.correctness: expected one of/);
        disposePartition(allCorrect);
        disposePartition(allWrong);
      });
    });

    it("splits entropy per response with ties at tau all high, and cells follow difficulty x verdict", async () => {
      await withBatch(htpoBatch, async (b) => {
        const p = htpoPartition(b);
        const m = await masksOf(p);
        expect(m["hard-wrong-high"]![0]).toEqual([0, 1, 1, 0, 1, 0]);
        expect(m["hard-wrong-low"]![0]).toEqual([1, 0, 0, 1, 0, 0]);
        expect(m["hard-correct-high"]![1]).toEqual([1, 0, 0, 0, 0, 0]);
        expect(m["hard-correct-low"]![1]).toEqual([0, 1, 1, 0, 0, 0]);
        expect(m["easy-correct-high"]![2]).toEqual([1, 0, 0, 0, 0, 0]);
        expect(m["easy-correct-low"]![2]).toEqual([0, 1, 1, 1, 1, 1]);
        const counts = await readCounts(p);
        // The empty row is in no cell; every valid token is in exactly one of the eight.
        const eight = [
          "hard-correct-low",
          "hard-correct-high",
          "easy-correct-low",
          "easy-correct-high",
          "hard-wrong-low",
          "hard-wrong-high",
          "easy-wrong-low",
          "easy-wrong-high",
        ] as const;
        expect(eight.reduce((s, k) => s + counts[k], 0)).toBe(14);
        expect(m["easy-correct-high"]![3]).toEqual([0, 0, 0, 0, 0, 0]);
        disposePartition(p);
      });
    });

    it("detach-lowest uses the strict < of the reference: zeroes k1 - 1 low tokens, none at the default ratio", async () => {
      await withBatch(htpoBatch, async (b) => {
        // Row 1 low set {1, 2}: default 0.006 -> k1 = 1 -> nothing below the smallest.
        let p = htpoPartition(b);
        expect((await masksOf(p))["detach-lowest"]![1]).toEqual([0, 0, 0, 0, 0, 0]);
        disposePartition(p);
        // detachLowRatio 1 -> k1 = 2 -> threshold 2 -> the token with entropy 1 (k1 - 1 = 1 token).
        p = htpoPartition(b, { detachLowRatio: 1 });
        expect((await masksOf(p))["detach-lowest"]![1]).toEqual([0, 1, 0, 0, 0, 0]);
        expect((await readCounts(p))["detach-lowest"]).toBe(1);
        disposePartition(p);
      });
    });

    it("detach-highest takes the top max(floor(ratio |high|), 1) of an easy-correct response's high set", async () => {
      // 10 tokens, ratio 0.2 -> high = top 2 {10, 9}; k2 = max(floor(0.02*2),1) = 1 -> {10}; with ratio 1: both.
      const arrays = {
        responseMask: [Array(10).fill(1), Array(10).fill(1)],
        entropy: [
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        ],
        correct: [1, 1],
        groupIds: [0, 0],
      };
      await withBatch(arrays, async (b) => {
        let p = htpoPartition(b);
        expect((await masksOf(p))["detach-highest"]![0]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        disposePartition(p);
        p = htpoPartition(b, { detachHighRatio: 1 });
        expect((await masksOf(p))["detach-highest"]![0]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        disposePartition(p);
      });
    });

    it("a one-token hard-correct response (the reference raises) is all high, with nothing detached", async () => {
      await withBatch(
        {
          responseMask: [
            [1, 0],
            [1, 1],
          ],
          entropy: [
            [0.3, 0],
            [1, 1],
          ],
          correct: [1, 0],
          groupIds: [5, 5],
        },
        async (b) => {
          const p = htpoPartition(b, { detachLowRatio: 1 });
          const m = await masksOf(p);
          expect(m["hard-correct-high"]![0]).toEqual([1, 0]);
          expect(m["detach-lowest"]![0]).toEqual([0, 0]);
          // All-equal entropies: every token ties at tau, so all are high.
          expect(m["hard-wrong-high"]![1]).toEqual([1, 1]);
          disposePartition(p);
        },
      );
    });
  });

  it("difficultyThreshold decides hard vs easy on group accuracy (strict <)", async () => {
    await withBatch(
      {
        responseMask: [[1], [1], [1], [1]],
        entropy: [[1], [1], [1], [1]],
        correct: [1, 1, 1, 0],
        groupIds: [0, 0, 0, 0],
      },
      async (b) => {
        // accuracy 0.75: easy at 0.6, easy at 0.75 (not <), hard at 0.8.
        for (const [threshold, hard] of [
          [0.6, 0],
          [0.75, 0],
          [0.8, 1],
        ] as const) {
          const p = htpoPartition(b, { difficultyThreshold: threshold });
          expect((await readCounts(p))["hard-correct-high"]).toBe(hard ? 3 : 0);
          disposePartition(p);
        }
      },
    );
  });

  it("entropy-quantile ranks over the whole batch (top 20%, ties included) or per response", async () => {
    await withBatch(
      {
        responseMask: [
          [1, 1, 1, 1, 1],
          [1, 1, 1, 1, 1],
        ],
        entropy: [
          [9, 8, 1, 1, 1],
          [7, 1, 1, 1, 1],
        ],
      },
      async (b) => {
        // 10 tokens: k = 2 -> tau = 8 -> {9, 8}; per response: k = 1 -> {9} and {7}.
        let p = entropyQuantilePartition(b);
        expect((await masksOf(p)).high).toEqual([
          [1, 1, 0, 0, 0],
          [0, 0, 0, 0, 0],
        ]);
        disposePartition(p);
        p = entropyQuantilePartition(b, { scope: "response" });
        expect((await masksOf(p)).high).toEqual([
          [1, 0, 0, 0, 0],
          [1, 0, 0, 0, 0],
        ]);
        disposePartition(p);
      },
    );
  });

  it("position buckets count only valid tokens (holes do not shift positions)", async () => {
    await withBatch(
      {
        responseMask: [
          [1, 1, 1, 1, 1, 1],
          [1, 0, 1, 1, 0, 0],
        ],
      },
      async (b) => {
        // Row 0: positions 0..5 of 6 -> fractions 0, .17 | .33, .5 | .67, .83. Row 1: 3 valid tokens -> 0 | .33 | .67.
        const p = positionPartition(b);
        const m = await masksOf(p);
        expect(m.early).toEqual([
          [1, 1, 0, 0, 0, 0],
          [1, 0, 0, 0, 0, 0],
        ]);
        expect(m.middle).toEqual([
          [0, 0, 1, 1, 0, 0],
          [0, 0, 1, 0, 0, 0],
        ]);
        expect(m.late).toEqual([
          [0, 0, 0, 0, 1, 1],
          [0, 0, 0, 1, 0, 0],
        ]);
        disposePartition(p);
      },
    );
  });

  it("partitioners are registered by name and reject unknown or out-of-range options", async () => {
    expect(partitioners.list().filter((n) => !n.startsWith("toy-"))).toEqual(["entropy-quantile", "htpo", "position"]);
    await withBatch(htpoBatch, async (b) => {
      expect(() => htpoPartition(b, { highEntropyRatio: 0 })).toThrow(ConfigError);
      expect(() => htpoPartition(b, { bogus: 1 } as never)).toThrow(/htpo.bogus/);
      expect(() => partitioners.get("htpo").partition({ responseMask: b.responseMask })).toThrow(/entropy/);
    });
  });

  it("the host partition takes verdicts and group ids from batch.host when the rollout put them there", async () => {
    // The tensors say every response is wrong and in one group; batch.host carries the real verdicts
    // and groups, so the host path reads no [B] tensor and gives the cells of htpoBatch.
    const misleading = { ...htpoBatch, correct: [0, 0, 0, 0], groupIds: [5, 5, 5, 5] };
    await withBatch(misleading, async (b) => {
      b.host = { correct: Float32Array.of(0, 1, 1, 1), groupIds: Int32Array.of(0, 0, 1, 1) };
      setKernelPath("host");
      const p = htpoPartition(b);
      setKernelPath("auto");
      const m = await masksOf(p);
      expect(m["hard-wrong-high"]![0]).toEqual([0, 1, 1, 0, 1, 0]);
      expect(m["hard-correct-high"]![1]).toEqual([1, 0, 0, 0, 0, 0]);
      expect(m["easy-correct-low"]![2]).toEqual([0, 1, 1, 1, 1, 1]);
      disposePartition(p);
    });
  });

  it("definePartitioner registers a partitioner that checks its options and the batch fields it requires", async () => {
    const halvesName = `toy-halves-${backend}`;
    const halves = definePartitioner<{ split: number }, "first" | "rest">({
      name: halvesName,
      description: "toy: the first `split` columns vs the rest",
      requires: ["entropy"],
      defaults: { split: 1 },
      validate: { split: ratio() },
      cells: ["first", "rest"],
      tensor: (batch, o) => {
        const [B, T] = batch.responseMask.shape;
        const cut = Math.round(o.split * T);
        const first = tf.tidy(() =>
          tf.mul(batch.responseMask, tf.concat([tf.ones([B, cut]), tf.zeros([B, T - cut])], 1)),
        ) as tf.Tensor2D;
        return makePartition(halvesName, { first, rest: tf.sub(batch.responseMask, first) as tf.Tensor2D });
      },
    });
    expect(partitioners.get(halvesName)).toBe(halves);
    expect(describePartitioners().find((p) => p.name === halvesName)).toMatchObject({
      requires: ["entropy"],
      defaults: { split: 1 },
      cells: ["first", "rest"],
    });
    await withBatch(htpoBatch, async (b) => {
      const p = halves.partition(b, { split: 0.5 });
      // First 3 columns: rows with 5, 3, 6 and 0 valid tokens give 3 + 3 + 3 + 0 = 9 first, 2 + 0 + 3 = 5 rest.
      expect((await masksOf(p)).first![0]).toEqual([1, 1, 1, 0, 0, 0]);
      expect(await readCounts(p)).toEqual({ first: 9, rest: 5 });
      disposePartition(p);
      expect(() => halves.partition(b, { split: 2 })).toThrow(
        /toy-halves-.*\.split: expected a ratio in \(0, 1\], got 2/,
      );
      expect(() => halves.partition({ responseMask: b.responseMask })).toThrow(/entropy/);
    });
  });

  it("frees every tensor it makes", async () => {
    await withBatch(htpoBatch, async (b) => {
      const before = tf.memory().numTensors;
      for (const impl of ["host", "tensor", "host"] as const) {
        setKernelPath(impl);
        disposePartition(htpoPartition(b));
        disposePartition(entropyQuantilePartition(b));
        disposePartition(positionPartition(b));
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it("quickselect finds the value a sort puts at every index, ties included, and partitions around it", () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + rng.int(60);
      // Few distinct values: many ties.
      const a = Float64Array.from({ length: n }, () => rng.int(trial % 2 ? 4 : 1000) / 4);
      const sorted = a.slice().sort();
      for (let k = 0; k < n; k++) {
        const b = a.slice();
        const v = select(b, k, 0, n - 1);
        expect(v).toBe(sorted[k]);
        for (let j = 0; j < k; j++) expect(b[j]!).toBeLessThanOrEqual(v);
        for (let j = k + 1; j < n; j++) expect(b[j]!).toBeGreaterThanOrEqual(v);
      }
    }
  });

  it("host and tensor HTPO partitions agree on a random batch with tied entropies; htpoCells matches the masks", async () => {
    const rng = createRng(11);
    const B = 12;
    const T = 40;
    const lengths = Array.from({ length: B }, () => rng.int(T + 1));
    const arrays = {
      responseMask: Array.from({ length: B }, (_, i) => Array.from({ length: T }, (_, t) => (t < lengths[i]! ? 1 : 0))),
      entropy: Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(6) / 2)),
      correct: Array.from({ length: B }, () => (rng.next() < 0.5 ? 1 : 0)),
      groupIds: Array.from({ length: B }, (_, i) => Math.floor(i / 4)),
    };
    await withBatch(arrays, async (b) => {
      const options = { highEntropyRatio: 0.3, detachLowRatio: 0.25, detachHighRatio: 0.5 };
      setKernelPath("host");
      const host = htpoPartition(b, options);
      const cells = htpoCells(b, options);
      setKernelPath("tensor");
      const tensor = htpoPartition(b, options);
      setKernelPath("auto");
      expect(await masksOf(host)).toEqual(await masksOf(tensor));
      expect(await readCounts(host)).toEqual(await readCounts(tensor));
      const names = [...HTPO_CELLS, ...HTPO_SUBSETS];
      const hostMasks = await masksOf(host);
      names.forEach((name, index) => {
        const fromCells = Array.from({ length: B }, (_, i) =>
          Array.from({ length: T }, (_, t) => {
            const code = cells.tokenCells[i * T + t]!;
            if (code === 255) return 0;
            if (index < 8) return (code & 15) === index ? 1 : 0;
            return code & (index === 8 ? 16 : 32) ? 1 : 0;
          }),
        );
        expect(fromCells).toEqual(hostMasks[name]);
        expect(cells.counts[index]).toBe(fromCells.flat().reduce<number>((x, y) => x + y, 0));
      });
      disposePartition(host);
      disposePartition(tensor);
    });
  });
});
