import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { LOG_PROBS_MODES, TokenrlError, initBackend } from "@tokenrl/core";
import type { LogProbsMode } from "@tokenrl/core";
import { loadPolicy, savePolicy } from "./checkpoint.js";
import { configFromHf, parameterCount } from "./config.js";
import { generate, scoreSequence } from "./generate.js";
import { createPolicy } from "./init.js";
import { CharTokenizer, type PolicyTokenizer, loadTokenizer } from "./tokenizer.js";

const USAGE = `tokenrl-policy: Llama/Qwen2/Qwen3 checkpoints in TensorFlow.js

Commands:
  init      write a seeded random checkpoint in HF format
  score     per-token log-probs and entropies of a text
  generate  sample a continuation of a prompt (minimal KV-cached loop; @tokenrl/rollout has the full sampler)

Run "tokenrl-policy <command> --help" for a command's options.
The tensor backend is chosen as @tokenrl/core's initBackend does (TOKENRL_BACKEND=wasm|cpu|tensorflow forces one).
`;

const HELP = {
  init: `tokenrl-policy init --config FILE --out DIR [--seed N] [--tokenizer PATH] [--dtype float32|bfloat16|float16]

Writes a randomly initialised checkpoint (config.json, model.safetensors,
tokenizer.json, tokenizer_config.json, generation_config.json) that HF tools read.

  --config FILE     an HF-style config.json (model_type llama|qwen2|qwen3, hidden_size, ...)
  --out DIR         output directory (created)
  --seed N          initialisation seed (default 0)
  --tokenizer PATH  a tokenizer.json, or a directory holding one (+ tokenizer_config.json);
                    default: the built-in character tokenizer (<pad> <bos> <eos> <unk> + printable ASCII),
                    whose special ids fill bos/eos/pad_token_id when the config has none
  --dtype D         storage dtype (default: the config's torch_dtype, else float32)
`,
  score: `tokenrl-policy score --model DIR --text TEXT [--add-special-tokens]

Prints JSON {"ids": [...], "logProbs": [...], "entropies": [...]}: entry i is the
log-prob of ids[i] (and the entropy) of the distribution that predicted it, null for i = 0.

  --model DIR             an HF checkpoint directory
  --text TEXT             the text to score
  --add-special-tokens    let the tokenizer add its special tokens (e.g. BOS); default off
`,
  generate: `tokenrl-policy generate --model DIR --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p M] [--logprobs-mode MODE] [--seed S] [--add-special-tokens] [--json]

Samples one continuation with a KV cache and prints it (the text, or JSON with --json).
It samples with the sampler @tokenrl/rollout uses (from @tokenrl/core): for a seed, the tokens
of rollout's generate on this one prompt. @tokenrl/rollout adds batches, stop strings and groups.

  --model DIR             an HF checkpoint directory
  --prompt TEXT           the prompt
  --max-tokens N          at most N new tokens (default 64)
  --temperature T         0 = greedy (default 1)
  --top-k K               keep the K most likely tokens (default 0 = off)
  --top-p P               nucleus sampling mass (default 1 = off)
  --min-p M               drop tokens below M x the top token's probability (default 0 = off)
  --logprobs-mode MODE    what logProbs are of: processed (the sampled distribution, default), temperature, raw
  --seed S                sampler seed (default 0)
  --add-special-tokens    let the tokenizer add its special tokens to the prompt
  --json                  print {"ids", "text", "logProbs", "finishReason"}
`,
} as const;

function numberFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new TokenrlError("CONFIG", `--${name}: expected a number, got "${value}"`);
  return n;
}

function required(value: string | undefined, name: string, command: string): string {
  if (value === undefined)
    throw new TokenrlError("CONFIG", `--${name} is required (see tokenrl-policy ${command} --help)`);
  return value;
}

async function tokenizerFrom(path: string): Promise<PolicyTokenizer> {
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  if (!existsSync(join(dir, "tokenizer.json")))
    throw new TokenrlError("CONFIG", `--tokenizer: no tokenizer.json at ${path}`);
  return loadTokenizer(dir);
}

