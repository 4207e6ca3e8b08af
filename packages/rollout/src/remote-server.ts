import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, InvalidInputError, TokenrlError, createRng } from "@tokenrl/core";
import { type ChatTemplate, PLAIN_TEMPLATE } from "./chat.js";
import { generate } from "./generate.js";
import type { GenerativeModel, TokenizerLike } from "./model.js";
import type { SamplingParams } from "./sampling.js";
import type { RolloutSequence } from "./sequence.js";

export interface CompletionsServerOptions {
  model: GenerativeModel;
  tokenizer: TokenizerLike;
  /** The name served at /v1/models and accepted as `model`. Default "tokenrl". */
  modelName?: string;
  /** Seed of the server's sampling stream (request k uses fork(k) unless it sends `seed`). Default 0. */
  seed?: number;
  /** Renders chat messages for /v1/chat/completions. Default PLAIN_TEMPLATE. */
  template?: ChatTemplate;
  /** `max_tokens` when a request omits it. Default 16 (OpenAI's completions default). */
  defaultMaxTokens?: number;
  /** Largest `max_tokens` accepted. Default 4096. */
  maxTokensLimit?: number;
  /** Largest request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `request body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"));
      } catch {
        reject(new HttpError(400, "request body is not valid JSON"));
      }
    });
    req.on("error", reject);
  });
}

function num(body: Record<string, unknown>, field: string, fallback: number): number {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new HttpError(400, `${field} must be a number`);
  return v;
}

function stopList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  throw new HttpError(400, "stop must be a string or a list of strings");
}

/**
 * A request handler speaking the OpenAI-compatible protocol (the subset RL
 * rollouts use) over an in-process model: `GET /v1/models`, `GET /health`,
 * `POST /v1/completions` (prompt as text or token ids, `n`, `logprobs` in the
 * completions shape, vLLM's `return_tokens_as_token_ids`, `top_k`, `min_p`,
 * `stop_token_ids`, `ignore_eos`, `seed`) and `POST /v1/chat/completions`
 * (`logprobs: true` in the chat `content[]` shape). Requests are served one at a
 * time (tfjs computes on one thread); each request's prompts x n run as one batch.
 * Log-probs are rollout's "processed" mode (the sampling distribution).
 */
export function createCompletionsHandler(options: CompletionsServerOptions): Handler {
  const { model, tokenizer } = options;
  const modelName = options.modelName ?? "tokenrl";
  const template = options.template ?? PLAIN_TEMPLATE;
  const defaultMaxTokens = options.defaultMaxTokens ?? 16;
  const maxTokensLimit = options.maxTokensLimit ?? 4096;
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
  const root = createRng(options.seed ?? 0);
  let requests = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  function sampling(body: Record<string, unknown>, extraStop: readonly string[]): SamplingParams & { n: number } {
    const n = num(body, "n", 1);
    const maxTokens = num(body, "max_tokens", num(body, "max_completion_tokens", defaultMaxTokens));
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new HttpError(400, "n must be an integer in [1, 256]");
    if (maxTokens > maxTokensLimit) throw new HttpError(400, `max_tokens must be at most ${maxTokensLimit}`);
    const stopTokenIds = body.stop_token_ids ?? [];
    if (!Array.isArray(stopTokenIds)) throw new HttpError(400, "stop_token_ids must be a list of token ids");
    const seed = body.seed;
    return {
      n,
      maxTokens,
      temperature: num(body, "temperature", 1),
      topP: num(body, "top_p", 1),
      topK: Math.max(0, num(body, "top_k", 0)),
      minP: num(body, "min_p", 0),
      stop: [...stopList(body.stop), ...extraStop],
      stopTokenIds: stopTokenIds as number[],
      ignoreEos: body.ignore_eos === true,
      includeStopStrInOutput: body.include_stop_str_in_output === true,
      ...(typeof seed === "number" ? { seed } : {}),
    };
  }

  function promptsOf(prompt: unknown): number[][] {
    if (typeof prompt === "string") return [tokenizer.encode(prompt)];
    if (Array.isArray(prompt) && prompt.length > 0) {
      if (prompt.every((x) => typeof x === "number")) return [prompt as number[]];
      if (prompt.every((x) => typeof x === "string")) return (prompt as string[]).map((p) => tokenizer.encode(p));
      if (prompt.every((x) => Array.isArray(x) && x.every((y) => typeof y === "number"))) return prompt as number[][];
    }
    throw new HttpError(
      400,
      "prompt must be a string, a list of strings, a list of token ids, or a list of such lists",
    );
  }

  async function run(prompts: number[][], params: SamplingParams & { n: number }): Promise<RolloutSequence[]> {
    const { n, ...rest } = params;
    const rows = prompts.flatMap((p) => new Array<number[]>(n).fill(p));
    const rng = root.fork(requests++);
    return serially(async () => (await generate(model, rows, { ...rest, tokenizer, rng })).sequences);
  }

  const printed = (id: number, asIds: boolean) => (asIds ? `token_id:${id}` : tokenizer.decode([id]));

  async function completions(body: Record<string, unknown>): Promise<unknown> {
    if (body.stream === true) throw new HttpError(400, "stream is not supported by this server");
    const prompts = promptsOf(body.prompt);
    const params = sampling(body, []);
    const sequences = await run(prompts, params);
    const wantLogProbs = typeof body.logprobs === "number";
    const asIds = body.return_tokens_as_token_ids === true;
    return {
      id: `cmpl-${requests}`,
      object: "text_completion",
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      choices: sequences.map((s, index) => ({
        index,
        text: s.text,
        finish_reason: s.finishReason === "length" ? "length" : "stop",
        logprobs: wantLogProbs
          ? {
              tokens: s.responseIds.map((id) => printed(id, asIds)),
              token_logprobs: s.rolloutLogProbs,
              top_logprobs: null,
              text_offset: null,
            }
          : null,
      })),
      usage: usage(sequences),
    };
  }

  async function chat(body: Record<string, unknown>): Promise<unknown> {
    if (body.stream === true) throw new HttpError(400, "stream is not supported by this server");
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0)
      throw new HttpError(400, "messages must be a non-empty list");
    const text = messages
      .map((m: { role?: unknown; content?: unknown }, i) => {
        if (typeof m?.content !== "string") throw new HttpError(400, `messages[${i}].content must be a string`);
        return m.role === "assistant" ? template.assistant(m.content) : template.user(m.content);
      })
      .join("");
    const params = sampling(body, template.stop);
    const sequences = await run([tokenizer.encode(text + template.generationPrompt)], params);
    const asIds = body.return_tokens_as_token_ids === true;
    return {
      id: `chatcmpl-${requests}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      choices: sequences.map((s, index) => ({
        index,
        message: { role: "assistant", content: s.text },
        finish_reason: s.finishReason === "length" ? "length" : "stop",
        logprobs:
          body.logprobs === true
            ? {
                content: s.responseIds.map((id, t) => ({
                  token: printed(id, asIds),
                  logprob: s.rolloutLogProbs[t],
                  bytes: null,
                  top_logprobs: [],
                })),
              }
            : null,
      })),
      usage: usage(sequences),
    };
  }

  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    (async () => {
      if (req.method === "GET" && path === "/health") return send(res, 200, { status: "ok" });
      if (req.method === "GET" && path === "/v1/models")
        return send(res, 200, { object: "list", data: [{ id: modelName, object: "model", owned_by: "tokenrl" }] });
      if (req.method === "POST" && (path === "/v1/completions" || path === "/v1/chat/completions")) {
        const body = await readBody(req, maxBodyBytes);
        if (typeof body !== "object" || body === null || Array.isArray(body))
          throw new HttpError(400, "request body must be a JSON object");
        const b = body as Record<string, unknown>;
        if (b.model !== undefined && b.model !== modelName)
          throw new HttpError(404, `model "${String(b.model)}" is not served here; this server serves "${modelName}"`);
        return send(res, 200, path === "/v1/completions" ? await completions(b) : await chat(b));
      }
      throw new HttpError(404, `no route ${req.method} ${path}`);
    })().catch((err: unknown) => {
      const status =
        err instanceof HttpError
          ? err.status
          : err instanceof ConfigError || err instanceof InvalidInputError
            ? 400
            : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent)
        send(res, status, {
          error: {
            message,
            type: status < 500 ? "invalid_request_error" : "server_error",
            code: err instanceof TokenrlError ? err.code : null,
          },
        });
      else res.end();
    });
  };
}

function usage(sequences: readonly RolloutSequence[]): {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
} {
  const prompt = sequences.reduce((n, s) => n + s.promptIds.length, 0);
  const completion = sequences.reduce((n, s) => n + s.responseIds.length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export interface CompletionsServer {
  readonly server: Server;
  /** Starts listening (default 127.0.0.1 and a free port); resolves to the base URL, e.g. "http://127.0.0.1:43121". */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, closes idle connections, and resolves when closed. */
  close(): Promise<void>;
}

/** `createCompletionsHandler` in a node:http server. */
export function createCompletionsServer(options: CompletionsServerOptions): CompletionsServer {
  const server = createServer(createCompletionsHandler(options));
  return {
    server,
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
    close() {
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
