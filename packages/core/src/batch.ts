import { DTypeError, InvalidInputError, ShapeError } from "@tokenrl/base/errors";
import { tf } from "./tf.js";
import type { Tensor, Tensor1D, Tensor2D } from "./tf.js";

/**
 * The one batch type that travels through a training step. Each stage adds
 * fields (rollout: ids, masks, rolloutLogProbs; rewards: tokenRewards, correct;
 * advantages; the policy: logProbs, entropy); none copies the batch.
 *
 * Shapes: B responses of up to T response tokens, P prompt tokens.
 */
export interface TrainingBatch {
  /** Prompt token ids, left-padded, `[B, P]` int32. */
  promptIds?: Tensor2D;
  /** 1 on real prompt tokens, `[B, P]` float32. */
  promptMask?: Tensor2D;
  /** Response token ids, right-padded, `[B, T]` int32. */
  responseIds?: Tensor2D;
  /** 1 on response tokens that are trained on, 0 on padding and environment tokens, `[B, T]` float32. */
  responseMask: Tensor2D;
  /** Current policy's log-prob of each response token, `[B, T]` float32 (carries gradient in a loss). */
  logProbs?: Tensor2D;
  /** Log-probs under the policy frozen for this step, `[B, T]`. */
  oldLogProbs?: Tensor2D;
  /** Log-probs the sampler reported when generating (the rollout policy mu), `[B, T]`. */
  rolloutLogProbs?: Tensor2D;
  /** Log-probs under the reference policy for KL, `[B, T]`. */
  refLogProbs?: Tensor2D;
  /** Token entropy of the current policy, `[B, T]`. */
  entropy?: Tensor2D;
  /** Reward placed on tokens (outcome rewards on the last valid token), `[B, T]`. */
  tokenRewards?: Tensor2D;
  /** Value-model estimates for GAE, `[B, T]`. */
  values?: Tensor2D;
  /** Per-token advantages, `[B, T]`. */
  advantages?: Tensor2D;
  /** Per-token returns (GAE / REINFORCE++), `[B, T]`. */
  returns?: Tensor2D;
  /** Group (prompt) index of each response, `[B]` int32. */
  groupIds?: Tensor1D;
  /** The verifier's verdict per response (1 correct, 0 wrong), `[B]` float32; separate from the shaped reward. */
  correct?: Tensor1D;
  /**
   * What the rollout already knows on the host, beside the tensors, so that no
   * stage reads a tensor back to upload it again (see `HostBatchInfo`).
   */
  host?: HostBatchInfo;
}

/**
 * Per-response data the rollout has on the host before it builds the tensors
 * (verdicts, rewards, group ids, lengths), carried beside the batch. Each
 * array has one entry per row and holds exactly the values of the tensor it
 * mirrors (float32 where the tensor is float32), so a stage that reads it
 * computes the same numbers as one that reads the tensor. Advantage
 * estimators read `rewards`, `groupIds` and `lengths`; the HTPO partition
 * reads `correct` and `groupIds`. Every field is optional: a stage falls back
 * to the tensor when its field is absent.
 */
export interface HostBatchInfo {
  /** `[B]` verdicts, 1 correct / 0 wrong: the values of `batch.correct`. */
  correct?: Float32Array;
  /** `[B]` group (prompt) ids: the values of `batch.groupIds`. */
  groupIds?: Int32Array;
  /** `[B]` sequence scores `s_i = sum_t tokenRewards[i][t]` (the outcome reward), as float32. */
  rewards?: Float32Array;
  /** `[B]` trained-on tokens per response: the row sums of `responseMask`. */
  lengths?: Int32Array;
}

/** The tensor fields of a batch (everything but `host`). */
export type BatchField = Exclude<keyof TrainingBatch, "host">;

const HOST_FIELDS = ["correct", "groupIds", "rewards", "lengths"] as const satisfies readonly (keyof HostBatchInfo)[];

const MATRIX_FIELDS = [
  "responseIds",
  "responseMask",
  "logProbs",
  "oldLogProbs",
  "rolloutLogProbs",
  "refLogProbs",
  "entropy",
  "tokenRewards",
  "values",
  "advantages",
  "returns",
] as const satisfies readonly BatchField[];
const VECTOR_FIELDS = ["groupIds", "correct"] as const satisfies readonly BatchField[];
const INT_FIELDS = new Set<BatchField>(["responseIds", "promptIds", "groupIds"]);

/** Whether a batch field is one value per response (`[B]`: groupIds, correct) rather than `[B, T]`. */
export function isVectorField(field: string): boolean {
  return (VECTOR_FIELDS as readonly string[]).includes(field);
}

/**
 * Checks that every present field (and every `required` one) has the shape of
 * `responseMask` (`[B, T]`) or `[B]`, and the right dtype. Throws a ShapeError or
 * DTypeError naming the first bad field. Returns `{ B, T }`.
 */
