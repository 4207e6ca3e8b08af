import { verdict } from "./stats.mjs";

const pct = (v) => (v === null || v === undefined ? "-" : (v * 100).toFixed(1));
const signed = (v) => `${v >= 0 ? "+" : ""}${pct(v)}`;
const num = (v, d = 2) => (v === null || v === undefined ? "-" : v.toFixed(d));
const ci = (c) => `[${signed(c[0])}, ${signed(c[1])}]`;
const seedsText = (s) => (s === null ? "-" : s === Number.POSITIVE_INFINITY ? "more problems needed" : String(s));

function table(columns, rows) {
  return [
    `| ${columns.join(" | ")} |`,
    `|${columns.map(() => "---|").join("")}`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/** DIR/results.md: every number of results.json that the write-up cites, as tables. */
export function resultsMarkdown(r) {
  const n = r.study.budget.heldOut.n;
  const mean = `mean@${n}`;
  const b = r.study.budget;
  const ks = [1, 2, 4, 8, n].filter((k, i, a) => k <= n && a.indexOf(k) === i);
  const lines = [
    `# tokenrl study: ${r.study.arms.join(", ")}${r.study.quick ? " (--quick: a pipeline check, its numbers answer nothing)" : ""}`,
    "",
    `Command: \`${r.study.command}\` (${r.study.minutes.total} min: warm-start ${r.study.minutes.warmStart}, compare ${r.study.minutes.compare}${r.study.reusedRuns ? `; ${r.study.reusedRuns} of ${r.study.runs} runs were reused from an earlier invocation, their time is not included` : ""}).`,
    `Machine: ${r.study.machine.cpus} x ${r.study.machine.model}, ${r.study.machine.memoryGb} GB, Node ${r.study.machine.node}; load average ${r.study.machine.loadavg.join(" / ")} at the start, ${r.study.machine.loadavgAtEnd.join(" / ")} at the end.`,
    "",
    "## Budget (the same for every arm)",
    "",
    `- Task: \`${b.task.name}\` ${JSON.stringify(b.task.options)}; held-out: the first ${b.heldOut.problems} problems of its test split (disjoint from training), n = ${n} samples each at temperature ${b.heldOut.temperature}, same sampling seeds for every run.`,
    `- Warm-start (shared by every arm and seed): model ${JSON.stringify(b.warmStart.model)}, SFT ${b.warmStart.sft.steps} steps x ${b.warmStart.sft.batchSize} at lr ${b.warmStart.sft.learningRate}.`,
    `- RL per run: ${b.train.rl.steps} steps x ${b.train.rl.promptsPerStep} prompts x G = ${b.train.rl.groupSize}, ${b.train.rl.miniBatches} mini-batches, ${b.train.rl.epochs} epoch, temperature ${b.train.rl.temperature}, dynamic sampling (recipes that use it) up to ${b.train.rl.maxGenerationBatches} generation batches; AdamW ${JSON.stringify(b.train.optim)}; ${b.train.workers ?? "the trainer's default"} worker thread(s) per run (compare runs one process per core).`,
    `- Seeds: ${r.study.seeds.join(", ")} (seed = the RL sampling and prompt stream; the warm-start is the same).`,
    ...(r.study.missingArms.length ? [`- Not run: ${r.study.missingArms.join(", ")}.`] : []),
    "",
    "## The task at the RL starting point (warm-start policy, its held-out samples)",
    "",
  ];
  const t = r.task;
  lines.push(
    `- Response length (tokens): mean ${num(t.length.mean, 1)}, p10 ${num(t.length.p10, 0)}, median ${num(t.length.p50, 0)}, p90 ${num(t.length.p90, 0)}, max ${t.length.max}; truncated ${pct(t.length.truncated)}%.`,
    t.entropy
      ? `- Per-token entropy (nats, ${t.entropy.tokens} tokens of ${t.entropy.responses} samples): mean ${num(t.entropy.mean, 3)}, median ${num(t.entropy.p50, 3)}, p80 ${num(t.entropy.p80, 3)}, p90 ${num(t.entropy.p90, 3)}, p99 ${num(t.entropy.p99, 3)}; each response's top 20% (HTPO's high set) averages ${num(t.entropy.highSetMean, 3)}, the rest ${num(t.entropy.lowSetMean, 3)}.`
      : "- Per-token entropy: not measured.",
    `- Held-out problems by accuracy over the ${n} samples: ${pct(t.groupAccuracy.zero)}% never solved, ${pct(t.groupAccuracy.belowThreshold)}% in (0, ${t.threshold}) (hard, informative), ${pct(t.groupAccuracy.aboveThreshold)}% in [${t.threshold}, 1) (easy, informative), ${pct(t.groupAccuracy.one)}% always solved.`,
    "",
    ...table(
      [
        "difficulty (operations)",
        "problems",
        `mean@${n} (%)`,
        `pass@${n} (%)`,
        `share hard (acc < ${t.threshold}) (%)`,
      ],
      t.difficulty.map((d) => [d.difficulty, d.problems, pct(d.meanAccuracy), pct(d.passAtN), pct(d.hardShare)]),
    ),
    "",
  );
  const htpoDyn = Object.entries(r.dynamics).filter(([, d]) => d.hardTokenShare);
  if (htpoDyn.length) {
    lines.push(
      "Share of trained tokens in the HTPO cells over training (mean over seeds; min-max over steps):",
      "",
      ...table(
        [
          "arm",
          "hard-prompt tokens (%)",
          "correct-response tokens (%)",
          "high / low cell entropy, first step",
          "last step",
        ],
        htpoDyn.map(([a, d]) => [
          a,
          `${pct(d.hardTokenShare.min)}-${pct(d.hardTokenShare.max)}`,
          `${pct(d.correctTokenShare.min)}-${pct(d.correctTokenShare.max)}`,
          `${num(d.cellEntropy.first.high, 3)} / ${num(d.cellEntropy.first.low, 3)}`,
          `${num(d.cellEntropy.last.high, 3)} / ${num(d.cellEntropy.last.low, 3)}`,
        ]),
      ),
      "",
    );
  }

  lines.push(
    `## Held-out results (%, mean over seeds and problems ± bootstrap standard error)`,
    "",
    ...table(
      ["arm", mean, ...ks.map((k) => `pass@${k}`), `sd of ${mean} over seeds`, `RL gain in ${mean} (95% CI)`],
      [
        [
          "warm-start",
          `${pct(r.warmStart.metrics[mean].mean)} ± ${pct(r.warmStart.metrics[mean].stderr)}`,
          ...ks.map(
            (k) => `${pct(r.warmStart.metrics[`pass@${k}`].mean)} ± ${pct(r.warmStart.metrics[`pass@${k}`].stderr)}`,
          ),
          "-",
          "-",
        ],
        ...r.study.arms.map((a) => {
          const m = r.arms[a].metrics;
          return [
            a,
            `${pct(m[mean].mean)} ± ${pct(m[mean].stderr)}`,
            ...ks.map((k) => `${pct(m[`pass@${k}`].mean)} ± ${pct(m[`pass@${k}`].stderr)}`),
            pct(m[mean].sdOverSeeds),
            `${signed(r.rlGain[a].mean)} ${ci(r.rlGain[a].ci)}`,
          ];
        }),
      ],
    ),
    "",
    `## Paired differences (points; 95% bootstrap CI resampling seeds and problems)`,
    "",
    ...table(
      [
        "a - b",
        "question",
        mean,
        "pass@1",
        `pass@${n}`,
        `verdict (${mean})`,
        `seeds for a ±2-point 95% CI`,
        "seeds for 80% power at 2 points",
      ],
      r.comparisons.map((c) => [
        `${c.a} - ${c.b}`,
        c.question,
        `${signed(c.metrics[mean].mean)} ${ci(c.metrics[mean].ci)}`,
        `${signed(c.metrics["pass@1"].mean)} ${ci(c.metrics["pass@1"].ci)}`,
        `${signed(c.metrics[`pass@${n}`].mean)} ${ci(c.metrics[`pass@${n}`].ci)}`,
        verdict(c.metrics[mean].ci),
        seedsText(c.metrics[mean].seedsForHalfWidth),
        seedsText(c.metrics[mean].seedsForPower80),
      ]),
    ),
    "",
  );
  lines.push(
    `Variance components of the paired ${mean} difference (two-way ANOVA over seeds x problems, in squared points; Var(mean) = seed/S + problem/P + residual/(S P)):`,
    "",
    ...table(
      ["a - b", "seed", "problem", "residual", "per-seed differences (points)"],
      r.comparisons.map((c) => {
        const d = c.metrics[mean];
        const sq = (v) => (v * 1e4).toFixed(2);
        return [
          `${c.a} - ${c.b}`,
          sq(d.components.seed),
          sq(d.components.problem),
          sq(d.components.residual),
          d.perSeed.map(signed).join(", "),
        ];
      }),
    ),
    "",
  );
  for (const c of r.comparisons.filter((x) => ["dapo", "grpo"].includes(x.b) && x.a !== "htpo-released")) {
    lines.push(
      `## ${c.a} - ${c.b} per k (does the gap grow with the sampling budget?)`,
      "",
      ...table(
        ["k", `pass@k ${c.a} (%)`, `pass@k ${c.b} (%)`, "difference (points)", "95% CI", "verdict"],
        Array.from({ length: n }, (_, i) => `pass@${i + 1}`).map((m, i) => [
          i + 1,
          pct(r.arms[c.a].metrics[m].mean),
          pct(r.arms[c.b].metrics[m].mean),
          signed(c.metrics[m].mean),
          ci(c.metrics[m].ci),
          verdict(c.metrics[m].ci),
        ]),
      ),
      "",
    );
  }
  lines.push(
    "## Training dynamics (mean over seeds; curves in report.html)",
    "",
    ...table(
      [
        "arm",
        "entropy first -> last step (nats)",
        "response length first -> last (tokens)",
        "clip fraction (mean)",
        "lower clip fraction",
        "CPPO masked fraction",
      ],
      Object.entries(r.dynamics).map(([a, d]) => [
        a,
        `${num(d.entropy.first, 3)} -> ${num(d.entropy.last, 3)}`,
        `${num(d.responseLength.first, 1)} -> ${num(d.responseLength.last, 1)}`,
        num(d.clipFraction, 4),
        num(d.lowerClipFraction, 4),
        num(d.maskedFraction, 4),
      ]),
    ),
    "",
    `Per-run folders: \`${r.compareDir}/runs/<arm>-seed<s>/\`; all numbers: results.json; plots: report.html.`,
    "",
  );
  return lines.join("\n");
}
