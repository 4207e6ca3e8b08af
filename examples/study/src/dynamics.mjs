/**
 * HTPO's eight cells (difficulty x verdict x entropy) as the trainer logs them
 * (actor/cells/<cell>/tokens); the two detach subsets lie inside two of them
 * and are not counted again.
 */
const HTPO_CELLS = ["hard", "easy"].flatMap((d) =>
  ["correct", "wrong"].flatMap((c) => ["low", "high"].map((e) => `${d}-${c}-${e}`)),
);

/** The training curves the study plots, averaged over an arm's seeds step by step (verl's metric names). */
const CURVES = [
  "critic/score/mean",
  "accuracy",
  "actor/entropy",
  "response_length/mean",
  "actor/pg_clipfrac",
  "actor/pg_clipfrac_lower",
  "actor/maskedFraction",
  "actor/ppo_kl",
  "sampling/groupsKept",
];

const cellKey = (cell, what) => `actor/cells/${cell}/${what}`;
/** The key an arm's averaged cell curve is stored under, so that each arm gets its own cell chart. */
const armCellKey = (arm, cell, what) => `${arm}|${cell}|${what}`;

function isNumber(v) {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * One arm's RL records averaged over its seeds, step by step: the mean of
 * every curve over the seeds that have a value at that step (a step skipped
 * for want of an informative group has none). HTPO cell curves are stored
 * under arm-specific keys (see armCellKey).
 */
export function averageRuns(arm, runsRecords) {
  const byStep = new Map();
  for (const records of runsRecords)
    for (const r of records) {
      if (r.phase !== "rl" || !isNumber(r.step)) continue;
      if (!byStep.has(r.step)) byStep.set(r.step, new Map());
      const sums = byStep.get(r.step);
      const add = (key, value) => {
        if (!isNumber(value)) return;
        const s = sums.get(key) ?? { sum: 0, n: 0 };
        s.sum += value;
        s.n += 1;
        sums.set(key, s);
      };
      for (const key of CURVES) add(key, r[key]);
      for (const cell of HTPO_CELLS) {
        const tokens = r[cellKey(cell, "tokens")];
        add(armCellKey(arm, cell, "tokens"), tokens);
        // A cell without tokens has no entropy (the logged 0 is a placeholder, not a measurement).
        if (isNumber(tokens) && tokens > 0) add(armCellKey(arm, cell, "entropyMean"), r[cellKey(cell, "entropyMean")]);
      }
    }
  return [...byStep.entries()]
    .sort(([a], [b]) => a - b)
    .map(([step, sums]) => ({ phase: "rl", step, ...Object.fromEntries([...sums].map(([k, s]) => [k, s.sum / s.n])) }));
}

/** Whether an arm's records carry HTPO cells. */
export function hasCells(arm, records) {
  return records.some((r) => HTPO_CELLS.some((cell) => isNumber(r[armCellKey(arm, cell, "tokens")])));
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * @tokenrl/report chart specs: the shared curves with one series per arm,
 * then, per HTPO arm, the mean entropy of each of its eight cells and each
 * cell's share of the tokens.
 */
export function dynamicsCharts(htpoArms) {
  return [
    { title: "Reward (mean over seeds)", keys: ["critic/score/mean"] },
    { title: "Rollout accuracy (mean over seeds)", keys: ["accuracy"], options: { yRange: [0, 1] } },
    { title: "Policy entropy (nats, mean over seeds)", keys: ["actor/entropy"] },
    {
      title: "Response length (tokens, mean over seeds)",
      keys: ["response_length/mean"],
      options: { yLabel: "tokens" },
    },
    { title: "Clip fraction (actor/pg_clipfrac)", keys: ["actor/pg_clipfrac"] },
    { title: "Lower (dual) clip fraction (actor/pg_clipfrac_lower)", keys: ["actor/pg_clipfrac_lower"] },
    { title: "CPPO masked fraction (actor/maskedFraction)", keys: ["actor/maskedFraction"] },
    { title: "Old-new KL (actor/ppo_kl)", keys: ["actor/ppo_kl"] },
    { title: "Dynamic sampling: groups kept per step", keys: ["sampling/groupsKept"] },
    ...htpoArms.flatMap((arm) => [
      {
        title: `${arm}: entropy per HTPO cell (nats)`,
        keys: [new RegExp(`^${escapeRe(arm)}\\|([^|]+)\\|entropyMean$`)],
      },
      {
        title: `${arm}: tokens per HTPO cell`,
        keys: [new RegExp(`^${escapeRe(arm)}\\|([^|]+)\\|tokens$`)],
      },
    ]),
  ];
}

/**
 * The share of trained tokens in hard-prompt cells and in correct-response
 * cells, per step, from an arm's averaged records: the evidence that both
 * sides of the difficulty threshold stay populated through training.
 */
export function cellShares(arm, averaged) {
  return averaged
    .map((r) => {
      let total = 0;
      let hard = 0;
      let correct = 0;
      let high = 0;
      for (const cell of HTPO_CELLS) {
        const t = r[armCellKey(arm, cell, "tokens")];
        if (!isNumber(t)) continue;
        total += t;
        if (cell.startsWith("hard")) hard += t;
        if (cell.includes("-correct-")) correct += t;
        if (cell.endsWith("-high")) high += t;
      }
      return total > 0
        ? { step: r.step, tokens: total, hard: hard / total, correct: correct / total, high: high / total }
        : undefined;
    })
    .filter(Boolean);
}

/** Mean entropy of an arm's high- and low-entropy cells at one averaged record (token-weighted). */
export function cellEntropies(arm, record) {
  const acc = { high: { sum: 0, n: 0 }, low: { sum: 0, n: 0 } };
  for (const cell of HTPO_CELLS) {
    const t = record[armCellKey(arm, cell, "tokens")];
    const h = record[armCellKey(arm, cell, "entropyMean")];
    if (!isNumber(t) || !isNumber(h) || t <= 0) continue;
    const side = cell.endsWith("-high") ? acc.high : acc.low;
    side.sum += h * t;
    side.n += t;
  }
  return { high: acc.high.n ? acc.high.sum / acc.high.n : null, low: acc.low.n ? acc.low.sum / acc.low.n : null };
}
