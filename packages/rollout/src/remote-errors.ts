import { TokenrlError } from "@tokenrl/core/errors";

/**
 * A remote engine request failed: an HTTP error status, a dropped connection,
 * or a malformed body. `retryable` says whether the client retried it (429,
 * 5xx, connection resets); `attempts` how many tries were made.
 */
export class RemoteEngineError extends TokenrlError {
  readonly url: string;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly retryable: boolean;
  constructor(
    url: string,
    message: string,
    details: { status?: number; attempts: number; retryable: boolean; cause?: unknown },
  ) {
    super(
      "REMOTE",
      `remote engine ${url}: ${message}${details.attempts > 1 ? ` (after ${details.attempts} attempts)` : ""}`,
      { cause: details.cause },
    );
    this.url = url;
    this.status = details.status;
    this.attempts = details.attempts;
    this.retryable = details.retryable;
  }
}

/**
 * The server answered without per-token log-probs (or token ids) that rollout
 * needs for rolloutLogProbs: the endpoint ignores `logprobs` (some Ollama and
 * llama.cpp versions), or the field has an unknown shape. Names the URL and what
 * was missing, and how to fix it.
 */
export class LogProbsUnavailableError extends TokenrlError {
  readonly url: string;
  readonly missing: string;
  constructor(url: string, missing: string, hint: string) {
    super("REMOTE", `remote engine ${url}: response has no ${missing}; ${hint}`);
    this.url = url;
    this.missing = missing;
  }
}