export function validateBatch(batch: TrainingBatch, required: readonly BatchField[] = []): { B: number; T: number } {
  const mask = batch.responseMask;
  if (!mask) throw new ShapeError("responseMask", "[B, T]", [], "missing");
  if (mask.rank !== 2) throw new ShapeError("responseMask", "[B, T]", mask.shape);
  const [B, T] = mask.shape as [number, number];
  for (const field of required) {
    if (batch[field] === undefined) throw new ShapeError(field, expectedShape(field, B, T), [], "required but missing");
  }
  for (const field of MATRIX_FIELDS) {
    const t = batch[field] as Tensor | undefined;
    if (t === undefined) continue;
    if (t.rank !== 2 || t.shape[0] !== B || t.shape[1] !== T)
      throw new ShapeError(field, `[${B}, ${T}] (as responseMask)`, t.shape);
    checkDtype(field, t);
  }
  for (const field of VECTOR_FIELDS) {
    const t = batch[field] as Tensor | undefined;
    if (t === undefined) continue;
    if (t.rank !== 1 || t.shape[0] !== B) throw new ShapeError(field, `[${B}] (one per response)`, t.shape);
    checkDtype(field, t);
  }
  if (batch.promptIds && (batch.promptIds.rank !== 2 || batch.promptIds.shape[0] !== B)) {
    throw new ShapeError("promptIds", `[${B}, P]`, batch.promptIds.shape);
  }
  if (batch.promptMask && batch.promptIds && !shapesEqual(batch.promptMask.shape, batch.promptIds.shape)) {
    throw new ShapeError("promptMask", `[${batch.promptIds.shape.join(", ")}] (as promptIds)`, batch.promptMask.shape);
  }
  if (batch.host !== undefined) validateHostInfo(batch.host, B, T);
  return { B, T };
}

/** Checks that every present host array has one entry per row (and lengths fit in T). */
export function validateHostInfo(host: HostBatchInfo, B: number, T: number): void {
  if (host === null || typeof host !== "object") {
    throw new InvalidInputError(`host: expected an object of per-row arrays, got ${String(host)}`);
  }
  for (const field of HOST_FIELDS) {
    const a = host[field];
    if (a === undefined) continue;
    if (!ArrayBuffer.isView(a) || (a as ArrayLike<number>).length !== B) {
      throw new ShapeError(`host.${field}`, `[${B}] (one per response)`, [(a as ArrayLike<number>)?.length ?? 0]);
    }
  }
  if (host.lengths) {
    for (let i = 0; i < B; i++) {
      const n = host.lengths[i]!;
      if (!(n >= 0 && n <= T)) {
        throw new InvalidInputError(`host.lengths[${i}]: expected a token count in [0, ${T}], got ${n}`);
      }
    }
  }
}

/** The host info of rows `rows` (in that order), for a batch sliced the same way. */
export function sliceHostInfo(host: HostBatchInfo, rows: readonly number[]): HostBatchInfo {
  const out: HostBatchInfo = {};
  if (host.correct) out.correct = Float32Array.from(rows, (r) => host.correct![r]!);
  if (host.groupIds) out.groupIds = Int32Array.from(rows, (r) => host.groupIds![r]!);
  if (host.rewards) out.rewards = Float32Array.from(rows, (r) => host.rewards![r]!);
  if (host.lengths) out.lengths = Int32Array.from(rows, (r) => host.lengths![r]!);
  return out;
}

function expectedShape(field: BatchField, B: number, T: number): string {
  if ((VECTOR_FIELDS as readonly string[]).includes(field)) return `[${B}]`;
  if (field === "promptIds" || field === "promptMask") return `[${B}, P]`;
  return `[${B}, ${T}]`;
}

function checkDtype(field: BatchField, t: Tensor): void {
  if (INT_FIELDS.has(field)) {
    if (t.dtype !== "int32") throw new DTypeError(field, "int32", t.dtype);
  } else if (t.dtype !== "float32") {
    throw new DTypeError(field, "float32", t.dtype);
  }
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Plain-array form of a batch, as JSON files, fixtures and remote engines carry it. */
export type BatchArrays = { [K in BatchField]?: number[] | number[][] };

/**
 * Builds a TrainingBatch from nested arrays (e.g. a JSON fixture), with the
 * right dtype per field, and validates it. The caller owns the tensors
 * (`disposeBatch` frees them).
 */
export function batchFromArrays(arrays: BatchArrays & { responseMask: number[][] }): TrainingBatch {
  const batch: Partial<Record<BatchField, Tensor>> = {};
  try {
    for (const [key, value] of Object.entries(arrays)) {
      if (value === undefined) continue;
      const field = key as BatchField;
      const dtype = INT_FIELDS.has(field) ? "int32" : "float32";
      batch[field] = tf.tensor(value as number[], undefined, dtype);
    }
    validateBatch(batch as unknown as TrainingBatch);
  } catch (err) {
    tf.dispose(Object.values(batch));
    throw err;
  }
  return batch as unknown as TrainingBatch;
}

/** Disposes every tensor in the batch. */
export function disposeBatch(batch: Partial<TrainingBatch>): void {
  tf.dispose((Object.values(batch) as unknown[]).filter((v): v is Tensor => v instanceof tf.Tensor));
}
