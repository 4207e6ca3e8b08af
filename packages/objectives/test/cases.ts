import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { batchFromArrays, disposeBatch, tf } from "@tokenrl/core";
import type { BatchArrays, TrainingBatch } from "@tokenrl/core";
import {
  cispoLoss,
  cppoLoss,
  gspoLoss,
  htpoLoss,
  klPenalty,
  lossAndGrad,
  ppoClipLoss,
  readMetrics,
  sapoLoss,
} from "../src/index.js";
import type { ObjectiveResult } from "../src/index.js";

/** One conformance case (shared/conformance/FORMAT.md). */
export interface Case {
  id: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Record<string, number[] | number[][]>;
  expected: { loss?: number; gradLogProbs?: number[][]; metrics?: Record<string, number>; kl?: number[][] };
  atol: number;
  rtol: number;
}

export function readCases(dir: string, pattern: RegExp): Case[] {
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Case),
    );
}

export interface CaseResult {
  loss?: number;
  gradLogProbs?: number[][];
  metrics?: Record<string, number>;
  kl?: number[][];
}

type Loss = (batch: TrainingBatch, params: Record<string, unknown>) => ObjectiveResult;

const LOSSES: Record<string, Loss> = {
  "loss/ppo-clip": (b, p) => ppoClipLoss(b, p),
  "loss/gspo": (b, p) => gspoLoss(b, p),
  // verl ignores the trainer's aggregation for SAPO (always seq-mean-token-mean); so does sapoLoss.
  "loss/sapo": (b, { aggregation: _ignored, ...p }) => sapoLoss(b, p),
  "loss/cispo": (b, p) => cispoLoss(b, p),
  "loss/htpo": (b, p) => htpoLoss(b, p),
  "loss/cppo": (b, p) => cppoLoss(b, p),
};

/** Runs a case through the public API: loss, d loss / d logProbs by autograd, metrics. */
export async function runCase(c: Case): Promise<CaseResult> {
  const batch = batchFromArrays(c.inputs as BatchArrays & { responseMask: number[][] });
  try {
    if (c.op === "kl") {
      const kl = tf.tidy(() =>
        tf.mul(klPenalty(batch.logProbs!, batch.refLogProbs!, c.params.estimator as never), batch.responseMask),
      );
      const out = (await kl.array()) as number[][];
      kl.dispose();
      return { kl: out };
    }
    const loss = LOSSES[c.op];
    if (!loss) throw new Error(`no loss for op ${c.op}`);
    const r = lossAndGrad((b) => loss(b, c.params), batch);
    const result: CaseResult = {
      loss: (await r.loss.data())[0]!,
      gradLogProbs: (await r.grad.array()) as number[][],
      metrics: await readMetrics(r.metrics),
    };
    tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
    return result;
  } finally {
    disposeBatch(batch);
  }
}

/** Mismatch descriptions (empty when the case passes): |got - want| <= atol + rtol |want|. */
export function compare(c: Case, got: CaseResult): string[] {
  const bad: string[] = [];
  const close = (g: number, w: number) => Math.abs(g - w) <= c.atol + c.rtol * Math.abs(w);
  const check = (name: string, g: number | undefined, w: number) => {
    if (g === undefined || !close(g, w)) bad.push(`${name}: got ${g}, want ${w}`);
  };
  const checkMatrix = (name: string, g: number[][] | undefined, w: number[][]) => {
    w.forEach((row, i) => row.forEach((v, j) => check(`${name}[${i}][${j}]`, g?.[i]?.[j], v)));
  };
  if (c.expected.loss !== undefined) check("loss", got.loss, c.expected.loss);
  if (c.expected.gradLogProbs) checkMatrix("gradLogProbs", got.gradLogProbs, c.expected.gradLogProbs);
  if (c.expected.kl) checkMatrix("kl", got.kl, c.expected.kl);
  for (const [name, w] of Object.entries(c.expected.metrics ?? {})) {
    if (got.metrics && name in got.metrics) check(`metrics.${name}`, got.metrics[name], w);
  }
  return bad;
}
