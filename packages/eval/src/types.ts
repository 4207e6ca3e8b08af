/** One benchmark problem: `{id, problem, answer}` JSONL rows map onto this. */
export interface EvalProblem {
  id: string;
  /** The problem statement, before the prompt template. */
  problem: string;
  /** The gold answer the verifier checks against. */
  answer: string;
  meta?: Record<string, unknown>;
}

/** Why generation stopped: "stop" (EOS or a stop string) or "length" (the token budget); engines may add their own (rollout's "done"). */
export type FinishReason = string;

/** One response from an engine. */
export interface GeneratedSample {
  text: string;
  finishReason: FinishReason;
  /** Response length in tokens, when the engine says. */
  tokens?: number;
  /** An environment's outcome for an agent episode (ALFWorld, WebShop), which its verifier reads. */
  episodeReward?: number;
}

/**
 * What eval samples with: `n` responses to one problem, reproducible from
 * `seed`. See `tokenEngineSource`, `completionsSource` and `chatSource` for
 * the local-policy and OpenAI-compatible adapters.
 */
export interface SampleSource {
  sample(problem: EvalProblem, n: number, seed: number): Promise<GeneratedSample[]>;
}

export interface Verdict {
  correct: boolean;
  /** The answer read out of the response ("" when none), the key of the majority vote. */
  extracted: string;
  /** Set when the verifier failed on this sample (timeout, crash); `correct` is then false. */
  error?: string;
}

/** One response to check, with what the engine said about it. */
export interface VerifyItem {
  problem: EvalProblem;
  response: string;
  responseTokens?: number;
  finishReason?: FinishReason;
  episodeReward?: number;
}

/** Checks responses against their problems' answers; batched so a worker pool can run them in parallel. */
export interface Verifier {
  verify(items: readonly VerifyItem[]): Promise<Verdict[]>;
}

/** One line of samples.jsonl. */
export interface SampleRecord {
  problemId: string;
  /** Index of the sample within its problem, 0..n-1. */
  sample: number;
  /** The seed of the problem's request (all n samples of a problem share it). */
  seed: number;
  response: string;
  extracted: string;
  correct: boolean;
  finishReason: FinishReason;
  responseTokens?: number;
  episodeReward?: number;
  /** The verifier's failure on this sample, if any (the sample counts as wrong). */
  verifyError?: string;
}

/** Where per-sample results go, so an interrupted evaluation resumes without generating them again. */
export interface SampleStore {
  load(): Promise<SampleRecord[]>;
  append(records: readonly SampleRecord[]): Promise<void>;
}
