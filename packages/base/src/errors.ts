/**
 * Typed errors. Every error tokenrl throws on bad input says what was wrong,
 * where, and what would be right, and carries a stable `code` that callers
 * (the trainer, the evaluator) can switch on without parsing messages.
 */
export type TokenrlErrorCode =
  | "SHAPE"
  | "DTYPE"
  | "CONFIG"
  | "UNKNOWN_NAME"
  | "DUPLICATE_NAME"
  | "NON_FINITE"
  | "BACKEND_UNAVAILABLE"
  | "TIMEOUT"
  | "INVALID_INPUT"
  /** An environment server (ALFWorld, WebShop, offline) rejected a request, was unreachable, or broke its protocol. */
  | "ENVIRONMENT"
  /** A remote inference engine (vLLM, SGLang, ...) failed or answered without what rollout needs. */
  | "REMOTE"
  /** The code sandbox could not be set up (not the program's fault). */
  | "SANDBOX"
  /** A worker thread (the training worker pool) crashed, ran out of memory or exited. */
  | "WORKER";

export class TokenrlError extends Error {
  readonly code: TokenrlErrorCode;
  constructor(code: TokenrlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A tensor or array has the wrong shape; names the field, the expected and the actual shape. */
export class ShapeError extends TokenrlError {
  readonly field: string;
  readonly expected: string;
  readonly actual: readonly number[];
  constructor(field: string, expected: string, actual: readonly number[], detail = "") {
    super("SHAPE", `${field}: expected shape ${expected}, got [${actual.join(", ")}]${detail ? ` (${detail})` : ""}`);
    this.field = field;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A tensor has the wrong dtype. */
export class DTypeError extends TokenrlError {
  readonly field: string;
  constructor(field: string, expected: string, actual: string) {
    super("DTYPE", `${field}: expected dtype ${expected}, got ${actual}`);
    this.field = field;
  }
}

/** A configuration value is missing, of the wrong type, or out of range. */
export class ConfigError extends TokenrlError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super("CONFIG", `${path}: ${message}`, options);
    this.path = path;
  }
}

/** Input that is not a tensor problem nor a config problem (a bad record, a malformed line). */
export class InvalidInputError extends TokenrlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_INPUT", message, options);
  }
}

/** A registry lookup failed; lists the names that are known. */
export class UnknownNameError extends TokenrlError {
  readonly kind: string;
  readonly requested: string;
  readonly known: readonly string[];
  constructor(kind: string, requested: string, known: readonly string[]) {
    const hint = closestName(requested, known);
    super(
      "UNKNOWN_NAME",
      `unknown ${kind} "${requested}"${hint ? ` (did you mean "${hint}"?)` : ""}; known: ${
        known.length ? known.join(", ") : "(none registered)"
      }`,
    );
    this.kind = kind;
    this.requested = requested;
    this.known = known;
  }
}

export class DuplicateNameError extends TokenrlError {
  constructor(kind: string, name: string) {
    super("DUPLICATE_NAME", `${kind} "${name}" is already registered; pass { override: true } to replace it`);
  }
}

/** A loss, reward or advantage contains NaN or Inf: reported, never trained on. */
export class NonFiniteError extends TokenrlError {
  readonly field: string;
  readonly count: number;
  constructor(field: string, count: number, total: number) {
    super("NON_FINITE", `${field}: ${count} of ${total} values are NaN or Inf`);
    this.field = field;
    this.count = count;
  }
}

export class BackendUnavailableError extends TokenrlError {
  constructor(backend: string, reason: string, options?: { cause?: unknown }) {
    super("BACKEND_UNAVAILABLE", `tensor backend "${backend}" is not available: ${reason}`, options);
  }
}

export class TimeoutError extends TokenrlError {
  readonly ms: number;
  constructor(what: string, ms: number) {
    super("TIMEOUT", `${what} timed out after ${ms} ms`);
    this.ms = ms;
  }
}

function closestName(requested: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of known) {
    const d = editDistance(requested.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(requested.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}
