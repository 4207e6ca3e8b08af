import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "@tokenrl/base/errors";
import { type EvalRun, mean, passAtK, runEval } from "@tokenrl/eval";
import { jsonlSampleStore } from "@tokenrl/eval/node";
import { writeReport } from "@tokenrl/report/node";
import { float, int, intList, type Command, str } from "../args.js";
import { BUILTIN_BENCHMARKS, loadBenchmark } from "../benchmark.js";
import { type Api, openEpisodeModel, openModel } from "../engine.js";
import { progressBar } from "../progress.js";

export interface EvalOptions {
  benchmark: string;
  /** Local checkpoint directory, or the served model name with `baseUrl`. */
  model: string;
  baseUrl?: string;
  api?: Api;
  apiKey?: string;
  template?: string;
  chatTemplate?: boolean;
  n: number;
  ks: number[];
  temperature: number;
  topP: number;
  maxTokens?: number;
  seed: number;
  concurrency: number;
  limit?: number;
  out?: string;
  fresh?: boolean;
  quiet?: boolean;
  resamples?: number;
}

export interface EvalResults {
  benchmark: string;
  model: string;
  n: number;
  k: number[];
  problems: number;
  metrics: Record<string, number>;
  stderr: Record<string, number>;
  /** Samples whose verification failed (timeout, crash); they count as wrong. */
  verifyErrors: number;
  settings: Record<string, unknown>;
  perProblem: { id: string; n: number; c: number; majAnswer: string; majCorrect: boolean }[];
}

/** Settings that change the samples: a resumed --out must have been made with the same. */
function settingsOf(o: EvalOptions, modelName: string, maxTokens: number, chat: boolean): Record<string, unknown> {
  return {
    benchmark: o.benchmark,
    model: modelName,
    api: o.baseUrl ? (o.api ?? "completions") : "local",
    template: o.template ?? null,
    chatTemplate: chat,
    n: o.n,
    temperature: o.temperature,
    topP: o.topP,
    maxTokens,
    seed: o.seed,
    limit: o.limit ?? null,
  };
}

