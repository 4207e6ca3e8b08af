/**
 * The OpenAI-compatible wire format as vLLM, SGLang, llama.cpp server and
 * Ollama speak it: request bodies for /v1/completions and /v1/chat/completions,
 * and parsing of the two per-token log-prob shapes.
 */
import type { TokenizerLike } from "./model.js";
import { LogProbsUnavailableError } from "./remote-errors.js";
import type { ResolvedSamplingParams } from "./sampling.js";
import type { FinishReason } from "./sequence.js";

/** One sample from a remote engine, log-probs per token. */
export interface RemoteChoice {
  text: string;
  /** The tokens as the server printed them (`token_id:N` when return_tokens_as_token_ids); empty when log-probs were not asked for and the server sent none. */
  tokens: string[];
  /** Token ids, when the server returned them (vLLM `return_tokens_as_token_ids`) or the tokenizer could map each token. */
  tokenIds?: number[];
  logProbs: number[];
  finishReason: FinishReason;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Completions `logprobs`: `{ tokens: string[], token_logprobs: (number|null)[], top_logprobs, text_offset }`. */
interface CompletionLogProbs {
  tokens?: unknown;
  token_logprobs?: unknown;
}

/** Chat `logprobs`: `{ content: [{ token, logprob, bytes, top_logprobs }] }`. */
interface ChatLogProbs {
  content?: unknown;
}

/** The sampling fields of a request body; vendor extensions only when they differ from the default, so strict servers accept the rest. */
export function samplingBody(p: ResolvedSamplingParams, n: number): Record<string, unknown> {
  const body: Record<string, unknown> = { n, max_tokens: p.maxTokens, temperature: p.temperature, top_p: p.topP };
  if (p.topK > 0) body.top_k = p.topK;
  if (p.minP > 0) body.min_p = p.minP;
  if (p.stop.length) body.stop = p.stop;
  if (p.stopTokenIds.length) body.stop_token_ids = p.stopTokenIds;
  if (p.ignoreEos) body.ignore_eos = true;
  if (p.includeStopStrInOutput) body.include_stop_str_in_output = true;
  if (p.seed !== undefined) body.seed = p.seed;
  return body;
}

const TOKEN_ID = /^token_id:(\d+)$/;

function finishReasonOf(raw: unknown): FinishReason {
  return raw === "length" ? "length" : "stop";
}

function tokenIdsOf(tokens: string[], tokenizer: TokenizerLike | undefined): number[] | undefined {
  const ids: number[] = [];
  for (const token of tokens) {
    const m = TOKEN_ID.exec(token);
    if (m) {
      ids.push(Number(m[1]));
      continue;
    }
    if (!tokenizer) return undefined;
    const encoded = tokenizer.encode(token);
    if (encoded.length !== 1) return undefined;
    ids.push(encoded[0]!);
  }
  return ids;
}

function numbersOrThrow(values: unknown[], url: string, field: string): number[] {
  return values.map((v, i) => {
    // The first token of an echoed prompt has a null log-prob; a sampled token never does.
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new LogProbsUnavailableError(
        url,
        `a finite ${field}[${i}] (got ${JSON.stringify(v)})`,
        "the server returned a malformed log-prob",
      );
    }
    return v;
  });
}

const HINT =
  "rollout needs the sampled tokens' log-probs: use a server that honours `logprobs` (vLLM, SGLang, llama.cpp server; start vLLM with --logprobs-mode processed_logprobs to get the sampling distribution's)";

/**
 * Parses `choices` of a /v1/completions or /v1/chat/completions response, in
 * `index` order. With `requireLogProbs` false (evaluation), a choice without
 * log-probs is text and finish reason only (`tokens` and `logProbs` empty);
 * log-probs a server sends anyway are parsed as usual.
 */
export function parseChoices(
  body: unknown,
  url: string,
  kind: "completions" | "chat",
  tokenizer?: TokenizerLike,
  requireLogProbs = true,
): RemoteChoice[] {
  const choices = (body as { choices?: unknown })?.choices;
  if (!Array.isArray(choices))
    throw new LogProbsUnavailableError(url, "`choices` array", "the body is not an OpenAI-compatible completion");
  const ordered = [...choices].sort(
    (a, b) => ((a as { index?: number }).index ?? 0) - ((b as { index?: number }).index ?? 0),
  );
  return ordered.map((c: Record<string, unknown>, i) => {
    let text: string;
    let tokens: string[];
    let logProbs: number[];
    if (kind === "completions") {
      text = typeof c.text === "string" ? c.text : "";
      const lp = c.logprobs as CompletionLogProbs | null | undefined;
      if (!requireLogProbs && (lp === null || lp === undefined))
        return { text, tokens: [], logProbs: [], finishReason: finishReasonOf(c.finish_reason) };
      if (!lp || !Array.isArray(lp.tokens) || !Array.isArray(lp.token_logprobs)) {
        throw new LogProbsUnavailableError(url, `choices[${i}].logprobs.token_logprobs`, HINT);
      }
      tokens = lp.tokens.map(String);
      logProbs = numbersOrThrow(lp.token_logprobs, url, `choices[${i}].logprobs.token_logprobs`);
    } else {
      const message = c.message as { content?: unknown } | undefined;
      text = typeof message?.content === "string" ? message.content : "";
      const lp = c.logprobs as ChatLogProbs | null | undefined;
      if (!requireLogProbs && (lp === null || lp === undefined))
        return { text, tokens: [], logProbs: [], finishReason: finishReasonOf(c.finish_reason) };
      if (!lp || !Array.isArray(lp.content))
        throw new LogProbsUnavailableError(url, `choices[${i}].logprobs.content`, HINT);
      const entries = lp.content as { token?: unknown; logprob?: unknown }[];
      tokens = entries.map((e) => String(e.token ?? ""));
      logProbs = numbersOrThrow(
        entries.map((e) => e.logprob),
        url,
        `choices[${i}].logprobs.content[].logprob`,
      );
    }
    if (tokens.length !== logProbs.length) {
      throw new LogProbsUnavailableError(
        url,
        `one log-prob per token in choices[${i}] (${tokens.length} tokens, ${logProbs.length} log-probs)`,
        HINT,
      );
    }
    const tokenIds = tokenIdsOf(tokens, tokenizer);
    return { text, tokens, logProbs, finishReason: finishReasonOf(c.finish_reason), ...(tokenIds ? { tokenIds } : {}) };
  });
}
