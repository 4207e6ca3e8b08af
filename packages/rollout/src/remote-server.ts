import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, InvalidInputError, TokenrlError, createRng } from "@tokenrl/core";
import type { Rng } from "@tokenrl/core";
import { type ChatTemplate, PLAIN_TEMPLATE } from "./chat.js";
import type { GenerativeModel, TokenizerLike } from "./model.js";
import type { ResolvedSamplingParams } from "./sampling.js";
import { ApiError, BodyBudget, EventStream, readJsonBody, refuseBody, sendJson } from "./server-http.js";
import {
  type ParsedChat,
  type ParsedCompletions,
  type RequestLimits,
  type ServerChatMessage,
  parseChat,
  parseCompletions,
  resolveMaxTokens,
} from "./server-request.js";
import { BatchScheduler, EngineUnavailableError, type SchedulerStats } from "./server-scheduler.js";
import { defaultBatchBytes, estimateRowBytes } from "./server-memory.js";
import { responseShapes } from "./server-responses.js";
import { type StreamDelta, StreamingChoice } from "./server-stream.js";

/** Renders chat messages to the prompt text; `@tokenrl/policy`'s `createChatTemplate` (Jinja, from tokenizer_config.json) is one. */
export interface ChatRenderer {
  render(
    messages: readonly ServerChatMessage[],
    options?: { addGenerationPrompt?: boolean; variables?: Record<string, unknown> },
  ): string;
}

export interface CompletionsServerOptions {
  model: GenerativeModel;
  tokenizer: TokenizerLike;
  /** The name served at /v1/models and accepted as `model`. Default "tokenrl". */
  modelName?: string;
  /** Seed of the server's sampling stream (request k uses fork(k) unless it sends `seed`). Default 0. */
  seed?: number;
  /** The checkpoint's chat template (e.g. `loadChatTemplate(dir)` from @tokenrl/policy); wins over `template`. */
  chatTemplate?: ChatRenderer;
  /** Segment template for chat when there is no `chatTemplate` (its `stop` strings are added). Default PLAIN_TEMPLATE. */
  template?: ChatTemplate;
  /** Tokens of prompt + completion the model takes. Default the model config's `maxPositionEmbeddings`. */
  contextLength?: number;
  /** `max_tokens` when a completions request omits it. Default 16 (OpenAI's). Chat defaults to the rest of the context. */
  defaultMaxTokens?: number;
  /** Largest `max_tokens`. Default min(4096, contextLength - 1). */
  maxTokensLimit?: number;
  /** Largest `n` x prompts (choices) per request. Default 256. */
  maxN?: number;
  /** Largest completions `logprobs` / chat `top_logprobs`. Default 20. */
  maxTopLogProbs?: number;
  /** Largest choices x max_tokens x (1 + alternatives) log-probs one request may ask for (they are held until sent). Default 2^22. */
  maxLogProbEntries?: number;
  /** Largest request body in bytes. Default max(64 KiB, 32 bytes x contextLength). */
  maxBodyBytes?: number;
  /** Request-body bytes held at once by all connections together; a body that would pass it gets 503 `server_busy`. Default max(64 MiB, 4 x maxBodyBytes). */
  maxInFlightBodyBytes?: number;
  /** Rows (prompt x choice) in one generate call. Default 32. */
  maxBatchRows?: number;
  /** Padded prompt tokens (rows x longest prompt) in one batch: the prefill is one forward that the event loop waits for. Default 8192. */
  maxBatchTokens?: number;
  /** Estimated peak bytes of all running batches (see `rowBytes`). Default `defaultBatchBytes()`. */
  maxBatchBytes?: number;
  /** Batches decoding at once, their steps interleaved. Default 2. */
  maxConcurrentBatches?: number;
  /** Rows waiting for the engine; beyond it requests get 429. Default 4096. */
  maxQueuedRows?: number;
  /** How long an idle engine waits to batch requests that arrive together. Default 2 ms. */
  batchWindowMs?: number;
  /** Peak bytes of one row (prompt of P tokens, T new ones). Default `estimateRowBytes(model.config)`. */
  rowBytes?: (promptLength: number, maxTokens: number) => number;
  /**
   * Called once if the backend breaks (a WebAssembly trap such as "memory access
   * out of bounds", or an allocation failure): the weights cannot be trusted any
   * more, so the server answers 503 from then on and /health says so. Default
   * (createCompletionsServer): print the error, close the server and set
   * `process.exitCode = 70`, so the process exits non-zero for its supervisor to
   * restart it. The handler alone only reports it (health 503).
   */
  onFatal?: (err: unknown) => void;
}

