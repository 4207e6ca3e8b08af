import { type ChartOptions, type Series, lineChart } from "./svg.js";

/** One metrics.jsonl line: a phase ("sft", "rl", "eval", ...), a step and named values. */
export type MetricsRecord = { step: number; phase?: string } & Record<string, unknown>;

/**
 * A chart of training metrics. `keys` are tried in order: a string names one
 * metric (the first that occurs in the records is drawn, so verl names and
 * older names can both be listed), a RegExp draws every matching metric as its
 * own series, named by the first capture group.
 */
export interface TrainingChartSpec {
  title: string;
  keys: readonly (string | RegExp)[];
  /** Only records of this phase (default "rl"). */
  phase?: string;
  /** Draw every string key that occurs instead of only the first. */
  all?: boolean;
  options?: ChartOptions;
}

/**
 * The curves a reader of an RL run looks at first, with verl's metric names
 * first and tokenrl's earlier names as fallbacks.
 */
export const TRAINING_CHARTS: readonly TrainingChartSpec[] = [
  { title: "Reward", keys: ["critic/score/mean", "critic/rewards/mean", "reward/mean", "reward"] },
  {
    title: "Held-out pass@1",
    keys: ["heldOut/pass@1", "val/pass@1", "accuracy"],
    phase: "eval",
    options: { yRange: [0, 1] },
  },
  { title: "Rollout accuracy", keys: ["critic/accuracy/mean", "accuracy"], options: { yRange: [0, 1] } },
  { title: "Entropy", keys: ["actor/entropy", "policy/entropy", "entropy/value"] },
  { title: "Response length", keys: ["response_length/mean", "responseLength/mean"], options: { yLabel: "tokens" } },
  {
    title: "Clip and mask fractions",
    keys: [
      "actor/pg_clipfrac",
      "actor/pg_clipfrac_lower",
      "policy/clipFraction",
      "policy/clipFractionLower",
      "policy/maskedFraction",
      "actor/maskedFraction",
      "response_length/clip_ratio",
    ],
    all: true,
  },
  {
    title: "KL",
    keys: ["actor/ppo_kl", "actor/policy_ppo_kl", "policy/ppoKl", "actor/kl_loss", "kl/value"],
    all: true,
  },
  { title: "Policy loss", keys: ["actor/pg_loss", "policy/loss", "loss"] },
  { title: "Gradient norm", keys: ["actor/grad_norm", "gradNorm"] },
  {
    title: "Dynamic sampling: groups per step",
    keys: ["sampling/groupsKept", "sampling/groupsDropped"],
    all: true,
  },
  { title: "HTPO: entropy per cell", keys: [/cells\/([^/]+)\/entropyMean$/] },
  { title: "HTPO: tokens per cell", keys: [/cells\/([^/]+)\/tokens$/] },
  { title: "Supervised warm-up loss", keys: ["sft/loss", "loss"], phase: "sft" },
];

function numeric(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function seriesOf(records: readonly MetricsRecord[], key: string, name: string): Series {
  return { name, points: records.filter((r) => numeric(r[key])).map((r) => [r.step, r[key] as number]) };
}

/** The series a spec draws from `records` (empty when none of its keys occurs). */
export function seriesFor(spec: TrainingChartSpec, records: readonly MetricsRecord[]): Series[] {
  const rows = records.filter((r) => (r.phase ?? "rl") === (spec.phase ?? "rl"));
  const present = new Set(rows.flatMap((r) => Object.keys(r).filter((k) => numeric(r[k]))));
  const out: Series[] = [];
  for (const key of spec.keys) {
    if (typeof key === "string") {
      if (!present.has(key)) continue;
      out.push(seriesOf(rows, key, key));
      if (!spec.all) break;
    } else {
      for (const k of [...present].filter((k) => key.test(k)).sort())
        out.push(seriesOf(rows, k, key.exec(k)?.[1] ?? k));
    }
  }
  return out;
}

/**
 * The training charts of one or more runs. With several runs every series is
 * prefixed by its run's name, so recipes can be compared on one chart.
 */
export function trainingCharts(
  runs: readonly { name: string; records: readonly MetricsRecord[] }[],
  specs: readonly TrainingChartSpec[] = TRAINING_CHARTS,
): string[] {
  return specs.flatMap((spec) => {
    const series = runs.flatMap((run) =>
      seriesFor(spec, run.records).map((s) => ({ ...s, name: runs.length > 1 ? `${run.name}: ${s.name}` : s.name })),
    );
    return series.length ? [lineChart(spec.title, series, spec.options)] : [];
  });
}
