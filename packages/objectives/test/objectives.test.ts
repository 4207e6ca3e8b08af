import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import {
  ConfigError,
  ShapeError,
  UnknownNameError,
  batchFromArrays,
  disposeBatch,
  setKernelPath,
  tf,
  useBackend,
} from "@tokenrl/core";
import type { BatchArrays, TrainingBatch } from "@tokenrl/core";
import {
  composeObjective,
  describeObjectives,
  cppoLoss,
  entropyBonus,
  gspoLoss,
  htpoLoss,
  klPenalty,
  lossAndGrad,
  objectives,
  ppoClipLoss,
  readMetrics,
} from "../src/index.js";
import type { ObjectiveResult } from "../src/index.js";

type Arrays = BatchArrays & { responseMask: number[][] };

async function run(arrays: Arrays, objective: (b: TrainingBatch) => ObjectiveResult) {
  const batch = batchFromArrays(arrays);
  try {
    const r = lossAndGrad(objective, batch);
    const out = {
      loss: (await r.loss.data())[0]!,
      grad: (await r.grad.array()) as number[][],
      metrics: await readMetrics(r.metrics),
    };
    tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
    return out;
  } finally {
    disposeBatch(batch);
  }
}

const ln = Math.log;

describe.each(TEST_BACKENDS)("objectives on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => setKernelPath("auto"));

  describe.each(["host", "tensor"] as const)("%s kernels", (impl) => {
    beforeAll(() => setKernelPath(impl));

    it("PPO clip: dual clip caps A < 0 at -A c with zero gradient; dualClip null switches it off", async () => {
      // A = -1, r = 5: max(-A r, -A clip(r, .8, 1.2)) = max(5, 1.2) = 5, gradient -A r = 5.
      const arrays = { responseMask: [[1]], logProbs: [[ln(5)]], oldLogProbs: [[0]], advantages: [[-1]] };
      const capped = await run(arrays, (b) => ppoClipLoss(b, { dualClip: 3 }));
      expect(capped.loss).toBeCloseTo(3, 5);
      expect(capped.grad[0]![0]).toBe(0);
      expect(capped.metrics.clipFractionLower).toBeCloseTo(1, 6);
      const off = await run(arrays, (b) => ppoClipLoss(b, { dualClip: null }));
      expect(off.loss).toBeCloseTo(5, 4);
      expect(off.grad[0]![0]).toBeCloseTo(5, 4);
      expect(off.metrics.clipFractionLower).toBe(0);
    });

    it("PPO clip: the log-ratio clamp at 20 gives r = e^20 and zero gradient beyond it", async () => {
      // logp - old = 30, A = -1, no dual clip: max(-A r, -A clip(r)) = max(e^20, 1.2) = e^20; the clamp zeroes the gradient.
      const got = await run({ responseMask: [[1]], logProbs: [[0]], oldLogProbs: [[-30]], advantages: [[-1]] }, (b) =>
        ppoClipLoss(b, { dualClip: null }),
      );
      // Tolerance of float32 at e^20 (= 4.85e8).
      expect(Math.abs(got.loss - Math.exp(20))).toBeLessThan(Math.exp(20) * 1e-6);
      expect(Math.abs(got.grad[0]![0]!)).toBe(0);
      expect(got.metrics.ppoKl).toBeCloseTo(-20, 4);
    });

    it("an all-empty batch gives loss 0 and a zero gradient, never NaN, in every objective", async () => {
      const arrays = {
        responseMask: [
          [0, 0],
          [0, 0],
        ],
        logProbs: [
          [-1, -2],
          [-1, -1],
        ],
        oldLogProbs: [
          [-1, -1],
          [-1, -1],
        ],
        rolloutLogProbs: [
          [-1, -1],
          [-1, -1],
        ],
        advantages: [
          [1, 1],
          [-1, -1],
        ],
        entropy: [
          [1, 1],
          [1, 1],
        ],
        correct: [1, 0],
        groupIds: [0, 0],
      };
      for (const name of objectives.list()) {
        const got = await run(arrays, (b) => objectives.get(name).compute(b));
        expect({ name, loss: got.loss }).toEqual({ name, loss: 0 });
        expect(got.grad.flat().every((g) => g === 0)).toBe(true);
        expect(Object.values(got.metrics).every(Number.isFinite)).toBe(true);
      }
    });

    it("empty rows beside valid ones contribute nothing and do not change the token-mean", async () => {
      // One valid token, r = 1, A = 2: token-mean loss = -2 whatever the empty row holds.
      const got = await run(
        {
          responseMask: [
            [1, 0],
            [0, 0],
          ],
          logProbs: [
            [-1, 5],
            [9, 9],
          ],
          oldLogProbs: [
            [-1, 0],
            [0, 0],
          ],
          advantages: [
            [2, 2],
            [7, 7],
          ],
        },
        (b) => ppoClipLoss(b),
      );
      expect(got.loss).toBeCloseTo(-2, 6);
      expect(got.grad).toEqual([
        [-2, 0],
        [0, 0],
      ]);
    });

    describe("HTPO sign", () => {
      // Group 0: one correct, one wrong -> accuracy 0.5: hard. One-token responses are all high-entropy.
      // Correct token: A = 1, r = 1.5 > 1.28 (encourage branch). Wrong token: A = -1, r = 0.5 < 0.8 (penalise branch).
      const arrays = {
        responseMask: [[1], [1]],
        logProbs: [[ln(1.5)], [ln(0.5)]],
        oldLogProbs: [[0], [0]],
        advantages: [[1], [-1]],
        entropy: [[1], [1]],
        correct: [1, 0],
        groupIds: [0, 0],
      };
      it("paper: -(1+eps_high) A iota and -(1-eps_low) A iota, token-mean", async () => {
        // (-(1.28)(1) + -(0.8)(-1)) / 2 = -0.24; gradients -1.28/2, 0.8/2.
        const got = await run(arrays, (b) => htpoLoss(b, { sign: "paper" }));
        expect(got.loss).toBeCloseTo(-0.24, 5);
        expect(got.grad[0]![0]).toBeCloseTo(-0.64, 5);
        expect(got.grad[1]![0]).toBeCloseTo(0.4, 5);
        expect(got.metrics.clipFraction).toBeCloseTo(1, 6);
        expect(got.metrics["cells/hard-correct-high/tokens"]).toBe(1);
        expect(got.metrics["cells/hard-wrong-high/ratioMean"]).toBeCloseTo(0.5, 5);
      });
      it("released: the same branches negated, nothing else changes", async () => {
        const got = await run(arrays, (b) => htpoLoss(b, { sign: "released" }));
        expect(got.loss).toBeCloseTo(0.24, 5);
        expect(got.grad[0]![0]).toBeCloseTo(0.64, 5);
        expect(got.grad[1]![0]).toBeCloseTo(-0.4, 5);
      });
      it("hard-correct r < 1 - eps_low: weight exp(old - logp) without the [-20, 20] clamp", async () => {
        // logp - old = -25: the ratio clamps at e^-20, but the weight is e^25; paper loss -e^25 A over 2 tokens.
        const got = await run({ ...arrays, logProbs: [[-25], [ln(0.5)]], advantages: [[1], [0]] }, (b) =>
          htpoLoss(b, { sign: "paper" }),
        );
        expect(Math.abs(got.loss + Math.exp(25) / 2)).toBeLessThan((Math.exp(25) / 2) * 1e-5);
        expect(Math.abs(got.grad[0]![0]! + Math.exp(25) / 2)).toBeLessThan((Math.exp(25) / 2) * 1e-5);
      });
    });

    it("CPPO: an early drift exhausts the prefix budget, later tokens are dropped, then the budget recovers", async () => {
      // delta 0.1, wMin 1 (w = 1), budget 0.05 (static), A = 1, mu = 0.5, pi = 0.65, 0.52, 0.52:
      // D = .15, .02, .02. t1: c = min(.1, .1) = .1 < .15 drop. t2: c = .1 + .05 - .15 = 0 < .02 drop.
      // t3: c = .1 + .10 - .17 = .03 >= .02 keep. token-sum loss = -(0.52/0.5) = -1.04, gradient -1.04 on t3.
      const got = await run(
        {
          responseMask: [[1, 1, 1]],
          logProbs: [[ln(0.65), ln(0.52), ln(0.52)]],
          rolloutLogProbs: [[ln(0.5), ln(0.5), ln(0.5)]],
          advantages: [[1, 1, 1]],
        },
        (b) => cppoLoss(b, { delta: 0.1, wMin: 1, budgetFloor: 0.05, dynamicBudget: false, aggregation: "token-sum" }),
      );
      expect(got.loss).toBeCloseTo(-1.04, 5);
      expect(Math.abs(got.grad[0]![0]!)).toBe(0);
      expect(Math.abs(got.grad[0]![1]!)).toBe(0);
      expect(got.grad[0]![2]).toBeCloseTo(-1.04, 5);
      expect(got.metrics.maskedFraction).toBeCloseTo(2 / 3, 6);
      expect(got.metrics.ratioMax).toBeCloseTo(1.3, 5);
    });
  });

  it("GSPO clamps only the sequence log-ratio, from above at 10 (zero gradient beyond)", async () => {
    // Mean log-ratio 12 > 10: s = e^10 per token, A = -1 -> max(e^10, clip) = e^10 with zero gradient (clamped).
    const got = await run(
      { responseMask: [[1, 1]], logProbs: [[0, 0]], oldLogProbs: [[-12, -12]], advantages: [[-1, -1]] },
      (b) => gspoLoss(b),
    );
    expect(Math.abs(got.loss - Math.exp(10))).toBeLessThan(Math.exp(10) * 1e-5);
    expect(got.grad[0]!.map(Math.abs)).toEqual([0, 0]);
  });

  it("KL estimators k1, abs, k2, k3 with verl's k3 clamps", () => {
    const vals = tf.tidy(() => {
      const lp = tf.tensor2d([[-1, 0, -30]]);
      const ref = tf.tensor2d([[-2, 0, 0]]);
      return (["k1", "abs", "k2", "k3"] as const).map((e) => Array.from(klPenalty(lp, ref, e).dataSync()));
    });
    // x = 1, 0, -30. k3: exp(-x) - 1 + x with -x clamped to [-20, 20] and the result to [-10, 10].
    expect(vals[0]).toEqual([1, 0, -30]);
    expect(vals[1]).toEqual([1, 0, 30]);
    expect(vals[2]).toEqual([0.5, 0, 450]);
    expect(vals[3]![0]).toBeCloseTo(Math.exp(-1), 6);
    expect(vals[3]![1]).toBe(0);
    expect(vals[3]![2]).toBe(10);
    expect(() => klPenalty(tf.zeros([1, 1]), tf.zeros([1, 1]), "k4" as never)).toThrow(ConfigError);
  });

  it("composeObjective adds coef * KL and subtracts coef * entropy", async () => {
    // PPO part: one token r = 1, A = 1 -> -1. k1 KL: logp - ref = 0.5 -> +0.1 * 0.5. Entropy 2 -> -0.01 * 2.
    const objective = composeObjective({
      policy: "ppo-clip",
      kl: { coef: 0.1, estimator: "k1" },
      entropy: { coef: 0.01 },
    });
    const got = await run(
      {
        responseMask: [[1]],
        logProbs: [[-1]],
        oldLogProbs: [[-1]],
        refLogProbs: [[-1.5]],
        advantages: [[1]],
        entropy: [[2]],
      },
      (b) => objective(b),
    );
    expect(got.loss).toBeCloseTo(-1 + 0.05 - 0.02, 5);
    expect(got.grad[0]![0]).toBeCloseTo(-1 + 0.1, 5);
    expect(got.metrics["kl/value"]).toBeCloseTo(0.5, 6);
    expect(got.metrics["policy/clipFraction"]).toBe(0);
    const bonus = tf.tidy(() => entropyBonus(tf.tensor2d([[1, 3]]), tf.tensor2d([[1, 1]]), 0.5).dataSync()[0]);
    expect(bonus).toBeCloseTo(-1, 6);
  });

  it("every registered objective describes itself, resolves its defaults and checks the batch fields it requires", () => {
    for (const name of objectives.list()) {
      const objective = objectives.get(name);
      expect(objective.name).toBe(name);
      expect(objective.description.length).toBeGreaterThan(10);
      expect(objective.requires[0]).toBe("logProbs");
      expect(objective.resolve()).toEqual(objective.defaults);
      expect(() => objective.resolve({ notAnOption: 1 } as never)).toThrow(
        new RegExp(
          `${name}\\.notAnOption: unknown option; ${name} takes ${Object.keys(objective.defaults).join(", ")}`,
        ),
      );
      // A batch without the last required field: ShapeError naming it.
      const missing = objective.requires[objective.requires.length - 1]!;
      const arrays: Record<string, unknown> = { responseMask: [[1]] };
      for (const field of objective.requires)
        if (field !== missing) arrays[field] = field === "correct" || field === "groupIds" ? [0] : [[0]];
      const batch = batchFromArrays(arrays as never);
      expect(() => objective.compute(batch)).toThrow(ShapeError);
      expect(() => objective.compute(batch)).toThrow(new RegExp(`^${missing}: `));
      disposeBatch(batch);
    }
  });

  it("describeObjectives lists every registered objective with its description, requirements and defaults", () => {
    const listed = describeObjectives();
    expect(listed.map((o) => o.name)).toEqual(objectives.list());
    const htpo = listed.find((o) => o.name === "htpo")!;
    expect(htpo.description).toMatch(/^HTPO: /);
    expect(htpo.requires).toContain("entropy");
    expect(htpo.defaults).toMatchObject({ clipHigh: 0.28, dualClip: 10, sign: "paper", correctness: "verdict" });
  });

  it("readMetrics reads every metric in one device read", async () => {
    const metrics = { a: tf.scalar(1.5), b: tf.scalar(-2), c: tf.scalar(7, "int32") };
    const reads = { count: 0 };
    const original = tf.Tensor.prototype.data;
    tf.Tensor.prototype.data = function (this: tf.Tensor) {
      reads.count++;
      return original.call(this);
    } as typeof original;
    try {
      expect(await readMetrics(metrics)).toEqual({ a: 1.5, b: -2, c: 7 });
    } finally {
      tf.Tensor.prototype.data = original;
    }
    expect(reads.count).toBe(1);
    tf.dispose(Object.values(metrics));
  });

  it("registries: unknown names and bad options say what is known (presets live in @tokenrl/train)", () => {
    expect(() => objectives.get("ppoo")).toThrow(UnknownNameError);
    expect(() => ppoClipLoss({} as never, { aggregation: "mean" as never })).toThrow(/ppo-clip.aggregation/);
    expect(() => ppoClipLoss({} as never, { dualClip: 0.5 })).toThrow(/ppo-clip.dualClip/);
  });

  it("does not leak tensors over repeated loss + gradient calls (both implementations)", async () => {
    const arrays = {
      responseMask: [
        [1, 1, 0],
        [1, 1, 1],
      ],
      logProbs: [
        [-1, -2, -3],
        [-0.5, -1, -2],
      ],
      oldLogProbs: [
        [-1.1, -2, -3],
        [-0.4, -1.2, -2],
      ],
      rolloutLogProbs: [
        [-1, -2.1, -3],
        [-0.6, -1, -2],
      ],
      refLogProbs: [
        [-1, -2, -3],
        [-0.5, -1, -2],
      ],
      advantages: [
        [1, 1, 1],
        [-1, -1, -1],
      ],
      entropy: [
        [1, 2, 3],
        [3, 2, 1],
      ],
      correct: [1, 0],
      groupIds: [0, 0],
    };
    const batch = batchFromArrays(arrays);
    const composed = composeObjective({ policy: "ppo-clip", kl: { coef: 0.1 }, entropy: { coef: 0.01 } });
    const once = () => {
      for (const name of objectives.list()) {
        const r = lossAndGrad((b) => objectives.get(name).compute(b), batch);
        tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
      }
      const r = lossAndGrad((b) => composed(b), batch);
      tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
    };
    for (const impl of ["host", "tensor"] as const) {
      setKernelPath(impl);
      once();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) once();
      expect({ impl, tensors: tf.memory().numTensors }).toEqual({ impl, tensors: before });
    }
    setKernelPath("auto");
    disposeBatch(batch);
  });
});
