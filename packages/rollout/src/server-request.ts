import { ConfigError } from "@tokenrl/core";
import { ApiError, invalid } from "./server-http.js";
import { type ResolvedSamplingParams, type SamplingParams, resolveSamplingParams } from "./sampling.js";

/** The limits every request is checked against (see CompletionsServerOptions). */
export interface RequestLimits {
  modelName: string;
  vocabSize: number;
  contextLength: number;
  maxN: number;
  maxTokensLimit: number;
  defaultMaxTokens: number;
  maxTopLogProbs: number;
  maxStop: number;
  /** Whether one row of this prompt length and max_tokens fits the engine's memory budget. */
  fits: (promptLength: number, maxTokens: number) => boolean;
}

/** A chat message after validation: content as one string. (A type alias, so renderers taking `{ role: string; [k: string]: unknown }` accept it.) */
export type ServerChatMessage = {
  role: "system" | "user" | "assistant";
  content: string;
};

/** What both endpoints take, validated. */
export interface ParsedSampling {
  n: number;
  /** Without seed; max_tokens still unresolved (it depends on the prompt length). */
  params: Omit<ResolvedSamplingParams, "maxTokens">;
  maxTokens: number | undefined;
  seed: number | undefined;
  stream: boolean;
  includeUsage: boolean;
  tokensAsIds: boolean;
  /** Per-token log-probs asked for. */
  logProbs: boolean;
  /** Alternatives per position (completions `logprobs: k`, chat `top_logprobs`). */
  topLogProbs: number;
}

export interface ParsedCompletions extends ParsedSampling {
  kind: "completions";
  /** Text prompts (to encode) or token-id prompts, one per prompt. */
  prompts: (string | number[])[];
}

export interface ParsedChat extends ParsedSampling {
  kind: "chat";
  messages: ServerChatMessage[];
  addGenerationPrompt: boolean;
  templateVariables: Record<string, unknown>;
}

type Body = Record<string, unknown>;

const SAMPLING_FIELDS = [
  "model",
  "n",
  "max_tokens",
  "temperature",
  "top_p",
  "top_k",
  "min_p",
  "stop",
  "stop_token_ids",
  "ignore_eos",
  "include_stop_str_in_output",
  "seed",
  "stream",
  "stream_options",
  "return_tokens_as_token_ids",
  "user",
  "presence_penalty",
  "frequency_penalty",
  "repetition_penalty",
  "logit_bias",
  "best_of",
] as const;
const COMPLETIONS_FIELDS = new Set<string>([...SAMPLING_FIELDS, "prompt", "logprobs", "echo", "suffix"]);
const CHAT_FIELDS = new Set<string>([
  ...SAMPLING_FIELDS,
  "messages",
  "max_completion_tokens",
  "logprobs",
  "top_logprobs",
  "add_generation_prompt",
  "chat_template_kwargs",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "store",
  "metadata",
]);

const absent = (v: unknown): boolean => v === undefined || v === null;

