import { ConfigError, TimeoutError, createRng } from "@tokenrl/core";
import type { RolloutEngine } from "./engine.js";
import type { TokenizerLike } from "./model.js";
import { LogProbsUnavailableError, RemoteEngineError } from "./remote-errors.js";
import { type ChatMessage, type RemoteChoice, parseChoices, samplingBody } from "./remote-protocol.js";
import { type SamplingParams, resolveSamplingParams } from "./sampling.js";
import type { RolloutSequence } from "./sequence.js";

/** How a request picks a server. */
export type LoadBalancing = "round-robin" | "least-in-flight";

export interface RemoteEngineOptions {
  /** Server roots, e.g. "http://127.0.0.1:8000" (a trailing "/v1" is accepted). */
  baseUrls: readonly string[];
  /** The served model name sent as `model`. */
  model: string;
  apiKey?: string;
  /** Default "least-in-flight" (ties go round robin). */
  balancing?: LoadBalancing;
  /** Tries per request, the first included. Default 4. */
  maxAttempts?: number;
  /** Back-off before retry k is min(maxBackoffMs, backoffMs * 2^(k-1)) times a jitter in [0.5, 1); a Retry-After header wins when shorter than maxBackoffMs. Default 250. */
  backoffMs?: number;
  /** Default 8000. */
  maxBackoffMs?: number;
  /** Per-attempt timeout (AbortController). Default 300000. */
  timeoutMs?: number;
  /** Retry an attempt that timed out. Default true. */
  retryOnTimeout?: boolean;
  /** Maps printed tokens to ids when the server does not return `token_id:N` tokens, and decodes. */
  tokenizer?: TokenizerLike;
  /** Pad id for batches built from this engine's sequences (default tokenizer.padTokenId, else 0). */
  padTokenId?: number;
  /** Ask for `token_id:N` tokens (vLLM's `return_tokens_as_token_ids`). Default true. */
  returnTokenIds?: boolean;
  /**
   * Ask `complete` and `chat` for per-token log-probs and require them (default
   * true). False (evaluation): the requests ask for none, and servers that send
   * none are accepted. A call's own `logProbs` wins. `generate` always needs them.
   */
  logProbs?: boolean;
  /** Extra fields merged into every request body (vendor options). */
  extraBody?: Record<string, unknown>;
  /** Seed of the back-off jitter. Default 0. */
  seed?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Largest response body read; a longer one is an error, not an out-of-memory. Default 256 MiB. */
  maxResponseBytes?: number;
}

export interface ServerStats {
  url: string;
  inFlight: number;
  requests: number;
  failures: number;
}

/** Sampling parameters of one `complete` / `chat` call. */
export type RemoteCallParams = SamplingParams & {
  n?: number;
  /** Ask for (and require) per-token log-probs; default the engine's `logProbs` (true). */
  logProbs?: boolean;
};

export interface RemoteEngine extends RolloutEngine {
  /** n samples for one prompt (text or token ids) from /v1/completions. */
  complete(prompt: string | readonly number[], params?: RemoteCallParams): Promise<RemoteChoice[]>;
  /** n samples for a conversation from /v1/chat/completions (chat `logprobs.content[]`). */
  chat(messages: readonly ChatMessage[], params?: RemoteCallParams): Promise<RemoteChoice[]>;
  /** Per-server counters. */
  stats(): ServerStats[];
}

interface Server extends ServerStats {
  root: string;
}

const RETRY_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "EAI_AGAIN",
]);

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The body as text, or undefined once it passes `limit` bytes (the rest is not read). */
async function readText(res: Response, limit: number): Promise<string | undefined> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp server,
 * Ollama) that asks for per-token log-probs, spreads requests over several
 * servers, retries 429 / 5xx / dropped connections with exponential back-off,
 * and bounds each attempt with a timeout. As a RolloutEngine it sends token-id
 * prompts and needs token ids back (vLLM `return_tokens_as_token_ids`, or a
 * tokenizer that maps each printed token to one id).
 */