/** Runs one evaluation; writes eval.json, samples.jsonl, results.json and report.html into `out` when given. */
export async function evaluate(o: EvalOptions): Promise<{ results: EvalResults; run: EvalRun }> {
  const ks = [...new Set(o.ks)].sort((a, b) => a - b);
  for (const k of ks)
    if (k < 1 || k > o.n)
      throw new ConfigError("--k", `each k must be in [1, n=${o.n}], got ${k}; raise --n or drop k=${k}`);
  const bench = loadBenchmark(o.benchmark, {
    ...(o.template ? { template: o.template } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  });
  try {
    const maxTokens = o.maxTokens ?? bench.maxResponseLength;
    const sampling = {
      temperature: o.temperature,
      topP: o.topP,
      maxTokens,
      ...(bench.stop.length ? { stop: [...bench.stop] } : {}),
    };
    if (bench.episodes && o.baseUrl)
      throw new ConfigError(
        "--base-url",
        `${bench.name} is an agent task: its episodes run through the agent loop on a local checkpoint (--model DIR)`,
      );
    const model = bench.episodes
      ? await openEpisodeModel(o.model, bench.episodes, sampling)
      : await openModel(
          {
            ...(o.baseUrl ? { baseUrl: o.baseUrl, model: o.model } : { dir: o.model }),
            ...(o.api ? { api: o.api } : {}),
            ...(o.apiKey ? { apiKey: o.apiKey } : {}),
            ...(o.chatTemplate !== undefined ? { chatTemplate: o.chatTemplate } : {}),
          },
          sampling,
        );
    try {
      const settings = settingsOf(o, model.name, maxTokens, model.chat);
      let store: ReturnType<typeof jsonlSampleStore> | undefined;
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        const settingsPath = join(o.out, "eval.json");
        if (o.fresh) rmSync(join(o.out, "samples.jsonl"), { force: true });
        else if (existsSync(settingsPath)) {
          const before = JSON.parse(readFileSync(settingsPath, "utf8")) as Record<string, unknown>;
          for (const [key, value] of Object.entries(settings))
            if (JSON.stringify(before[key]) !== JSON.stringify(value))
              throw new ConfigError(
                key,
                `${o.out} holds samples made with ${key}=${JSON.stringify(before[key])}, this run has ${JSON.stringify(value)}; use another --out or --fresh`,
              );
        }
        writeFileSync(settingsPath, `${JSON.stringify(settings, null, 2)}\n`);
        store = jsonlSampleStore(join(o.out, "samples.jsonl"));
      }
      const bar = progressBar(`eval ${bench.name}`, bench.problems.length, o.quiet ?? false);
      const run = await runEval({
        problems: bench.problems,
        source: model.source,
        verifier: bench.verifier,
        n: o.n,
        ks,
        seed: o.seed,
        concurrency: o.concurrency,
        ...(o.resamples !== undefined ? { resamples: o.resamples } : {}),
        ...(store ? { store } : {}),
        onProgress: (p) =>
          bar?.update(
            p.done,
            `pass@1 ${Number.isNaN(p.passAt1) ? "-" : `${(p.passAt1 * 100).toFixed(1)}%`}${p.resumed ? ` (${p.resumed} resumed)` : ""}`,
          ),
      }).finally(() => bar?.stop());
      const results: EvalResults = {
        benchmark: bench.name,
        model: model.name,
        n: o.n,
        k: ks,
        problems: run.problems,
        metrics: run.metrics,
        stderr: run.stderr,
        verifyErrors: run.samples.filter((s) => s.verifyError !== undefined).length,
        settings,
        perProblem: run.perProblem.map(({ id, n, c, majAnswer, majCorrect }) => ({ id, n, c, majAnswer, majCorrect })),
      };
      if (o.out) {
        writeFileSync(join(o.out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
        writeEvalReport(join(o.out, "report.html"), results);
      }
      return { results, run };
    } finally {
      await model.close();
    }
  } finally {
    await bench.close();
  }
}

/** pass@k of every k in 1..n (powers of two and n past 64), averaged over problems, for the report's curve. */
export function passAtKCurve(perProblem: readonly { n: number; c: number }[], n: number): Record<string, number> {
  const ks =
    n <= 64
      ? Array.from({ length: n }, (_, i) => i + 1)
      : [...new Set([...Array.from({ length: Math.floor(Math.log2(n)) + 1 }, (_, i) => 2 ** i), n])];
  return Object.fromEntries(ks.map((k) => [`pass@${k}`, mean(perProblem.map((p) => passAtK(p.n, p.c, k)))]));
}

export function writeEvalReport(path: string, r: EvalResults): string {
  return writeReport(path, {
    title: `tokenrl-bench: ${r.model} on ${r.benchmark}`,
    summary: [
      { label: "benchmark", value: `${r.benchmark} (${r.problems} problems)` },
      { label: "model", value: r.model },
      {
        label: "samples",
        value: `n = ${r.n} per problem, temperature ${r.settings.temperature}, top-p ${r.settings.topP}, seed ${r.settings.seed}`,
      },
    ],
    evals: [
      {
        name: r.model,
        benchmark: r.benchmark,
        n: r.n,
        metrics: r.metrics,
        stderr: r.stderr,
        curve: passAtKCurve(r.perProblem, r.n),
      },
    ],
    tables: [
      {
        title: "Per problem",
        columns: ["problem", "correct of n", "majority answer", "majority correct"],
        rows: r.perProblem.map((p) => [p.id, `${p.c}/${p.n}`, p.majAnswer, p.majCorrect ? "yes" : "no"]),
      },
    ],
    footer: "Per-sample responses, extracted answers and verdicts: samples.jsonl; numbers: results.json.",
  });
}

export const evalCommand: Command = {
  name: "eval",
  summary: "pass@k, mean@n and maj@n of a model on a benchmark",
  help: `tokenrl-bench eval: evaluate a model on a benchmark with n samples per problem

usage: tokenrl-bench eval --benchmark NAME|FILE (--model DIR | --base-url URL --model NAME [--api completions|chat])
                          [--n 16] [--k 1,4,16] [--temperature 0.6] [--top-p 0.95] [--max-tokens N]
                          [--seed 0] [--concurrency C] [--out DIR] [--fresh] [--quiet]

model
  --model DIR|NAME      a local Hugging Face checkpoint directory, or with --base-url the served model name
  --base-url URL        an OpenAI-compatible server (vLLM, SGLang, llama.cpp, tokenrl-bench serve); log-probs not needed
  --api completions|chat  which endpoint (default completions: the prompt as text; chat: the server's chat template)
  --api-key-env VAR     environment variable holding the API key (default OPENAI_API_KEY; unset = no key)
  --no-chat-template    local model: do not render prompts with tokenizer_config.json's chat template
benchmark
  --benchmark B         built-in: ${Object.entries(BUILTIN_BENCHMARKS)
    .map(([k, v]) => `${k} (${v})`)
    .join(", ")};
                        or a JSONL file of {"id","problem","answer"}; or task:NAME / a task-spec JSON ({"name",...},
                        e.g. a trainer run's config.json) for that task's held-out split; agent tasks
                        (alfworld, webshop: n episodes per game through the agent loop) need --model DIR
  --template T          prompt template with {problem} (default: "{problem}\\nPlease reason step by step, and put
                        your final answer within \\boxed{}.")
  --limit N             only the first N problems
sampling
  --n N                 samples per problem (default 16)
  --k LIST              pass@k for these k, each <= n (default 1,4,16 capped at n)
  --temperature T       default 0.6
  --top-p P             default 0.95
  --max-tokens N        default: the task's budget (1024 for math)
  --seed S              problem p is sampled with a seed derived from S and p's id (default 0)
  --concurrency C       problems in flight (default 4 for a server, 1 for a local model)
output
  --out DIR             eval.json (settings), samples.jsonl (one line per sample), results.json, report.html;
                        an interrupted run resumes from samples.jsonl (same settings required)
  --fresh               discard samples.jsonl in --out first
  --quiet               no progress bar
  --resamples N         bootstrap resamples for the standard errors (default 1000)

results.json: {"benchmark","model","n","k","metrics":{"pass@1",...,"mean@N","maj@N"},"stderr":{...},"perProblem":[...]}
`,
  options: {
    benchmark: { type: "string" },
    model: { type: "string" },
    "base-url": { type: "string" },
    api: { type: "string" },
    "api-key-env": { type: "string" },
    "no-chat-template": { type: "boolean" },
    template: { type: "string" },
    limit: { type: "string" },
    n: { type: "string" },
    k: { type: "string" },
    temperature: { type: "string" },
    "top-p": { type: "string" },
    "max-tokens": { type: "string" },
    seed: { type: "string" },
    concurrency: { type: "string" },
    out: { type: "string" },
    fresh: { type: "boolean" },
    quiet: { type: "boolean" },
    resamples: { type: "string" },
  },
  async run(v) {
    const benchmark = str(v, "benchmark");
    if (!benchmark) throw new ConfigError("--benchmark", "is required (e.g. --benchmark aime24)");
    const model = str(v, "model");
    if (!model)
      throw new ConfigError(
        "--model",
        "is required: a checkpoint directory, or the served model's name with --base-url",
      );
    const n = int(v, "n", 16, 1);
    const keyVar = str(v, "api-key-env") ?? "OPENAI_API_KEY";
    const api = str(v, "api");
    if (api !== undefined && api !== "completions" && api !== "chat")
      throw new ConfigError("--api", `must be "completions" or "chat", got "${api}"`);
    const o: EvalOptions = {
      benchmark,
      model,
      n,
      ks: intList(
        v,
        "k",
        [1, 4, 16].filter((k) => k <= n),
      ),
      temperature: float(v, "temperature", 0.6),
      topP: float(v, "top-p", 0.95),
      seed: int(v, "seed", 0),
      // A local model computes one batch at a time; more in flight would only hold more KV caches.
      concurrency: int(v, "concurrency", str(v, "base-url") ? 4 : 1, 1),
      ...(str(v, "base-url") ? { baseUrl: str(v, "base-url")! } : {}),
      ...(api ? { api: api as Api } : {}),
      ...(process.env[keyVar] ? { apiKey: process.env[keyVar]! } : {}),
      ...(str(v, "template") ? { template: str(v, "template")! } : {}),
      ...(v["no-chat-template"] ? { chatTemplate: false } : {}),
      ...(str(v, "max-tokens") ? { maxTokens: int(v, "max-tokens", 1, 1) } : {}),
      ...(str(v, "limit") ? { limit: int(v, "limit", 1, 1) } : {}),
      ...(str(v, "out") ? { out: str(v, "out")! } : {}),
      ...(str(v, "resamples") ? { resamples: int(v, "resamples", 1000, 2) } : {}),
      fresh: v.fresh === true,
      quiet: v.quiet === true,
    };
    const { results } = await evaluate(o);
    const line = Object.entries(results.metrics)
      .map(([k, val]) => `${k} ${(val * 100).toFixed(1)}% ± ${((results.stderr[k] ?? 0) * 100).toFixed(1)}`)
      .join(", ");
    process.stdout.write(`${results.benchmark} (${results.problems} problems, n=${results.n}): ${line}\n`);
    if (results.verifyErrors)
      process.stderr.write(
        `warning: the verifier failed on ${results.verifyErrors} samples (counted wrong; see verifyError in samples.jsonl)\n`,
      );
    if (o.out) process.stdout.write(`results: ${join(o.out, "results.json")}, report: ${join(o.out, "report.html")}\n`);
    return 0;
  },
};