async function runInit(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      out: { type: "string" },
      seed: { type: "string" },
      tokenizer: { type: "string" },
      dtype: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void process.stdout.write(HELP.init);
  const configPath = required(values.config, "config", "init");
  const out = required(values.out, "out", "init");
  const json = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
  const tokenizer = values.tokenizer ? await tokenizerFrom(values.tokenizer) : new CharTokenizer();
  json.eos_token_id ??= tokenizer.eosTokenId;
  json.pad_token_id ??= tokenizer.padTokenId;
  if (tokenizer.bosTokenId !== undefined) json.bos_token_id ??= tokenizer.bosTokenId;
  if (values.dtype) json.torch_dtype = values.dtype;
  const config = configFromHf(json);
  if (config.vocabSize < tokenizer.vocabSize)
    throw new TokenrlError(
      "CONFIG",
      `vocab_size ${config.vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize} tokens`,
    );
  await initBackend();
  const model = createPolicy(config, { seed: numberFlag(values.seed, "seed", 0) });
  await savePolicy(out, model, tokenizer);
  process.stderr.write(
    `wrote ${out}: ${config.modelType}, ${parameterCount(config).toLocaleString("en-US")} parameters, ${config.weightDtype}\n`,
  );
  model.dispose();
}

async function runScore(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      text: { type: "string" },
      "add-special-tokens": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void process.stdout.write(HELP.score);
  const dir = required(values.model, "model", "score");
  const text = required(values.text, "text", "score");
  await initBackend();
  const { model, tokenizer } = await loadPolicy(dir);
  const ids = tokenizer.encode(text, { addSpecialTokens: values["add-special-tokens"] ?? false });
  const { logProbs, entropies } = scoreSequence(model, ids);
  process.stdout.write(`${JSON.stringify({ ids, logProbs, entropies })}\n`);
  model.dispose();
}

async function runGenerate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      prompt: { type: "string" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-k": { type: "string" },
      "top-p": { type: "string" },
      "min-p": { type: "string" },
      "logprobs-mode": { type: "string" },
      seed: { type: "string" },
      "add-special-tokens": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void process.stdout.write(HELP.generate);
  const mode = values["logprobs-mode"] ?? "processed";
  if (!(LOG_PROBS_MODES as readonly string[]).includes(mode))
    throw new TokenrlError("CONFIG", `--logprobs-mode: expected one of ${LOG_PROBS_MODES.join(", ")}, got "${mode}"`);
  const dir = required(values.model, "model", "generate");
  const prompt = required(values.prompt, "prompt", "generate");
  await initBackend();
  const { model, tokenizer } = await loadPolicy(dir);
  const promptIds = tokenizer.encode(prompt, { addSpecialTokens: values["add-special-tokens"] ?? false });
  const result = generate(model, promptIds, {
    maxTokens: numberFlag(values["max-tokens"], "max-tokens", 64),
    temperature: numberFlag(values.temperature, "temperature", 1),
    topK: numberFlag(values["top-k"], "top-k", 0),
    topP: numberFlag(values["top-p"], "top-p", 1),
    minP: numberFlag(values["min-p"], "min-p", 0),
    logProbsMode: mode as LogProbsMode,
    seed: numberFlag(values.seed, "seed", 0),
    stopIds: [...new Set([...model.config.eosTokenIds, tokenizer.eosTokenId])],
  });
  const text = tokenizer.decode(result.ids, { skipSpecialTokens: true });
  if (values.json)
    process.stdout.write(
      `${JSON.stringify({ ids: result.ids, text, logProbs: result.logProbs, finishReason: result.finishReason })}\n`,
    );
  else process.stdout.write(`${text}\n`);
  model.dispose();
}

/** Runs one CLI invocation; returns the exit code. Output goes to process.stdout/stderr. */
export async function runPolicyCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return command ? 0 : 1;
  }
  const run = { init: runInit, score: runScore, generate: runGenerate }[command];
  if (!run) {
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
    return 1;
  }
  try {
    await run(rest);
    return 0;
  } catch (err) {
    const e = err as Error;
    process.stderr.write(
      `tokenrl-policy ${command}: ${e instanceof TokenrlError || e.name === "TypeError" ? e.message : (e.stack ?? e.message)}\n`,
    );
    return 1;
  }
}