/** A node:http request handler with the engine's lifecycle. */
export interface CompletionsHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Refuses new work, ends running requests (503, streams end) and resolves when the engine is idle. */
  close(): Promise<void>;
  stats(): SchedulerStats;
  /** The largest request body accepted. */
  readonly maxBodyBytes: number;
}

/**
 * A request handler speaking the OpenAI protocol over an in-process model:
 * `GET /health`, `GET /v1/models`, `POST /v1/completions` (text or token-id
 * prompts, `n`, `logprobs: k`, `echo: false`), `POST /v1/chat/completions`
 * (the checkpoint's chat template, `logprobs` + `top_logprobs`), both with
 * `stream` (server-sent events ending in `data: [DONE]`, `stream_options.include_usage`),
 * `stop`, `seed`, `max_tokens`, `temperature`, `top_p` and vLLM's `top_k`,
 * `min_p`, `stop_token_ids`, `ignore_eos`, `return_tokens_as_token_ids`.
 * Every field is validated (400 in OpenAI's error shape, `param` naming the
 * field); prompt + max_tokens must fit the context window. Requests are
 * batched into the engine (BatchScheduler), and a request whose client
 * disconnects is cancelled. Log-probs are rollout's "processed" mode (the
 * sampling distribution), as are top log-probs.
 */
