/** One benchmark problem: `{id, problem, answer}` JSONL rows map onto this. */
export interface EvalProblem {
  id: string;
  /** The problem statement, before the prompt template. */
  problem: string;
  /** The gold answer the verifier checks against. */
  answer: string;
  meta?: Record<string, unknown>;
}

export type FinishReason = "stop" | "length";

/** One response from an engine. */
export interface GeneratedSample {
  text: string;
  finishReason: FinishReason;
  /** Response length in tokens, when the engine says. */
  tokens?: number;
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
}

/** Checks responses against their problems' answers; batched so a worker pool can run them in parallel. */
export interface Verifier {
  verify(items: readonly { problem: EvalProblem; response: string }[]): Promise<Verdict[]>;
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
}

/** Where per-sample results go, so an interrupted evaluation resumes without generating them again. */
export interface SampleStore {
  load(): Promise<SampleRecord[]>;
  append(records: readonly SampleRecord[]): Promise<void>;
}
