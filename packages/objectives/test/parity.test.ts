import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { sharedPath } from "../../../tooling/test-utils/shared.js";
import { batchFromArrays, disposeBatch, tf, useBackend } from "@tokenrl/core";
import type { AggregationMode, BatchArrays, Tensor2D } from "@tokenrl/core";
import { htpoLoss, klLoss, lossAndGrad, partitionOptionsOf, readMetrics, resolveHtpoOptions } from "../src/index.js";
import type { HtpoOptions, KlEstimator } from "../src/index.js";
import { disposePartition, htpoPartition, setHostKernels } from "@tokenrl/partitioners";
import { readCases, runCase } from "./cases.js";
import type { Case, CaseResult } from "./cases.js";

// The fused host kernels (PPO clip, HTPO and its partition, CPPO, GSPO, SAPO, CISPO) and the op chains must agree on
// every conformance case of the ops they implement: loss, gradient and every metric.
const dir = sharedPath("conformance/cases", "fused vs op-chain parity over the conformance cases");
const cases = dir ? readCases(dir, /^loss-(ppo-clip|htpo|cppo|gspo|sapo|cispo)\.jsonl$/) : [];

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 + 1e-5 * Math.abs(b);
}

describe.skipIf(!dir).each(TEST_BACKENDS)("fused host kernels vs op chains on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => setHostKernels("auto"));

  it.each(cases.map((c) => [c.id, c] as const))("%s: same loss, gradient and metrics", async (_id, c) => {
    setHostKernels("host");
    const host: CaseResult = await runCase(c);
    setHostKernels("tensor");
    const chain: CaseResult = await runCase(c);
    setHostKernels("auto");
    const bad: string[] = [];
    if (!close(host.loss!, chain.loss!)) bad.push(`loss ${host.loss} vs ${chain.loss}`);
    chain.gradLogProbs!.forEach((row, i) =>
      row.forEach((v, t) => {
        if (!close(host.gradLogProbs![i]![t]!, v)) bad.push(`grad[${i}][${t}] ${host.gradLogProbs![i]![t]} vs ${v}`);
      }),
    );
    expect(Object.keys(host.metrics!).sort()).toEqual(Object.keys(chain.metrics!).sort());
    for (const [name, v] of Object.entries(chain.metrics!))
      if (!close(host.metrics![name]!, v)) bad.push(`${name} ${host.metrics![name]} vs ${v}`);
    expect(bad.slice(0, 8)).toEqual([]);
  });
});

// The fused KL loss (klLoss / composeObjective on wasm and cpu) against the op chain: the
// conformance KL inputs, every estimator, two aggregations, loss and gradient.
const klCases = dir ? readCases(dir, /^kl\.jsonl$/) : [];

describe.skipIf(!dir).each(TEST_BACKENDS)("fused KL loss vs op chain on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => setHostKernels("auto"));

  const runKl = (c: Case, aggregation: AggregationMode, impl: "host" | "tensor") => {
    setHostKernels(impl);
    const batch = batchFromArrays(c.inputs as BatchArrays & { responseMask: number[][] });
    try {
      const { value, grad } = tf.valueAndGrad((lp: Tensor2D) =>
        klLoss(lp, batch.refLogProbs!, batch.responseMask, c.params.estimator as KlEstimator, aggregation),
      )(batch.logProbs!);
      const out = { loss: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
      tf.dispose([value, grad]);
      return out;
    } finally {
      setHostKernels("auto");
      disposeBatch(batch);
    }
  };

  it.each(
    klCases.flatMap((c) => (["token-mean", "seq-mean-token-mean"] as const).map((a) => [c.id, a, c] as const)),
  )("%s, %s: same loss and gradient", (_id, aggregation, c) => {
    const host = runKl(c, aggregation, "host");
    const chain = runKl(c, aggregation, "tensor");
    const bad: string[] = [];
    if (!close(host.loss, chain.loss)) bad.push(`loss ${host.loss} vs ${chain.loss}`);
    chain.grad.forEach((v, j) => {
      if (!close(host.grad[j]!, v)) bad.push(`grad[${j}] ${host.grad[j]} vs ${v}`);
    });
    expect(bad.slice(0, 8)).toEqual([]);
  });
});

// HTPO given a precomputed host partition (context.partition, as a trainer that logs the cells
// passes it) applies that partition's rules: the same numbers as the op chain.
const htpoCases = cases.filter((c) => c.op === "loss/htpo");

describe.skipIf(!dir).each(TEST_BACKENDS)("fused HTPO with a given partition on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => setHostKernels("auto"));

  it.each(
    htpoCases.map((c) => [c.id, c] as const),
  )("%s: same loss, gradient and metrics as the op chain", async (_id, c) => {
    setHostKernels("tensor");
    const chain = await runCase(c);
    setHostKernels("host");
    const batch = batchFromArrays(c.inputs as BatchArrays & { responseMask: number[][] });
    const before = tf.memory().numTensors;
    try {
      const params = c.params as Partial<HtpoOptions>;
      const partition = htpoPartition(batch, partitionOptionsOf(resolveHtpoOptions(params)));
      const r = lossAndGrad((b) => htpoLoss(b, params, { partition }), batch);
      const loss = r.loss.dataSync()[0]!;
      const grad = (await r.grad.array()) as number[][];
      const metrics = await readMetrics(r.metrics);
      tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
      disposePartition(partition);
      expect(tf.memory().numTensors).toBe(before);
      const bad: string[] = [];
      if (!close(loss, chain.loss!)) bad.push(`loss ${loss} vs ${chain.loss}`);
      chain.gradLogProbs!.forEach((row, i) =>
        row.forEach((v, t) => {
          if (!close(grad[i]![t]!, v)) bad.push(`grad[${i}][${t}] ${grad[i]![t]} vs ${v}`);
        }),
      );
      for (const [name, v] of Object.entries(chain.metrics!))
        if (!close(metrics[name]!, v)) bad.push(`${name} ${metrics[name]} vs ${v}`);
      expect(bad.slice(0, 8)).toEqual([]);
    } finally {
      setHostKernels("auto");
      disposeBatch(batch);
    }
  });
});