export function createCompletionsHandler(options: CompletionsServerOptions): CompletionsHandler {
  const { model, tokenizer } = options;
  const modelName = options.modelName ?? "tokenrl";
  const contextLength =
    options.contextLength ?? (model.config as { maxPositionEmbeddings?: number }).maxPositionEmbeddings;
  if (contextLength === undefined || !Number.isInteger(contextLength) || contextLength < 2)
    throw new ConfigError(
      "contextLength",
      `needs the model's context window (an integer >= 2): pass contextLength or a model whose config has maxPositionEmbeddings, got ${contextLength}`,
    );
  const positive = (name: string, v: number | undefined, fallback: number): number => {
    const value = v ?? fallback;
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(name, `must be an integer >= 1, got ${value}`);
    return value;
  };
  const maxBodyBytes = positive("maxBodyBytes", options.maxBodyBytes, Math.max(1 << 16, 32 * contextLength));
  const bodyBudget = new BodyBudget(
    positive("maxInFlightBodyBytes", options.maxInFlightBodyBytes, Math.max(1 << 26, 4 * maxBodyBytes)),
  );
  const scheduler = new BatchScheduler({
    model,
    tokenizer,
    maxBatchRows: positive("maxBatchRows", options.maxBatchRows, 32),
    maxBatchTokens: positive("maxBatchTokens", options.maxBatchTokens, 8192),
    maxBatchBytes: positive("maxBatchBytes", options.maxBatchBytes, defaultBatchBytes()),
    maxConcurrentBatches: positive("maxConcurrentBatches", options.maxConcurrentBatches, 2),
    maxQueuedRows: positive("maxQueuedRows", options.maxQueuedRows, 4096),
    batchWindowMs: options.batchWindowMs ?? 2,
    rowBytes: options.rowBytes ?? estimateRowBytes(model.config),
    onFatal: (err) => options.onFatal?.(err),
  });
  const limits: RequestLimits = {
    modelName,
    vocabSize: model.config.vocabSize,
    contextLength,
    maxN: positive("maxN", options.maxN, 256),
    maxTokensLimit: positive("maxTokensLimit", options.maxTokensLimit, Math.min(4096, contextLength - 1)),
    defaultMaxTokens: positive("defaultMaxTokens", options.defaultMaxTokens, 16),
    maxTopLogProbs: options.maxTopLogProbs ?? 20,
    maxStop: 16,
    fits: (p, t) => scheduler.fits(p, t),
  };
  const maxLogProbEntries = positive("maxLogProbEntries", options.maxLogProbEntries, 1 << 22);
  const segments = options.template ?? PLAIN_TEMPLATE;
  const root = createRng(options.seed ?? 0);
  let requests = 0;
  let closing = false;

  /** Per-row streams: row i of a request with seed s is createRng(s).fork(i), as `generate` with that seed. */
  function streams(rows: number, seed: number | undefined): Rng[] {
    const base = seed !== undefined ? createRng(seed) : root.fork(requests);
    return Array.from({ length: rows }, (_, i) => base.fork(i));
  }

  function encodeChat(request: ParsedChat): { prompt: number[]; stop: string[] } {
    if (options.chatTemplate) {
      const text = options.chatTemplate.render(request.messages, {
        addGenerationPrompt: request.addGenerationPrompt,
        variables: request.templateVariables,
      });
      return { prompt: tokenizer.encode(text), stop: [] };
    }
    const text = request.messages
      .map((m) => (m.role === "assistant" ? segments.assistant(m.content) : segments.user(m.content)))
      .join("");
    return {
      prompt: tokenizer.encode(text + (request.addGenerationPrompt ? segments.generationPrompt : "")),
      stop: [...segments.stop],
    };
  }

  interface Prepared {
    prompts: number[][];
    n: number;
    params: ResolvedSamplingParams;
    topLogProbs: number;
    seed: number | undefined;
  }

  function prepare(request: ParsedCompletions | ParsedChat): Prepared {
    let prompts: number[][];
    let extraStop: string[] = [];
    const param = request.kind === "chat" ? "messages" : "prompt";
    if (request.kind === "chat") {
      const { prompt, stop } = encodeChat(request);
      prompts = [prompt];
      extraStop = stop;
    } else prompts = request.prompts.map((p) => (typeof p === "string" ? tokenizer.encode(p) : p));
    prompts.forEach((p, i) => {
      if (p.length === 0)
        throw new ApiError(
          400,
          `${param}${prompts.length > 1 ? `[${i}]` : ""}: the prompt is empty (no tokens)`,
          param,
        );
    });
    const longest = Math.max(...prompts.map((p) => p.length));
    const maxTokens = resolveMaxTokens(request, longest, limits, param);
    const entries = prompts.length * request.n * maxTokens * (1 + request.topLogProbs);
    if (request.logProbs && entries > maxLogProbEntries) {
      const field = request.kind === "chat" && request.topLogProbs > 0 ? "top_logprobs" : "logprobs";
      throw new ApiError(
        400,
        `${field}: ${prompts.length * request.n} choices x ${maxTokens} tokens x ${1 + request.topLogProbs} log-probs is ${entries} entries; at most ${maxLogProbEntries} per request (ask for fewer choices, tokens or alternatives)`,
        field,
      );
    }
    const stop = [...request.params.stop, ...extraStop.filter((s) => !request.params.stop.includes(s))];
    return {
      prompts,
      n: request.n,
      params: { ...request.params, stop, maxTokens },
      topLogProbs: request.topLogProbs,
      seed: request.seed,
    };
  }

  const { usage, completionLogProbs, chatLogProbs, finishReason } = responseShapes(tokenizer);

  async function respond(
    request: ParsedCompletions | ParsedChat,
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<void> {
    const prepared = prepare(request);
    const { prompts, n, params, topLogProbs } = prepared;
    const rows = prompts.flatMap((p) => new Array<number[]>(n).fill(p));
    const rngs = streams(rows.length, prepared.seed);
    requests++;
    const chat = request.kind === "chat";
    const id = `${chat ? "chatcmpl" : "cmpl"}-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: chat ? "chat.completion" : "text_completion", created, model: modelName };
    const job = { prompts: rows, rngs, params, topLogProbs, signal };

    if (!request.stream) {
      const results = await scheduler.submit(job).catch((err: unknown) => {
        throw generationError(err);
      });
      const choices = results.map((r, index) => {
        const s = r.sequence;
        if (chat)
          return {
            index,
            message: { role: "assistant", content: s.text },
            logprobs: request.logProbs
              ? chatLogProbs(s.responseIds, s.rolloutLogProbs, r.top, request.tokensAsIds)
              : null,
            finish_reason: finishReason(r),
          };
        return {
          index,
          text: s.text,
          logprobs: request.logProbs
            ? completionLogProbs(s.responseIds, s.rolloutLogProbs, r.top, topLogProbs, request.tokensAsIds, 0)
            : null,
          finish_reason: finishReason(r),
        };
      });
      return sendJson(res, 200, { ...head, choices, usage: usage(prompts, results) });
    }

    // Streaming: one event per released piece of a choice, its finish, optionally usage, then [DONE].
    const events = new EventStream(res);
    const chunkObject = chat ? "chat.completion.chunk" : "text_completion";
    const holdback = Math.max(0, ...params.stop.map((s) => s.length)) - 1;
    const choices = rows.map(() => new StreamingChoice(tokenizer, Math.max(0, holdback)));
    const offsets = rows.map(() => 0);
    const emit = (index: number, delta: StreamDelta, finish: "stop" | "length" | null) => {
      const c = choices[index]!;
      const ids = c.ids.slice(delta.from, delta.to);
      if (!finish && delta.text === "" && !(request.logProbs && ids.length > 0)) return;
      const lps = c.logProbs.slice(delta.from, delta.to);
      const tops = topLogProbs > 0 ? c.tops.slice(delta.from, delta.to) : undefined;
      let choice: Record<string, unknown>;
      if (chat)
        choice = {
          index,
          delta: delta.text === "" && finish ? {} : { content: delta.text },
          logprobs: request.logProbs && ids.length > 0 ? chatLogProbs(ids, lps, tops, request.tokensAsIds) : null,
          finish_reason: finish,
        };
      else {
        choice = {
          index,
          text: delta.text,
          logprobs: request.logProbs
            ? completionLogProbs(ids, lps, tops, topLogProbs, request.tokensAsIds, offsets[index]!)
            : null,
          finish_reason: finish,
        };
        for (const id of ids) offsets[index]! += tokenizer.decode([id]).length;
      }
      events.send({ id, object: chunkObject, created, model: modelName, choices: [choice] });
    };
    events.open();
    if (chat)
      rows.forEach((_, index) =>
        events.send({
          id,
          object: chunkObject,
          created,
          model: modelName,
          choices: [{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }],
        }),
      );
    try {
      const results = await scheduler.submit({
        ...job,
        onStep: (row, step) => {
          const delta = choices[row]!.push(step);
          if (delta) emit(row, delta, null);
        },
        onRow: (row, result) => {
          const delta = choices[row]!.finish(result.sequence.text, result.sequence.responseIds.length);
          emit(row, delta, finishReason(result));
        },
      });
      if (request.includeUsage)
        events.send({
          id,
          object: chunkObject,
          created,
          model: modelName,
          choices: [],
          usage: usage(prompts, results),
        });
      events.done();
    } catch (err) {
      if (!signal.aborted) events.fail(generationError(err));
      else res.destroy();
    }
  }

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    const controller = new AbortController();
    // The client went away before the answer was complete: cancel its work.
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new Error("the client disconnected"));
    });
    (async () => {
      if (path === "/health" && (req.method === "GET" || req.method === "HEAD")) {
        const stats = scheduler.stats();
        const status = !stats.healthy ? "error" : closing ? "closing" : "ok";
        return sendJson(res, status === "ok" ? 200 : 503, { status, ...stats });
      }
      if (path === "/v1/models" && req.method === "GET")
        return sendJson(res, 200, {
          object: "list",
          data: [{ id: modelName, object: "model", created: 0, owned_by: "tokenrl", max_model_len: contextLength }],
        });
      // A known path with the wrong method is a 405 naming the methods it takes (RFC 9110 `Allow`), not a 404.
      if ((path === "/health" || path === "/v1/models") && req.method !== "GET" && req.method !== "HEAD")
        throw methodNotAllowed(path, path === "/health" ? "GET, HEAD" : "GET");
      if (path === "/v1/completions" || path === "/v1/chat/completions") {
        if (req.method !== "POST") throw methodNotAllowed(path, "POST");
        if (!scheduler.healthy || closing) {
          const stats = scheduler.stats();
          throw new ApiError(
            503,
            closing
              ? "the server is shutting down"
              : `the model backend failed (${stats.fatal}); this server must be restarted`,
            null,
            "unavailable",
          );
        }
        const body = await readJsonBody(req, maxBodyBytes, bodyBudget);
        const request = path === "/v1/completions" ? parseCompletions(body, limits) : parseChat(body, limits);
        return respond(request, res, controller.signal);
      }
      throw new ApiError(404, `no route ${req.method} ${path}`, null, "not_found");
    })().catch(async (err: unknown) => {
      const api = apiErrorOf(err);
      if (res.headersSent || res.destroyed) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      // Up to 64 MiB (or 16 bodies) of an unread body is read and dropped so the client hears the answer.
      if (!req.readableEnded) return refuseBody(req, res, api, Math.max(16 * maxBodyBytes, 1 << 26));
      sendJson(res, api.status, api.body(), api.headers());
    });
  }) as CompletionsHandler;
  handler.close = async () => {
    closing = true;
    await scheduler.close();
  };
  handler.stats = () => scheduler.stats();
  Object.defineProperty(handler, "maxBodyBytes", { value: maxBodyBytes });
  return handler;
}

/** The request was valid, so an error while generating is the server's (500), whatever its class. */
function generationError(err: unknown): ApiError {
  const api = apiErrorOf(err);
  if (api.status !== 400) return api;
  return new ApiError(500, api.message, null, api.code);
}

function apiErrorOf(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof EngineUnavailableError)
    return err.reason === "busy"
      ? new ApiError(429, err.message, null, "rate_limit_exceeded")
      : new ApiError(503, err.message, null, "unavailable");
  if (err instanceof ConfigError) return new ApiError(400, err.message, err.path.replace(/^sampling\./, ""), err.code);
  if (err instanceof InvalidInputError) return new ApiError(400, err.message, null, err.code);
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(500, message, null, err instanceof TokenrlError ? err.code : null);
}

export interface CompletionsServer {
  readonly server: Server;
  /** The engine's counters and health (as /health reports them). */
  stats(): SchedulerStats;
  /** Starts listening (default 127.0.0.1 and a free port); resolves to the base URL, e.g. "http://127.0.0.1:43121". */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, ends running requests (503 / the stream ends), closes every connection; resolves when closed. */
  close(): Promise<void>;
  /** On SIGTERM / SIGINT: close, then exit 0 (1 if closing takes over `timeoutMs`, default 5000). For CLIs. */
  closeOnSignals(signals?: readonly NodeJS.Signals[], timeoutMs?: number): void;
}

/**
 * `createCompletionsHandler` in a node:http server with bounded request
 * reading (`requestTimeout` 60 s for the whole request, 413 before reading a
 * declared oversize body, also for `Expect: 100-continue`), and, unless
 * `onFatal` is given, exit code 70 after a backend failure.
 */
export function createCompletionsServer(options: CompletionsServerOptions): CompletionsServer {
  let server: Server;
  let closed: Promise<void> | undefined;
  const handler = createCompletionsHandler({
    ...options,
    onFatal:
      options.onFatal ??
      ((err) => {
        console.error(
          `tokenrl completions server: the model backend failed and cannot be trusted any more; closing. ${String((err as Error)?.stack ?? err)}`,
        );
        process.exitCode = 70;
        void close();
      }),
  });
  server = createServer(handler);
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
  server.on("checkContinue", (req, res) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > handler.maxBodyBytes) {
      const err = new ApiError(
        413,
        `request body exceeds ${handler.maxBodyBytes} bytes (${declared} bytes declared)`,
        null,
        "request_too_large",
      );
      sendJson(res, 413, err.body(), { connection: "close" });
      return;
    }
    res.writeContinue();
    handler(req, res);
  });

  function close(): Promise<void> {
    closed ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await handler.close();
      // Answers already written get a moment to flush before the sockets go.
      await new Promise((r) => setTimeout(r, 50));
      server.closeAllConnections();
      await stopped;
    })();
    return closed;
  }

  return {
    server,
    stats: () => handler.stats(),
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          resolve(`http://${host.includes(":") ? `[${host}]` : host}:${address.port}`);
        });
      });
    },
    close,
    closeOnSignals(signals = ["SIGTERM", "SIGINT"], timeoutMs = 5000) {
      const onSignal = () => {
        const timer = setTimeout(() => process.exit(1), timeoutMs);
        timer.unref();
        close().then(
          () => process.exit(process.exitCode ?? 0),
          () => process.exit(1),
        );
      };
      for (const s of signals) process.once(s, onSignal);
    },
  };
}

function methodNotAllowed(path: string, allow: string): ApiError {
  const e = new ApiError(405, `${path} takes ${allow}`, null, "method_not_allowed");
  e.allow = allow;
  return e;
}
