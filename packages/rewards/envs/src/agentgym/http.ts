/**
 * JSON over HTTP to an AgentGym environment server, with the failure handling
 * these servers need: 503 (the server is busy) and dropped connections are
 * retried with exponential back-off; every request has a timeout; a body of
 * the form `{"error": "..."}` (which AgentGym sends with HTTP 200) becomes an
 * EnvServerError naming the route.
 *
 * Retrying a dropped POST /step can apply the step twice if the server had
 * already applied it before the connection died; AgentGym servers give no way
 * to tell, so a caller that cannot accept that sets `retries: 0`.
 */
import { ConfigError, TimeoutError } from "@tokenrl/base/errors";
import { EnvHttpError, EnvServerError, EnvUnavailableError } from "../errors.js";

export interface HttpOptions {
  /** e.g. "http://127.0.0.1:36001" */
  readonly baseUrl: string;
  /** Per-request timeout. Default 30000 ms (ALFWorld resets can take seconds). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt, for 503 and connection failures. Default 4. */
  readonly retries?: number;
  /** First back-off delay; doubles each retry. Default 200 ms. */
  readonly backoffMs?: number;
  /** Cap on one back-off delay. Default 5000 ms. */
  readonly maxBackoffMs?: number;
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

export class JsonHttp {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    // Timers cannot hold more than 2^31 - 1 ms: a larger delay fires at once.
    checkInt("timeoutMs", this.timeoutMs, 1, MAX_TIMER_MS);
    checkInt("retries", this.retries, 0, 100);
    checkInt("backoffMs", this.backoffMs, 0, MAX_TIMER_MS);
    checkInt("maxBackoffMs", this.maxBackoffMs, 0, MAX_TIMER_MS);
  }

  get(path: string, query: Record<string, string | number> = {}): Promise<unknown> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return this.request("GET", qs ? `${path}?${qs}` : path, undefined, this.retries);
  }

  /** `retries` overrides the client's setting for this request (a best-effort close uses 0). */
  post(path: string, body?: unknown, options: { retries?: number } = {}): Promise<unknown> {
    return this.request("POST", path, body, options.retries ?? this.retries);
  }

  private async request(method: "GET" | "POST", path: string, body: unknown, retries: number): Promise<unknown> {
    const route = `${method} ${path.split("?")[0]}`;
    let lastStatus = 0;
    let lastBody = "";
    let lastError: unknown;
    const attempts = retries + 1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1)));
      let response: Response;
      let text: string;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: body === undefined ? {} : { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        if (isTimeout(error)) throw new TimeoutError(`${route} to ${this.baseUrl}`, this.timeoutMs);
        if (!isConnectionFailure(error)) throw new EnvUnavailableError(route, this.baseUrl, attempt + 1, error);
        lastError = error;
        lastStatus = 0;
        continue;
      }
      if (response.status === 503) {
        lastStatus = 503;
        lastBody = text;
        continue;
      }
      if (response.status !== 200) throw new EnvHttpError(route, response.status, text, attempt + 1);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new EnvHttpError(route, response.status, `response is not JSON: ${text}`, attempt + 1);
      }
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && "error" in parsed) {
        throw new EnvServerError(route, String((parsed as { error: unknown }).error));
      }
      return parsed;
    }
    if (lastStatus === 503) throw new EnvHttpError(route, 503, lastBody, attempts);
    throw new EnvUnavailableError(route, this.baseUrl, attempts, lastError);
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new ConfigError(name, `must be an integer from ${lo} to ${hi}, got ${v}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === "TimeoutError" || name === "AbortError";
}

function isConnectionFailure(error: unknown): boolean {
  // undici reports "fetch failed" with the socket error as `cause`; body reads
  // that die mid-way throw the socket error itself.
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: string }).code;
    if (code && RETRYABLE_CODES.has(code)) return true;
    if (e instanceof Error && /other side closed|socket hang up|terminated/i.test(e.message)) return true;
  }
  return false;
}
