/**
 * Errors an environment reports. They extend core's TokenrlError so trainers can
 * switch on `code`: every one here has code "ENVIRONMENT", but for
 * EpisodeStateError (a caller's mistake, "INVALID_INPUT"). Timeouts are core's TimeoutError.
 */
import { TokenrlError } from "@tokenrl/base/errors";

/** The server answered `{"error": "..."}` (AgentGym's way of rejecting a request, usually with HTTP 200). */
export class EnvServerError extends TokenrlError {
  readonly route: string;
  readonly serverMessage: string;
  constructor(route: string, serverMessage: string) {
    super("ENVIRONMENT", `${route}: the environment server answered with an error: ${serverMessage}`);
    this.route = route;
    this.serverMessage = serverMessage;
  }
}

/** An HTTP status other than 200 that retries did not clear (or one that is never retried, like 404/422). */
export class EnvHttpError extends TokenrlError {
  readonly route: string;
  readonly status: number;
  constructor(route: string, status: number, body: string, attempts: number) {
    super(
      "ENVIRONMENT",
      `${route}: HTTP ${status} after ${attempts} attempt(s)${body ? `: ${body.slice(0, 300)}` : ""}`,
    );
    this.route = route;
    this.status = status;
  }
}

/** The server could not be reached: refused, reset, or closed mid-request, after all retries. */
export class EnvUnavailableError extends TokenrlError {
  readonly route: string;
  constructor(route: string, baseUrl: string, attempts: number, cause: unknown) {
    super(
      "ENVIRONMENT",
      `${route}: environment server at ${baseUrl} is unreachable after ${attempts} attempt(s): ${describe(cause)}`,
      { cause },
    );
    this.route = route;
  }
}

/** A response that is not what the protocol says the route returns. */
export class EnvProtocolError extends TokenrlError {
  readonly route: string;
  constructor(route: string, expected: string, got: unknown) {
    super("ENVIRONMENT", `${route}: expected ${expected}, got ${JSON.stringify(got)?.slice(0, 300)}`);
    this.route = route;
  }
}

/** `step` was called before `reset` or after `done`. */
export class EpisodeStateError extends TokenrlError {
  constructor(message: string) {
    super("INVALID_INPUT", message);
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    const code = (inner as { code?: string } | undefined)?.code ?? (cause as { code?: string }).code;
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}