function integer(body: Body, field: string, lo: number, hi: number): number | undefined {
  const v = body[field];
  if (absent(v)) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi)
    throw invalid(field, `must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return v;
}

function number(body: Body, field: string, ok: (v: number) => boolean, range: string): number | undefined {
  const v = body[field];
  if (absent(v)) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || !ok(v))
    throw invalid(field, `must be a number ${range}, got ${JSON.stringify(v)}`);
  return v;
}

function boolean(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (absent(v)) return undefined;
  if (typeof v !== "boolean") throw invalid(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Fields OpenAI defines that this server does not implement: accepted only at their no-op value. */
function noOp(body: Body, field: string, isNoOp: (v: unknown) => boolean, what: string): void {
  const v = body[field];
  if (!absent(v) && !isNoOp(v)) throw invalid(field, `is not supported by this server (only ${what})`, "unsupported");
}

function stopStrings(body: Body, maxStop: number): string[] {
  const v = body.stop;
  if (absent(v)) return [];
  const list = typeof v === "string" ? [v] : v;
  if (
    !Array.isArray(list) ||
    list.length > maxStop ||
    !list.every((s) => typeof s === "string" && s.length > 0 && s.length <= 1000)
  )
    throw invalid(
      "stop",
      `must be a non-empty string or a list of at most ${maxStop} such strings (each <= 1000 chars)`,
    );
  return list as string[];
}

function tokenIdList(v: unknown, vocabSize: number): v is number[] {
  return (
    Array.isArray(v) && v.every((id) => typeof id === "number" && Number.isInteger(id) && id >= 0 && id < vocabSize)
  );
}

function sampling(body: Body, limits: RequestLimits, kind: "completions" | "chat"): ParsedSampling {
  const allowed = kind === "completions" ? COMPLETIONS_FIELDS : CHAT_FIELDS;
  for (const key of Object.keys(body))
    if (!allowed.has(key))
      throw invalid(key, `unrecognized request argument for /v1/${kind === "chat" ? "chat/" : ""}completions`);
  if (body.model !== undefined && body.model !== limits.modelName)
    throw new ApiError(
      404,
      `The model \`${String(body.model)}\` does not exist; this server serves "${limits.modelName}"`,
      "model",
      "model_not_found",
    );
  const n = integer(body, "n", 1, limits.maxN) ?? 1;
  const maxTokensField =
    kind === "chat" && !absent(body.max_completion_tokens) ? "max_completion_tokens" : "max_tokens";
  const maxTokens = integer(body, maxTokensField, 1, limits.maxTokensLimit);
  const stop = stopStrings(body, limits.maxStop);
  const stopTokenIds = body.stop_token_ids;
  if (!absent(stopTokenIds) && !(tokenIdList(stopTokenIds, limits.vocabSize) && stopTokenIds.length <= 64))
    throw invalid("stop_token_ids", `must be a list of at most 64 token ids in [0, ${limits.vocabSize})`);
  const seed = body.seed;
  if (!absent(seed) && !(typeof seed === "number" && Number.isSafeInteger(seed)))
    throw invalid("seed", `must be an integer, got ${JSON.stringify(seed)}`);
  const stream = boolean(body, "stream") ?? false;
  const streamOptions = body.stream_options;
  let includeUsage = false;
  if (!absent(streamOptions)) {
    if (!stream) throw invalid("stream_options", "is only allowed with stream: true");
    if (typeof streamOptions !== "object" || Array.isArray(streamOptions))
      throw invalid("stream_options", "must be an object like { include_usage: true }");
    for (const key of Object.keys(streamOptions as Body))
      if (key !== "include_usage" && key !== "continuous_usage_stats")
        throw invalid(`stream_options.${key}`, "unrecognized stream option");
    includeUsage = boolean(streamOptions as Body, "include_usage") ?? false;
  }
  if (!absent(body.user) && typeof body.user !== "string") throw invalid("user", "must be a string");
  noOp(body, "presence_penalty", (v) => v === 0, "0");
  noOp(body, "frequency_penalty", (v) => v === 0, "0");
  noOp(body, "repetition_penalty", (v) => v === 1, "1");
  noOp(
    body,
    "logit_bias",
    (v) => typeof v === "object" && !Array.isArray(v) && Object.keys(v as Body).length === 0,
    "{}",
  );
  noOp(body, "best_of", (v) => v === n, "best_of = n");

  const raw: SamplingParams = {
    temperature: number(body, "temperature", (v) => v >= 0, ">= 0 (0 = greedy)") ?? 1,
    topP: number(body, "top_p", (v) => v > 0 && v <= 1, "in (0, 1]") ?? 1,
    topK: integer(body, "top_k", -1, limits.vocabSize) ?? 0,
    minP: number(body, "min_p", (v) => v >= 0 && v <= 1, "in [0, 1]") ?? 0,
    stop,
    stopTokenIds: (stopTokenIds as number[] | undefined) ?? [],
    ignoreEos: boolean(body, "ignore_eos") ?? false,
    includeStopStrInOutput: boolean(body, "include_stop_str_in_output") ?? false,
    maxTokens: 1,
  };
  let resolved: ResolvedSamplingParams;
  try {
    resolved = resolveSamplingParams(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw invalid(err.path.replace(/^sampling\./, ""), err.message);
    throw err;
  }
  const { maxTokens: _placeholder, ...params } = resolved;
  const tokensAsIds = boolean(body, "return_tokens_as_token_ids") ?? false;

  let logProbs: boolean;
  let topLogProbs: number;
  if (kind === "completions") {
    const k = body.logprobs;
    if (!absent(k) && !(typeof k === "number" && Number.isInteger(k) && k >= 0 && k <= limits.maxTopLogProbs))
      throw invalid("logprobs", `must be an integer in [0, ${limits.maxTopLogProbs}] (alternatives per token) or null`);
    logProbs = !absent(k);
    topLogProbs = (k as number | undefined) ?? 0;
  } else {
    logProbs = boolean(body, "logprobs") ?? false;
    const k = integer(body, "top_logprobs", 0, limits.maxTopLogProbs);
    if (k !== undefined && k > 0 && !logProbs) throw invalid("top_logprobs", "needs logprobs: true");
    topLogProbs = k ?? 0;
  }
  return {
    n,
    params,
    maxTokens,
    seed: absent(seed) ? undefined : (seed as number),
    stream,
    includeUsage,
    tokensAsIds,
    logProbs,
    topLogProbs,
  };
}

function asObject(body: unknown): Body {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ApiError(400, "the request body must be a JSON object");
  return body as Body;
}

