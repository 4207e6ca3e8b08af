import { ConfigError } from "@tokenrl/base/errors";

// Sampling parameters: the leaf both the tensor sampler (sampling.ts) and the
// host sampler (host.ts) import, so neither imports the other.

/**
 * Which distribution `rolloutLogProbs` are the log-probs of.
 *
 * - `"processed"` (default): the distribution the token was actually sampled
 *   from, after temperature, top-k, top-p and min-p. This is the behaviour
 *   policy mu, the right denominator for truncated importance sampling; it is
 *   vLLM's `--logprobs-mode processed_logprobs`, which verl sets by default for
 *   its rollouts (verl PR #4755). With top-k/top-p/min-p off it equals
 *   `"temperature"`, i.e. what a trainer recomputes as `log_softmax(logits / T)`.
 * - `"temperature"`: `log_softmax(logits / T)`, before truncation.
 * - `"raw"`: `log_softmax(logits)`, the model's own distribution (vLLM's default
 *   `raw_logprobs`).
 *
 * Greedy decoding (temperature 0) samples from a point mass, whose log-prob (0)
 * says nothing, so every mode reports `log_softmax(logits)` there, as vLLM does.
 */
export type LogProbsMode = "processed" | "temperature" | "raw";
export const LOG_PROBS_MODES: readonly LogProbsMode[] = ["processed", "temperature", "raw"];

/** Decoding options, named and defaulted as vLLM's `SamplingParams`. */
export interface SamplingParams {
  /** Softmax temperature; 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 or -1 disables. Default 0. */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of top tokens whose mass reaches p (Holtzman et al., 2020). Default 1 (off). */
  topP?: number;
  /** Drop tokens whose probability is below minP times the top token's (Nguyen et al., 2024). Default 0 (off). */
  minP?: number;
  /** New tokens per response, at least 1. Default 256. */
  maxTokens?: number;
  /** Stop when the decoded response contains one of these strings (needs a tokenizer). */
  stop?: string[];
  /** Stop after emitting one of these token ids (the token is kept, as EOS is). */
  stopTokenIds?: number[];
  /** Keep generating through EOS (benchmarks). Default false. */
  ignoreEos?: boolean;
  /** Keep the matched stop string at the end of `text`. Default false (vLLM's default). */
  includeStopStrInOutput?: boolean;
  /** Seed for this call; default: the engine's seed stream. */
  seed?: number;
  /** See LogProbsMode. Default "processed". */
  logProbsMode?: LogProbsMode;
}

export type ResolvedSamplingParams = Required<Omit<SamplingParams, "seed">> & { seed?: number };

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new ConfigError(`sampling.${field}`, message);
}

/** Fills defaults and checks ranges; throws a ConfigError naming the bad field. */
export function resolveSamplingParams(params: SamplingParams = {}): ResolvedSamplingParams {
  const r: ResolvedSamplingParams = {
    temperature: params.temperature ?? 1,
    topK: params.topK ?? 0,
    topP: params.topP ?? 1,
    minP: params.minP ?? 0,
    maxTokens: params.maxTokens ?? 256,
    stop: params.stop ?? [],
    stopTokenIds: params.stopTokenIds ?? [],
    ignoreEos: params.ignoreEos ?? false,
    includeStopStrInOutput: params.includeStopStrInOutput ?? false,
    logProbsMode: params.logProbsMode ?? "processed",
    ...(params.seed !== undefined ? { seed: params.seed } : {}),
  };
  check(
    Number.isFinite(r.temperature) && r.temperature >= 0,
    "temperature",
    `must be >= 0 (0 = greedy), got ${r.temperature}`,
  );
  check(Number.isInteger(r.topK) && r.topK >= -1, "topK", `must be an integer >= 0 (0 or -1 = off), got ${r.topK}`);
  check(r.topP > 0 && r.topP <= 1, "topP", `must be in (0, 1], got ${r.topP}`);
  check(r.minP >= 0 && r.minP <= 1, "minP", `must be in [0, 1], got ${r.minP}`);
  check(Number.isInteger(r.maxTokens) && r.maxTokens >= 1, "maxTokens", `must be an integer >= 1, got ${r.maxTokens}`);
  check(
    Array.isArray(r.stop) && r.stop.every((s) => typeof s === "string" && s.length > 0),
    "stop",
    "must be a list of non-empty strings",
  );
  check(
    Array.isArray(r.stopTokenIds) && r.stopTokenIds.every((t) => Number.isInteger(t) && t >= 0),
    "stopTokenIds",
    "must be a list of token ids",
  );
  check(
    LOG_PROBS_MODES.includes(r.logProbsMode),
    "logProbsMode",
    `must be one of ${LOG_PROBS_MODES.join(", ")}, got "${r.logProbsMode}"`,
  );
  if (r.seed !== undefined) check(Number.isFinite(r.seed), "seed", `must be a finite number, got ${r.seed}`);
  return r;
}

export function isGreedy(params: ResolvedSamplingParams): boolean {
  return params.temperature === 0;
}
