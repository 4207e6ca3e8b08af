import type { IncomingMessage, ServerResponse } from "node:http";

/** An error answered in OpenAI's shape: `{ error: { message, type, param, code } }`. */
export class ApiError extends Error {
  /** For a 405: the methods the path takes, sent as the `Allow` header. */
  allow?: string;

  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** OpenAI's `type` for the status. */
  get type(): string {
    if (this.status === 429) return "rate_limit_error";
    if (this.status === 404 && this.code === "model_not_found") return "invalid_request_error";
    if (this.status >= 500) return "server_error";
    return "invalid_request_error";
  }

  /** The headers the answer carries: `Retry-After` when the client should come back, `Allow` on a 405. */
  headers(): Record<string, string> {
    return {
      ...(this.status === 429 || this.code === "server_busy" ? { "retry-after": "1" } : {}),
      ...(this.allow ? { allow: this.allow } : {}),
    };
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A 400 naming the request field. */
export function invalid(param: string, message: string, code: string | null = null): ApiError {
  return new ApiError(400, `${param}: ${message}`, param, code);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * After refusing a body, reads and discards the rest of it (up to `limit`
 * bytes or `ms`), so the client gets the answer instead of a connection reset
 * (closing a socket with unread data makes the kernel send RST, which can
 * destroy the response before the client reads it).
 */
function drain(req: IncomingMessage, limit: number, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = () => {
      clearTimeout(timer);
      req.off("data", onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) {
        req.destroy();
        stop();
      }
    };
    const timer = setTimeout(() => {
      req.destroy();
      stop();
    }, ms);
    req.on("data", onData);
    req.once("end", stop);
    req.once("error", stop);
    req.once("close", stop);
    req.resume();
  });
}

/**
 * Answers with `err` once the unread request body has been drained, then
 * closes the connection. A body declared larger than `drainLimit` is not
 * read: the answer goes out at once (a client that reads while it sends, as
 * fetch does, still gets it) and the connection closes.
 */
export async function refuseBody(
  req: IncomingMessage,
  res: ServerResponse,
  err: ApiError,
  drainLimit: number,
): Promise<void> {
  const declared = Number(req.headers["content-length"]);
  if (!req.readableEnded && !(Number.isFinite(declared) && declared > drainLimit)) await drain(req, drainLimit, 10_000);
  if (!res.headersSent && !res.destroyed)
    sendJson(res, err.status, err.body(), { ...err.headers(), connection: "close" });
}

/**
 * The request-body bytes held by all connections together: each body's
 * limit alone would let N parallel connections hold N times it.
 */
export class BodyBudget {
  private held = 0;
  constructor(readonly max: number) {}
  take(bytes: number): boolean {
    if (this.held + bytes > this.max) return false;
    this.held += bytes;
    return true;
  }
  give(bytes: number): void {
    this.held -= bytes;
  }
  get inFlight(): number {
    return this.held;
  }
}

/**
 * The body as JSON, at most `limit` bytes: a declared content-length over the
 * limit is refused before reading, a longer chunked body as soon as it passes
 * the limit; either way a 413 ApiError. Bytes are kept only up to the limit,
 * and drawn from `budget`: a body that would pass it is a 503 (the server is
 * busy reading others), so many parallel bodies cannot exhaust memory.
 */
export function readJsonBody(req: IncomingMessage, limit: number, budget?: BodyBudget): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(tooLarge(limit, `${declared} bytes declared`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let held = 0;
    let refused = false;
    const release = () => {
      budget?.give(held);
      held = 0;
    };
    const refuse = (err: ApiError) => {
      refused = true;
      req.off("data", onData);
      req.pause();
      chunks.length = 0;
      release();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return refuse(tooLarge(limit, `more than ${limit} bytes sent`));
      if (budget && !budget.take(chunk.length))
        return refuse(
          new ApiError(
            503,
            `the server is busy: more than ${budget.max} bytes of request bodies are being received; retry`,
            null,
            "server_busy",
          ),
        );
      held += chunk.length;
      chunks.push(chunk);
    };
    req.on("data", onData);
    // An aborted request gives its bytes back.
    req.once("close", release);
    req.once("end", () => {
      if (refused) return;
      const text = Buffer.concat(chunks).toString("utf8");
      release();
      if (text.trim() === "") return reject(new ApiError(400, "the request body is empty; send a JSON object"));
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ApiError(400, "the request body is not valid JSON"));
      }
    });
    req.once("error", reject);
  });
}

function tooLarge(limit: number, detail: string): ApiError {
  return new ApiError(413, `request body exceeds ${limit} bytes (${detail})`, null, "request_too_large");
}

/** Server-sent events: `data: <json>\n\n` per event, `data: [DONE]\n\n` at the end. */
export class EventStream {
  constructor(private readonly res: ServerResponse) {}

  open(): void {
    this.res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    this.res.flushHeaders();
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  send(event: unknown): void {
    if (this.closed) return;
    this.res.write(`data: ${JSON.stringify(event)}\n\n`);
    // A client that stops reading would make the server buffer the whole stream: drop it instead
    // (closing the response cancels its work like a disconnect).
    if (this.res.writableLength > EventStream.maxBufferedBytes) this.res.destroy();
  }

  /** Unsent bytes a stream may buffer for a slow client. */
  static maxBufferedBytes = 8 << 20;

  /** An error after the stream started: an `error` event as OpenAI sends it, then the end. */
  fail(err: ApiError): void {
    this.send(err.body());
    this.done();
  }

  done(): void {
    if (this.closed) return;
    this.res.write("data: [DONE]\n\n");
    this.res.end();
  }
}
