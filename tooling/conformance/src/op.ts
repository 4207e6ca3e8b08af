/**
 * The op-module interface. Each package the cases exercise has one module in
 * `src/ops/` that exports `ops`: a map from the case's `op` (FORMAT.md, e.g.
 * `advantage/grpo`, `loss/gspo`) to a handler that runs the case through that
 * package's PUBLIC API and returns plain numbers. The runner finds every
 * module in `ops/` by listing the folder, so adding a package's ops means
 * adding one file; nothing else changes.
 *
 *     import { checkParams, matrix, type OpModule } from "../op.js";
 *     export const ops: OpModule["ops"] = {
 *       "advantage/rloo": (c) => {
 *         checkParams(c, []);                           // throws UnknownParamError on any key
 *         const mask = matrix(c, "responseMask");       // throws MissingInputError if absent
 *         ...
 *         return { outputs: { advantages: [[...]] } };
 *       },
 *     };
 *
 * Handlers must free every tensor they make (the runner warns when the
 * engine's tensor count grows across a case) and throw, never skip, when they
 * cannot run a case.
 */
import { tf } from "@tokenrl/core";
import type { Scalar, Tensor, Tensor2D } from "@tokenrl/core";

/** What a handler sees of a case: its id, op, params and inputs, as parsed from JSON. */
export interface CaseInput {
  readonly id: string;
  readonly op: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** A scalar, a `[B]` vector or a `[B][T]` matrix. */
export type OutputValue = number | number[] | number[][];

export interface OpResult {
  /** Named like the case's `expected` fields (`advantages`, `returns`, `value`, `kl`, `loss`, `gradLogProbs`). */
  outputs: Record<string, OutputValue>;
  /** Metrics the implementation reports, under FORMAT.md's names; the runner compares those the case expects. */
  metrics?: Record<string, number>;
}

export type OpHandler = (c: CaseInput) => OpResult | Promise<OpResult>;

/** The shape of every module in `src/ops/`: the map, or a function the loader calls once to build it. */
export interface OpModule {
  ops: Record<string, OpHandler> | (() => Record<string, OpHandler>);
}

export type ConformanceErrorCode =
  | "UNKNOWN_OP"
  | "UNKNOWN_PARAM"
  | "BAD_PARAM"
  | "MISSING_INPUT"
  | "BAD_INPUT"
  | "BAD_CASE";

/** A case the runner cannot run. Always a failure, never a skip. */
export class ConformanceError extends Error {
  readonly code: ConformanceErrorCode;
  constructor(code: ConformanceErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

export class UnknownOpError extends ConformanceError {
  readonly op: string;
  constructor(op: string, known: readonly string[], detail = "") {
    super("UNKNOWN_OP", `unknown op "${op}"${detail}; known: ${known.length ? known.join(", ") : "(none loaded)"}`);
    this.op = op;
  }
}

export class UnknownParamError extends ConformanceError {
  readonly param: string;
  constructor(op: string, param: string, known: readonly string[]) {
    super(
      "UNKNOWN_PARAM",
      `params.${param}: unknown parameter for ${op}; it takes ${known.length ? known.join(", ") : "no parameters"}`,
    );
    this.param = param;
  }
}

export class BadParamError extends ConformanceError {
  readonly param: string;
  constructor(param: string, message: string) {
    super("BAD_PARAM", `params.${param}: ${message}`);
    this.param = param;
  }
}

export class MissingInputError extends ConformanceError {
  readonly input: string;
  constructor(op: string, input: string) {
    super("MISSING_INPUT", `inputs.${input}: missing; ${op} needs it`);
    this.input = input;
  }
}

export class BadInputError extends ConformanceError {
  readonly input: string;
  constructor(input: string, message: string) {
    super("BAD_INPUT", `inputs.${input}: ${message}`);
    this.input = input;
  }
}

/** Throws UnknownParamError for the first key of `c.params` not in `known`. */
export function checkParams(c: CaseInput, known: readonly string[]): void {
  for (const key of Object.keys(c.params)) {
    if (!known.includes(key)) throw new UnknownParamError(c.op, key, known);
  }
}

/** A required `[B][T]` numeric input. */
export function matrix(c: CaseInput, name: string): number[][] {
  const value = c.inputs[name];
  if (value === undefined) throw new MissingInputError(c.op, name);
  if (!Array.isArray(value) || value.length === 0 || !value.every(Array.isArray)) {
    throw new BadInputError(name, "expected a non-empty [B][T] array of arrays");
  }
  const width = (value[0] as unknown[]).length;
  value.forEach((row: unknown[], i) => {
    if (row.length !== width) throw new BadInputError(name, `row ${i} has ${row.length} entries, row 0 has ${width}`);
    row.forEach((v, t) => {
      if (typeof v !== "number")
        throw new BadInputError(name, `[${i}][${t}] is ${JSON.stringify(v)}, expected a number`);
    });
  });
  return value as number[][];
}

/** A required `[B]` numeric input. */
export function vector(c: CaseInput, name: string): number[] {
  const value = c.inputs[name];
  if (value === undefined) throw new MissingInputError(c.op, name);
  if (!Array.isArray(value)) throw new BadInputError(name, "expected a [B] array of numbers");
  value.forEach((v, i) => {
    if (typeof v !== "number") throw new BadInputError(name, `[${i}] is ${JSON.stringify(v)}, expected a number`);
  });
  return value as number[];
}

/** An optional number param; `null` is returned as null only when `nullable`. */
export function numberParam(c: CaseInput, name: string, fallback: number): number;
export function numberParam(c: CaseInput, name: string, fallback: number | null, nullable: true): number | null;
export function numberParam(c: CaseInput, name: string, fallback: number | null, nullable = false): number | null {
  const v = c.params[name];
  if (v === undefined) return fallback;
  if (v === null && nullable) return null;
  if (typeof v !== "number" || Number.isNaN(v)) {
    throw new BadParamError(name, `expected a number${nullable ? " or null" : ""}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function booleanParam(c: CaseInput, name: string, fallback: boolean): boolean {
  const v = c.params[name];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw new BadParamError(name, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function stringParam<S extends string>(c: CaseInput, name: string, allowed: readonly S[], fallback: S): S {
  const v = c.params[name];
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new BadParamError(name, `expected one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
  }
  return v as S;
}

/** Reads a tensor back as a plain number, vector or matrix. Does not dispose it. */
export function toPlain(t: Tensor): OutputValue {
  if (t.rank > 2) throw new Error(`an op output must be a scalar, vector or matrix, got shape [${t.shape.join(", ")}]`);
  return t.arraySync() as OutputValue;
}

/**
 * For `loss/*` ops: the loss and d loss / d logProbs by tfjs autograd, with
 * every other input held constant (they are closed over by `loss`, not
 * differentiated). `loss` must return a scalar; its tensors are freed.
 */
export function lossAndGradLogProbs(
  logProbs: number[][],
  loss: (logProbs: Tensor2D) => Scalar,
): { loss: number; gradLogProbs: number[][] } {
  const x = tf.tensor2d(logProbs, undefined, "float32");
  try {
    const { value, grads } = tf.valueAndGrads((lp: Tensor) => loss(lp as Tensor2D))([x]);
    const result = { loss: value.dataSync()[0]!, gradLogProbs: grads[0]!.arraySync() as number[][] };
    tf.dispose([value, ...grads]);
    return result;
  } finally {
    x.dispose();
  }
}
