/**
 * A minimal JSON server on node:http in FastAPI's shapes (what AgentGym's
 * servers are): handlers return a JSON value sent with 200; unknown routes get
 * 404 `{"detail": "Not Found"}`; a malformed body gets 422 `{"detail": ...}`.
 *
 * Limits, because a served environment faces whatever a client sends: a body
 * over `maxBodyBytes` (default 1 MiB) is answered 413 without being buffered
 * (the rest of it is read and dropped, so the client sees the 413 rather than
 * a reset, up to `drainBytes`/`drainMs`, after which the connection is closed).
 * Bodies being read by all connections together are bounded too
 * (`maxInFlightBodyBytes`, default 64 MiB): a body that would pass it is answered
 * 503, so many parallel connections cannot multiply the per-body limit into the
 * server's memory. A request whose headers do not arrive within
 * `headersTimeoutMs` (10 s) or that is not fully received within
 * `requestTimeoutMs` (30 s) gets 408 and its connection is closed (slowloris).
 *
 * Fault injection, for testing clients: answer some requests 503, drop some
 * connections without answering, or never answer a route (stall). `kill()`
 * drops every connection at once, as a crashed server would.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import { ConfigError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";
import type { LiveEnvLimits } from "./live-envs.js";

export interface FaultOptions {
  /** Answer every n-th request with 503 (n >= 2). */
  readonly every503?: number;
  /** Answer each request with 503 with this probability (seeded). */
  readonly rate503?: number;
  /** Destroy the connection of every n-th request without answering (n >= 2). */
  readonly everyReset?: number;
  /** Routes ("POST /step") that accept the request and never answer. */
  readonly stall?: readonly string[];
  readonly seed?: number;
}

export class ValidationError extends Error {}

export interface BodyLimits {
  /** Largest request body accepted; larger ones get 413. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Bytes of request bodies held at once by all connections together; past it, 503. Default 64 MiB. */
  readonly maxInFlightBodyBytes?: number;
  /** Time for a request's headers to arrive, else 408 and the connection closed. Default 10 s. */
  readonly headersTimeoutMs?: number;
  /** Time for a whole request (headers and body) to arrive, else 408. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

/** Everything a served environment bounds: request bodies and live environments. */
export interface ServerLimits extends BodyLimits, LiveEnvLimits {}

export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
export const DEFAULT_MAX_IN_FLIGHT_BODY_BYTES = 64 << 20;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** After a 413, this much more of the body is read and dropped before the connection is closed. */
const DRAIN_BYTES = 64 << 20;
const DRAIN_MS = 5000;
const TOO_LARGE = Symbol("too large");
const BUSY = Symbol("busy");

export type Handler = (ctx: { body: unknown; query: URLSearchParams }) => unknown;

export interface ServerStats {
  requests: number;
  injected503: number;
  injectedResets: number;
}

export class JsonServer {
  readonly stats: ServerStats = { requests: 0, injected503: 0, injectedResets: 0 };
  readonly maxBodyBytes: number;
  readonly maxInFlightBodyBytes: number;
  /** Body bytes currently held by requests being read. */
  private buffered = 0;
  private readonly routes = new Map<string, Handler>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private faults: FaultOptions;
  private readonly faultRng;