export function createRemoteEngine(options: RemoteEngineOptions): RemoteEngine {
  if (!options.baseUrls.length) throw new ConfigError("baseUrls", "give at least one server URL");
  const servers: Server[] = options.baseUrls.map((u) => {
    const root = u.replace(/\/+$/, "").replace(/\/v1$/, "");
    if (!/^https?:\/\//.test(root)) throw new ConfigError("baseUrls", `"${u}" is not an http(s) URL`);
    return { url: u, root, inFlight: 0, requests: 0, failures: 0 };
  });
  const balancing = options.balancing ?? "least-in-flight";
  if (balancing !== "round-robin" && balancing !== "least-in-flight")
    throw new ConfigError("balancing", `must be "round-robin" or "least-in-flight", got "${balancing}"`);
  const maxAttempts = options.maxAttempts ?? 4;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new ConfigError("maxAttempts", `must be an integer >= 1, got ${maxAttempts}`);
  const backoffMs = options.backoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 8000;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const retryOnTimeout = options.retryOnTimeout ?? true;
  const doFetch = options.fetch ?? globalThis.fetch;
  const jitter = createRng(options.seed ?? 0);
  const returnTokenIds = options.returnTokenIds ?? true;
  const maxResponseBytes = options.maxResponseBytes ?? 256 << 20;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1)
    throw new ConfigError("maxResponseBytes", `must be an integer >= 1, got ${maxResponseBytes}`);
  let next = 0;

  function pick(): Server {
    if (balancing === "round-robin") return servers[next++ % servers.length]!;
    let best: Server | undefined;
    for (let k = 0; k < servers.length; k++) {
      const s = servers[(next + k) % servers.length]!;
      if (!best || s.inFlight < best.inFlight) best = s;
    }
    next++;
    return best!;
  }

  type Attempt = { json: unknown } | { error: Error; retryable: boolean; retryAfterMs?: number };

  async function attemptOnce(
    server: Server,
    path: string,
    body: Record<string, unknown>,
    attempt: number,
  ): Promise<Attempt> {
    const url = server.root + path;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    server.inFlight++;
    server.requests++;
    try {
      const res = await doFetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ ...body, ...options.extraBody }),
        signal: controller.signal,
      });
      const text = await readText(res, maxResponseBytes);
      if (text === undefined) {
        return {
          error: new RemoteEngineError(url, `response body exceeds ${maxResponseBytes} bytes (maxResponseBytes)`, {
            status: res.status,
            attempts: attempt,
            retryable: false,
          }),
          retryable: false,
        };
      }
      if (res.ok) {
        try {
          return { json: JSON.parse(text) };
        } catch (cause) {
          return {
            error: new RemoteEngineError(url, `response is not JSON: ${text.slice(0, 200)}`, {
              status: res.status,
              attempts: attempt,
              retryable: false,
              cause,
            }),
            retryable: false,
          };
        }
      }
      const retryable = res.status === 429 || res.status >= 500;
      const ra = Number(res.headers.get("retry-after"));
      return {
        error: new RemoteEngineError(url, `HTTP ${res.status}: ${text.slice(0, 300)}`, {
          status: res.status,
          attempts: attempt,
          retryable,
        }),
        retryable,
        ...(Number.isFinite(ra) && ra > 0 ? { retryAfterMs: ra * 1000 } : {}),
      };
    } catch (err) {
      if (controller.signal.aborted)
        return { error: new TimeoutError(`POST ${url} (attempt ${attempt})`, timeoutMs), retryable: retryOnTimeout };
      const code = networkCode(err);
      // fetch reports resets and refusals as "fetch failed" with the socket error as cause.
      const retryable = code === undefined || RETRY_CODES.has(code);
      return {
        error: new RemoteEngineError(url, `request failed (${code ?? (err as Error).message})`, {
          attempts: attempt,
          retryable,
          cause: err,
        }),
        retryable,
      };
    } finally {
      clearTimeout(timer);
      server.inFlight--;
    }
  }

  async function post(path: string, body: Record<string, unknown>): Promise<{ json: unknown; url: string }> {
    for (let attempt = 1; ; attempt++) {
      const server = pick();
      const outcome = await attemptOnce(server, path, body, attempt);
      if ("json" in outcome) return { json: outcome.json, url: server.root + path };
      server.failures++;
      if (!outcome.retryable || attempt >= maxAttempts) throw outcome.error;
      const exp = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1)) * (0.5 + 0.5 * jitter.next());
      await sleep(
        outcome.retryAfterMs !== undefined && outcome.retryAfterMs < maxBackoffMs ? outcome.retryAfterMs : exp,
      );
    }
  }

  /**
   * One sampling request to an OpenAI-style endpoint: the model, the endpoint's input
   * (`prompt` or `messages`), the sampling fields, the endpoint's way of asking for the
   * sampled tokens' log-probs and, when configured, token ids instead of strings.
   */
  async function sample(
    endpoint: "completions" | "chat",
    input: Record<string, unknown>,
    logprobs: Record<string, unknown>,
    params: RemoteCallParams,
  ): Promise<RemoteChoice[]> {
    const { n = 1, logProbs: wantLogProbs = options.logProbs ?? true, ...rest } = params;
    const p = resolveSamplingParams(rest);
    // Without log-probs nothing vendor-specific is sent, so strict OpenAI-style servers accept the body.
    const body = {
      model: options.model,
      ...input,
      ...samplingBody(p, n),
      ...(wantLogProbs ? logprobs : {}),
      ...(wantLogProbs && returnTokenIds ? { return_tokens_as_token_ids: true } : {}),
    };
    const { json, url } = await post(endpoint === "chat" ? "/v1/chat/completions" : "/v1/completions", body);
    return parseChoices(json, url, endpoint, options.tokenizer, wantLogProbs);
  }

  async function complete(prompt: string | readonly number[], params: RemoteCallParams = {}): Promise<RemoteChoice[]> {
    return sample(
      "completions",
      { prompt: typeof prompt === "string" ? prompt : [...prompt] },
      { logprobs: 1 },
      params,
    );
  }

  async function chat(messages: readonly ChatMessage[], params: RemoteCallParams = {}): Promise<RemoteChoice[]> {
    return sample("chat", { messages }, { logprobs: true, top_logprobs: 0 }, params);
  }

  async function generate(
    prompts: readonly (readonly number[])[],
    params: SamplingParams = {},
  ): Promise<RolloutSequence[]> {
    // Runs of the same prompt (a GRPO group) go as one request with n = run length,
    // so the server shares the prefix; distinct prompts go as separate requests
    // so the balancer can spread a batch over the servers.
    const runs: { start: number; n: number }[] = [];
    prompts.forEach((p, i) => {
      const last = runs[runs.length - 1];
      if (last && sameIds(prompts[last.start]!, p)) last.n++;
      else runs.push({ start: i, n: 1 });
    });
    const answers = await Promise.all(
      runs.map((run, r) =>
        complete(prompts[run.start]!, {
          ...params,
          logProbs: true,
          n: run.n,
          ...(params.seed !== undefined ? { seed: (params.seed + r) >>> 0 } : {}),
        }),
      ),
    );
    const out: RolloutSequence[] = [];
    runs.forEach((run, r) => {
      const choices = answers[r]!;
      if (choices.length !== run.n)
        throw new RemoteEngineError(
          options.baseUrls.join(", "),
          `asked for n=${run.n} choices, got ${choices.length}`,
          { attempts: 1, retryable: false },
        );
      for (const c of choices) {
        if (!c.tokenIds) {
          throw new LogProbsUnavailableError(
            options.baseUrls.join(", "),
            "token ids",
            "ask vLLM for `return_tokens_as_token_ids` (returnTokenIds: true) or pass a tokenizer that maps each returned token to one id",
          );
        }
        out.push({
          promptIds: [...prompts[run.start]!],
          responseIds: c.tokenIds,
          rolloutLogProbs: c.logProbs,
          finishReason: c.finishReason,
          text: c.text,
        });
      }
    });
    return out;
  }

  const tokenizer = options.tokenizer;
  return {
    padTokenId: options.padTokenId ?? tokenizer?.padTokenId ?? 0,
    ...(tokenizer ? { tokenizer } : {}),
    complete,
    chat,
    generate,
    stats: () => servers.map(({ url, inFlight, requests, failures }) => ({ url, inFlight, requests, failures })),
  };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a === b || (a.length === b.length && a.every((v, i) => v === b[i]));
}
