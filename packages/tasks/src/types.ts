/**
 * The one task interface the trainer, the evaluator and the benchmarks consume.
 *
 * A task is a seeded source of examples (train and held-out streams, disjoint by
 * construction) plus an asynchronous, batched verifier. Single-turn tasks
 * (synthetic, math JSONL, code JSONL) are verified on their response text; episode
 * tasks (ALFWorld, WebShop) also run their own multi-turn rollouts and are
 * verified on the episode's outcome.
 */

export type Split = "train" | "test";

/** One verifiable problem: a prompt and the answer a verifier checks a response against. */
export interface TaskExample {
  /** Unique within the task and split, stable across runs with the same seed (e.g. "countdown/test/17"). */
  id: string;
  /** The text the policy is given (any prompt template already applied). */
  prompt: string;
  /** The gold answer as the verifier reads it (math: LaTeX or a number; code: "" — the tests decide). */
  answer: string;
  /** A complete ground-truth response (derivation, answer and stop string) for SFT warm-start, when the task has one. */
  reference?: string;
  /** Free-form metadata: source, split, difficulty (a number, higher is harder), taskId (episodes). */
  meta?: Record<string, string | number | boolean>;
}

/** One response to verify. */
export interface VerifyRequest {
  example: TaskExample;
  /** The decoded response text (for episodes: the whole episode text). */
  response: string;
  /** Response length in tokens (needed for overlong shaping; default: the text length). */
  responseTokens?: number;
  /** Why generation stopped ("stop" | "length" | ...), when known. */
  finishReason?: string;
  /** Episode tasks: the environment's final reward for this episode. */
  episodeReward?: number;
}

/**
 * The verdict on one response. `correct` is the verifier's word (pass@k,
 * dynamic sampling and HTPO's correctness axis use it); `reward` is what the
 * trainer optimises (binary 1/0, DAPO +1/-1, plus overlong shaping). They differ.
 */
export interface TaskVerdict {
  correct: boolean;
  reward: number;
  /** What was read out of the response as the answer ("" when nothing could be). */
  extracted: string;
  /**
   * Set when this sample's verification failed (the verifier threw, timed out or
   * the sandbox broke): then `correct` is false and `reward` is 0. The trainer
   * counts these (e.g. `reward/verify_failures`); the run goes on.
   */
  error?: string;
}

/** How a verdict becomes a reward. */
export interface RewardShaping {
  /** "binary": 1 / 0 (default); "dapo": +1 / -1. */
  kind?: "binary" | "dapo";
  /** DAPO soft overlong punishment, in tokens; added to the reward of long responses. */
  overlong?: { maxLength: number; bufferLength: number; penaltyFactor?: number };
}

interface TaskBase {
  readonly name: string;
  /**
   * Every character the task's prompts, references and answers use, so a
   * character tokenizer built from it covers the task (for from-scratch policies).
   */
  readonly alphabet: string;
  /** Strings that end a response (kept in the output; the verifier expects them). Empty: end at EOS. */
  readonly stop: readonly string[];
  /** A sensible generation budget in tokens (characters for a character tokenizer). */
  readonly maxResponseLength: number;
  /** Number of examples in a split; `Infinity` for generated streams. */
  size(split: Split): number;
  /**
   * The `index`-th example of a split; the same seed and index always give the
   * same example, and no train example equals a test example.
   */
  example(index: number, split?: Split): TaskExample;
  /**
   * Verifies a batch; verdicts come back in request order. Never rejects for a
   * bad sample: a sample whose verifier throws or hangs gets a verdict with `error`.
   */
  verify(requests: readonly VerifyRequest[]): Promise<TaskVerdict[]>;
  /** Releases pools (verifier workers, sandboxes, environment servers). Idempotent. */
  close(): Promise<void>;
}

/** A task answered in one response: synthetic, math JSONL, code JSONL. */
export interface SingleTurnTask extends TaskBase {
  readonly kind: "single-turn";
}

/** What an episode task needs from the trainer to roll out episodes (a @tokenrl/rollout RolloutEngine). */
export interface EpisodeRolloutOptions {
  /** The policy's engine (with a tokenizer); `@tokenrl/rollout`'s createLocalEngine. */
  engine: import("@tokenrl/rollout").RolloutEngine;
  examples: readonly TaskExample[];
  /** Sampling of model turns (temperature, top-p, ...). */
  sampling?: import("@tokenrl/rollout").SamplingParams;
  /** Group id per example (G episodes of one task share one). */
  groupIds?: readonly number[];
}

/** A multi-turn environment task (ALFWorld, WebShop): the task runs the agent loop itself. */
export interface EpisodeTask extends TaskBase {
  readonly kind: "episode";
  /** Model turns per episode. */
  readonly maxTurns: number;
  /**
   * Runs one episode per example through rollout's agent loop. Each episode is a
   * RolloutSequence whose responseMask is 0 on environment tokens (masked out of
   * the loss); `reward` is the episode's outcome. Verify them with
   * `verify(episodes.map((e, i) => ({ example: examples[i], response: e.text,
   * responseTokens: e.responseIds.length, episodeReward: e.reward })))`.
   */
  rollout(options: EpisodeRolloutOptions): Promise<import("@tokenrl/rollout").AgentEpisode[]>;
}

export type Task = SingleTurnTask | EpisodeTask;