/** Validates a /v1/completions body (every field, against the limits). */
export function parseCompletions(raw: unknown, limits: RequestLimits): ParsedCompletions {
  const body = asObject(raw);
  const base = sampling(body, limits, "completions");
  noOp(body, "echo", (v) => v === false, "false");
  noOp(body, "suffix", (v) => v === "", '""');
  const prompt = body.prompt;
  let prompts: (string | number[])[];
  if (typeof prompt === "string") prompts = [prompt];
  else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((x) => typeof x === "number")) {
    if (!tokenIdList(prompt, limits.vocabSize))
      throw invalid("prompt", `token ids must be integers in [0, ${limits.vocabSize})`);
    prompts = [prompt];
  } else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((x) => typeof x === "string"))
    prompts = prompt as string[];
  else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((x) => Array.isArray(x))) {
    prompt.forEach((p, i) => {
      if (!tokenIdList(p, limits.vocabSize))
        throw invalid(`prompt[${i}]`, `token ids must be integers in [0, ${limits.vocabSize})`);
    });
    prompts = prompt as number[][];
  } else
    throw invalid(
      "prompt",
      "must be a string, a list of strings, a list of token ids, or a list of lists of token ids (non-empty)",
    );
  if (prompts.length * base.n > limits.maxN)
    throw invalid(
      "n",
      `${prompts.length} prompts x n = ${base.n} is ${prompts.length * base.n} choices; at most ${limits.maxN} per request`,
    );
  return { kind: "completions", ...base, prompts };
}

/** Validates a /v1/chat/completions body. */
export function parseChat(raw: unknown, limits: RequestLimits): ParsedChat {
  const body = asObject(raw);
  const base = sampling(body, limits, "chat");
  noOp(body, "tools", (v) => Array.isArray(v) && v.length === 0, "[]");
  noOp(body, "tool_choice", (v) => v === "none", '"none"');
  noOp(body, "parallel_tool_calls", (v) => typeof v === "boolean", "a boolean");
  noOp(body, "response_format", (v) => (v as Body)?.type === "text", '{ type: "text" }');
  noOp(body, "store", (v) => v === false, "false");
  noOp(body, "metadata", (v) => typeof v === "object" && !Array.isArray(v), "an object");
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw invalid("messages", "must be a non-empty list");
  if (messages.length > 4096) throw invalid("messages", "at most 4096 messages");
  const parsed = messages.map((m: unknown, i): ServerChatMessage => {
    const msg = m as Body;
    if (typeof msg !== "object" || msg === null || Array.isArray(msg))
      throw invalid(`messages[${i}]`, "must be an object { role, content }");
    const role = msg.role === "developer" ? "system" : msg.role;
    if (role !== "system" && role !== "user" && role !== "assistant")
      throw invalid(
        `messages[${i}].role`,
        `must be "system", "developer", "user" or "assistant", got ${JSON.stringify(msg.role)}`,
      );
    return { role, content: messageText(msg.content, `messages[${i}].content`) };
  });
  const addGenerationPrompt = boolean(body, "add_generation_prompt") ?? true;
  const kwargs = body.chat_template_kwargs;
  if (!absent(kwargs) && (typeof kwargs !== "object" || Array.isArray(kwargs)))
    throw invalid("chat_template_kwargs", "must be an object");
  return {
    kind: "chat",
    ...base,
    messages: parsed,
    addGenerationPrompt,
    templateVariables: (kwargs as Body | undefined) ?? {},
  };
}

/** A message's content: a string, or OpenAI's list of `{ type: "text", text }` parts (joined). */
function messageText(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((part: unknown, j) => {
        const p = part as Body;
        if (p?.type !== "text" || typeof p.text !== "string")
          throw invalid(`${param}[${j}]`, 'only { type: "text", text } parts are supported');
        return p.text;
      })
      .join("");
  throw invalid(param, "must be a string or a list of text parts");
}

/**
 * max_tokens for a prompt of `promptLength` tokens: the request's, else the
 * default (completions: `defaultMaxTokens`; chat: the rest of the context, as
 * OpenAI and vLLM), checked against the context window and the memory budget.
 */
export function resolveMaxTokens(
  request: ParsedSampling & { kind: "completions" | "chat" },
  promptLength: number,
  limits: RequestLimits,
  param: string,
): number {
  const room = limits.contextLength - promptLength;
  const wanted =
    request.maxTokens ??
    Math.min(request.kind === "chat" ? limits.maxTokensLimit : limits.defaultMaxTokens, Math.max(1, room));
  if (promptLength + wanted > limits.contextLength)
    throw new ApiError(
      400,
      `This model's maximum context length is ${limits.contextLength} tokens. However, you requested ${promptLength + wanted} tokens (${promptLength} in the prompt, ${wanted} for the completion). Please reduce the prompt or completion length.`,
      param,
      "context_length_exceeded",
    );
  if (!limits.fits(promptLength, wanted))
    throw new ApiError(
      400,
      `A prompt of ${promptLength} tokens with ${wanted} new tokens needs more memory than this server's batch budget allows; send a shorter prompt or fewer tokens`,
      param,
      "context_length_exceeded",
    );
  return wanted;
}
