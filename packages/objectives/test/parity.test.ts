import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { referencePath } from "../../../tooling/test-utils/shared.js";
import { batchFromArrays, disposeBatch, setKernelPath, tf, useBackend } from "@tokenrl/core";
import type { AggregationMode, BatchArrays, Tensor2D, TrainingBatch } from "@tokenrl/core";
import { disposePartition, htpoPartition } from "@tokenrl/partitioners";
import { htpo, klLoss, lossAndGrad, objectives, partitionOptionsOf, readMetrics } from "../src/index.js";
import type { KlEstimator, Objective, ObjectiveContext, ObjectiveResult } from "../src/index.js";

// The fused host kernel of every registered objective that has one, and its op chain, must agree
// on every conformance case of its op (`loss/<name>`): loss, gradient and every metric. The list
// comes from the registry, so a new objective with a host kernel is checked without editing this file.
interface Case {
  id: string;
  op: string;
  params: Record<string, unknown>;
  inputs: BatchArrays & { responseMask: number[][] };
}

const dir = referencePath("conformance/cases");
const cases: Case[] = readdirSync(dir)
  .filter((f) => f.endsWith(".jsonl"))
  .sort()
  .flatMap((f) =>
    readFileSync(join(dir, f), "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Case),
  );
const fused = objectives
  .list()
  .map((name) => objectives.get(name))
  .filter((o) => o.hostKernel !== undefined);

/** A case's params as the objective's options: a trainer-wide `aggregation` is dropped where the objective fixes its own (verl). */
function optionsOf(objective: Objective, params: Record<string, unknown>): Record<string, unknown> {
  if ("aggregation" in objective.defaults) return params;
  const { aggregation: _fixed, ...rest } = params;
  return rest;
}

type Impl = (batch: TrainingBatch) => ObjectiveResult;

async function run(c: Case, impl: Impl) {
  const batch = batchFromArrays(c.inputs);
  try {
    const r = lossAndGrad(impl, batch);
    const out = {
      loss: (await r.loss.data())[0]!,
      grad: Array.from(await r.grad.data()),
      metrics: await readMetrics(r.metrics),
    };
    tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
    return out;
  } finally {
    disposeBatch(batch);
  }
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 + 1e-5 * Math.abs(b);
}

function differences(host: Awaited<ReturnType<typeof run>>, chain: Awaited<ReturnType<typeof run>>): string[] {
  const bad: string[] = [];
  if (!close(host.loss, chain.loss)) bad.push(`loss ${host.loss} vs ${chain.loss}`);
  chain.grad.forEach((v, j) => {
    if (!close(host.grad[j]!, v)) bad.push(`grad[${j}] ${host.grad[j]} vs ${v}`);
  });
  for (const [name, v] of Object.entries(chain.metrics))
    if (!close(host.metrics[name]!, v)) bad.push(`${name} ${host.metrics[name]} vs ${v}`);
  return bad;
}

// biome-ignore lint/suspicious/noExplicitAny: any objective of the registry
function hostOnly(objective: Objective<any>, o: object, context: ObjectiveContext = {}): Impl {
  return (b) => {
    const r = objective.hostKernel!(b, o, context);
    if (!r) throw new Error(`${objective.name}: the host kernel declined a plain case`);
    return r;
  };
}

it("every built-in objective with a host kernel is in the registry and has conformance cases", () => {
  expect(fused.map((o) => o.name).sort()).toEqual(["cispo", "cppo", "gspo", "htpo", "ppo-clip", "sapo"]);
  for (const o of fused) expect(cases.filter((c) => c.op === `loss/${o.name}`).length).toBeGreaterThan(0);
});

describe.each(TEST_BACKENDS)("fused host kernels vs op chains on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const pairs = fused.flatMap((objective) =>
    cases.filter((c) => c.op === `loss/${objective.name}`).map((c) => [c.id, objective, c] as const),
  );
  it.each(pairs)("%s: same loss, gradient and metrics", async (_id, objective, c) => {
    const o = objective.resolve(optionsOf(objective, c.params));
    const host = await run(c, hostOnly(objective, o));
    const chain = await run(c, (b) => objective.opChain(b, o, {}));
    expect(Object.keys(host.metrics).sort()).toEqual(Object.keys(chain.metrics).sort());
    expect(differences(host, chain).slice(0, 8)).toEqual([]);
  });

  // The correctness ablation (every response in the correct / wrong cells) on the first HTPO cases.
  it.each(
    cases
      .filter((c) => c.op === "loss/htpo")
      .slice(0, 5)
      .flatMap((c) => (["all-correct", "all-wrong"] as const).map((k) => [c.id, k, c] as const)),
  )("%s, correctness %s: same loss, gradient and metrics", async (_id, correctness, c) => {
    const o = htpo.resolve({ ...c.params, correctness });
    const host = await run(c, hostOnly(htpo, o));
    const chain = await run(c, (b) => htpo.opChain(b, o, {}));
    expect(differences(host, chain).slice(0, 8)).toEqual([]);
  });

  // HTPO given a precomputed host partition (context.partition, as a trainer that logs the cells
  // passes it) applies that partition's rules: the same numbers as the op chain.
  it.each(
    cases.filter((c) => c.op === "loss/htpo").map((c) => [c.id, c] as const),
  )("%s: HTPO with a given host partition matches the op chain", async (_id, c) => {
    const o = htpo.resolve(c.params);
    const chain = await run(c, (b) => htpo.opChain(b, o, {}));
    const batch = batchFromArrays(c.inputs);
    const before = tf.memory().numTensors;
    setKernelPath("host");
    const partition = htpoPartition(batch, partitionOptionsOf(o));
    setKernelPath("auto");
    disposeBatch(batch);
    const host = await run(c, hostOnly(htpo, o, { partition }));
    disposePartition(partition);
    expect(tf.memory().numTensors).toBe(before - Object.keys(c.inputs).length);
    expect(differences(host, chain).slice(0, 8)).toEqual([]);
  });
});

// The fused KL loss (klLoss / composeObjective on wasm and cpu) against the op chain: the
// conformance KL inputs, every estimator, two aggregations, loss and gradient.
const klCases = cases.filter((c) => c.op === "kl");

describe.each(TEST_BACKENDS)("fused KL loss vs op chain on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const runKl = (c: Case, aggregation: AggregationMode, path: "host" | "tensor") => {
    setKernelPath(path);
    const batch = batchFromArrays(c.inputs);
    try {
      const { value, grad } = tf.valueAndGrad((lp: Tensor2D) =>
        klLoss(lp, batch.refLogProbs!, batch.responseMask, c.params.estimator as KlEstimator, aggregation),
      )(batch.logProbs!);
      const out = { loss: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
      tf.dispose([value, grad]);
      return out;
    } finally {
      setKernelPath("auto");
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
