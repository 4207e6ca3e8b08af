import { ConfigError } from "@tokenrl/base/errors";
import { binaryReward, dapoReward, overlongPenalty } from "@tokenrl/reward-math";
import type { RewardShaping, Task, TaskVerdict, VerifyRequest } from "./types.js";

/** Default per-sample verification deadline (ms) of guarded verifiers. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 10_000;

export function checkShaping(
  shaping: RewardShaping | undefined,
): Required<Pick<RewardShaping, "kind">> & RewardShaping {
  const kind = shaping?.kind ?? "binary";
  if (kind !== "binary" && kind !== "dapo")
    throw new ConfigError("reward.kind", `must be "binary" or "dapo", got "${String(kind)}"`);
  const o = shaping?.overlong;
  if (o) {
    if (!Number.isFinite(o.maxLength) || o.maxLength <= 0)
      throw new ConfigError("reward.overlong.maxLength", `must be > 0, got ${o.maxLength}`);
    if (!Number.isFinite(o.bufferLength) || o.bufferLength <= 0 || o.bufferLength > o.maxLength)
      throw new ConfigError(
        "reward.overlong.bufferLength",
        `must be in (0, maxLength=${o.maxLength}], got ${o.bufferLength}`,
      );
  }
  return { ...shaping, kind };
}

/** The reward of a verdict under a shaping: binary 1/0, or DAPO +1/-1 plus the soft overlong penalty. */
export function shapeReward(correct: boolean, responseTokens: number, shaping: RewardShaping): number {
  const base = (shaping.kind ?? "binary") === "dapo" ? dapoReward(correct).reward : binaryReward(correct);
  return shaping.overlong ? base + overlongPenalty(responseTokens, shaping.overlong) : base;
}

/** A verdict for a sample whose verification failed: never correct, reward 0. */
export function failedVerdict(error: string): TaskVerdict {
  return { correct: false, reward: 0, extracted: "", error };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Resolves with `fallback(timeout)` when `promise` takes longer than `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(onTimeout()), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Runs a per-sample verifier on every request; a sample whose verifier throws,
 * rejects or runs past `timeoutMs` gets a failed verdict, and the others are
 * unaffected. Verdicts in request order.
 */
export function verifyEach(
  requests: readonly VerifyRequest[],
  verifyOne: (request: VerifyRequest) => Promise<TaskVerdict> | TaskVerdict,
  timeoutMs = DEFAULT_VERIFY_TIMEOUT_MS,
): Promise<TaskVerdict[]> {
  return Promise.all(
    requests.map(async (request) => {
      try {
        return await withDeadline(
          Promise.resolve().then(() => verifyOne(request)),
          timeoutMs,
          () => failedVerdict(`verifier timed out after ${timeoutMs} ms`),
        );
      } catch (err) {
        return failedVerdict(`verifier threw: ${describe(err)}`);
      }
    }),
  );
}

/**
 * Calls `task.verify` with a deadline, for tasks the trainer did not build (a
 * user's): if the whole call rejects or hangs, or returns the wrong number of
 * verdicts, every sample of the batch gets a failed verdict; the run goes on.
 */
export async function guardedVerify(
  task: Pick<Task, "verify" | "name">,
  requests: readonly VerifyRequest[],
  options: { timeoutMs?: number } = {},
): Promise<TaskVerdict[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  const failAll = (why: string) => requests.map(() => failedVerdict(why));
  try {
    const verdicts = await withDeadline(
      Promise.resolve().then(() => task.verify(requests)),
      timeoutMs,
      () => failAll(`${task.name}: verify timed out after ${timeoutMs} ms`),
    );
    if (!Array.isArray(verdicts) || verdicts.length !== requests.length)
      return failAll(
        `${task.name}: verify returned ${Array.isArray(verdicts) ? verdicts.length : typeof verdicts} verdicts for ${requests.length} requests`,
      );
    return verdicts.map((v) =>
      v && typeof v.correct === "boolean" && Number.isFinite(v.reward)
        ? v
        : failedVerdict(`${task.name}: malformed verdict ${JSON.stringify(v)}`),
    );
  } catch (err) {
    return failAll(`${task.name}: verify threw: ${describe(err)}`);
  }
}

/** Response length in tokens for shaping: the count the trainer gave, else the text length. */
export function tokensOf(request: VerifyRequest): number {
  return request.responseTokens ?? [...request.response].length;
}

/** The overlong penalty alone (0 without overlong shaping). */
export function overlongOnly(responseTokens: number, shaping: RewardShaping): number {
  return shaping.overlong ? overlongPenalty(responseTokens, shaping.overlong) : 0;
}