  constructor(faults: FaultOptions = {}, limits: BodyLimits = {}) {
    this.maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isInteger(this.maxBodyBytes) || this.maxBodyBytes < 1)
      throw new ConfigError("maxBodyBytes", `must be a positive integer, got ${limits.maxBodyBytes}`);
    this.maxInFlightBodyBytes = positiveInt(
      "maxInFlightBodyBytes",
      limits.maxInFlightBodyBytes,
      DEFAULT_MAX_IN_FLIGHT_BODY_BYTES,
    );
    const headersTimeout = positiveInt("headersTimeoutMs", limits.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS);
    const requestTimeout = positiveInt("requestTimeoutMs", limits.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
    this.faults = faults;
    this.faultRng = createRng(faults.seed ?? 0).fork("faults");
    // node:http checks both timeouts every connectionsCheckingInterval: a quarter of the shorter one keeps them tight.
    this.server = createServer(
      { connectionsCheckingInterval: Math.max(50, Math.min(headersTimeout, requestTimeout) / 4) },
      (req, res) => void this.handle(req, res),
    );
    this.server.headersTimeout = Math.min(headersTimeout, requestTimeout);
    this.server.requestTimeout = requestTimeout;
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  route(method: "GET" | "POST", path: string, handler: Handler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  /** Change fault injection while running (tests turn faults on mid-episode). */
  setFaults(faults: FaultOptions): void {
    this.faults = faults;
  }

  /** Listen on host:port (port 0 picks a free one); resolves to the base URL. */
  listen(port = 0, host = "127.0.0.1"): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const address = this.server.address() as AddressInfo;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  /** Stop accepting, close idle keep-alive connections, wait for the rest. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      // Stalled requests would otherwise hold close() open forever.
      setTimeout(() => this.destroyAll(), 200).unref();
    });
  }

  /** Stop at once, dropping every connection mid-request (a crash). */
  kill(): Promise<void> {
    const closed = new Promise<void>((resolve) =>
      this.server.listening ? this.server.close(() => resolve()) : resolve(),
    );
    this.destroyAll();
    return closed;
  }

  /** The shared in-flight body budget readBody draws from. */
  private readonly budget: BodyBudget = {
    take: (n) => {
      if (this.buffered + n > this.maxInFlightBodyBytes) return false;
      this.buffered += n;
      return true;
    },
    give: (n) => {
      this.buffered -= n;
    },
  };

  private destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const n = this.stats.requests;
    const url = new URL(req.url ?? "/", "http://localhost");
    const key = `${req.method} ${url.pathname}`;
    const raw = await readBody(req, this.maxBodyBytes, this.budget);
    if (raw === BUSY) {
      res.setHeader("connection", "close");
      res.setHeader("retry-after", "1");
      send(res, 503, {
        detail: `server busy: more than ${this.maxInFlightBodyBytes} bytes of request bodies in flight`,
      });
      return;
    }
    if (raw === TOO_LARGE) {
      res.setHeader("connection", "close");
      send(res, 413, { detail: `request body over ${this.maxBodyBytes} bytes` });
      return;
    }
    const f = this.faults;
    if (f.everyReset && n % f.everyReset === 0) {
      this.stats.injectedResets++;
      req.socket.destroy();
      return;
    }
    if ((f.every503 && n % f.every503 === 0) || (f.rate503 && this.faultRng.next() < f.rate503)) {
      this.stats.injected503++;
      send(res, 503, { detail: "Service Unavailable (injected)" });
      return;
    }
    if (f.stall?.includes(key)) return;
    const handler = this.routes.get(key);
    if (!handler) {
      send(res, 404, { detail: "Not Found" });
      return;
    }
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        send(res, 422, { detail: "request body is not valid JSON" });
        return;
      }
    }
    try {
      send(res, 200, handler({ body, query: url.searchParams }));
    } catch (error) {
      if (error instanceof ValidationError) send(res, 422, { detail: error.message });
      else send(res, 500, { detail: error instanceof Error ? error.message : String(error) });
    }
  }
}

/**
 * The body as text, or TOO_LARGE as soon as it is known to exceed the limit
 * (from content-length, or once the bytes read pass it). The rest of an
 * oversized body is read and dropped so the 413 reaches the client before the
 * connection closes; past DRAIN_BYTES or DRAIN_MS the socket is destroyed.
 */
interface BodyBudget {
  take(bytes: number): boolean;
  give(bytes: number): void;
}

function readBody(
  req: IncomingMessage,
  limit: number,
  budget: BodyBudget,
): Promise<string | typeof TOO_LARGE | typeof BUSY> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let held = 0;
    let over = false;
    const release = () => {
      budget.give(held);
      held = 0;
    };
    const refuse = (why: typeof TOO_LARGE | typeof BUSY) => {
      over = true;
      chunks.length = 0;
      release();
      const timer = setTimeout(() => req.socket.destroy(), DRAIN_MS);
      timer.unref();
      req.once("end", () => clearTimeout(timer));
      resolve(why);
    };
    const tooLarge = () => refuse(TOO_LARGE);
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) tooLarge();
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > DRAIN_BYTES) req.socket.destroy();
        return;
      }
      if (size > limit) tooLarge();
      else if (!budget.take(c.length)) refuse(BUSY);
      else {
        held += c.length;
        chunks.push(c);
      }
    });
    req.on("end", () => {
      if (over) return;
      const text = Buffer.concat(chunks).toString("utf8");
      release();
      resolve(text);
    });
    // An aborted or timed-out request gives its bytes back.
    req.on("close", release);
    req.on("error", () => {
      release();
      resolve("");
    });
  });
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `must be a positive integer, got ${value}`);
  return v;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Field readers that fail like FastAPI's validation (422 naming the field). */
export function intField(body: unknown, field: string): number {
  const v = (body as Record<string, unknown> | undefined)?.[field];
  if (!Number.isInteger(v)) throw new ValidationError(`body.${field}: expected an integer, got ${JSON.stringify(v)}`);
  return v as number;
}

export function stringField(body: unknown, field: string): string {
  const v = (body as Record<string, unknown> | undefined)?.[field];
  if (typeof v !== "string") throw new ValidationError(`body.${field}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export function intQuery(query: URLSearchParams, field: string): number {
  const raw = query.get(field);
  const v = raw === null ? Number.NaN : Number(raw);
  if (!Number.isInteger(v))
    throw new ValidationError(`query.${field}: expected an integer, got ${JSON.stringify(raw)}`);
  return v;
}
