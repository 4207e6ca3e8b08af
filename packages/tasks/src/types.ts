/** One verifiable problem: a prompt and the answer a verifier checks a response against. */
export interface TaskExample {
  id: string;
  prompt: string;
  answer: string;
  /** Free-form metadata (source, difficulty, split). */
  meta?: Record<string, string | number | boolean>;
}

/** A verdict on one response: `correct` is the verifier's word, `reward` what the trainer optimises. */
export interface TaskVerdict {
  correct: boolean;
  reward: number;
  /** What was read out of the response as the answer ("" when nothing could be). */
  extracted: string;
}

/** A task: a seeded source of examples plus the rule that checks responses. */
export interface Task {
  readonly name: string;
  /** Characters the task's prompts and answers use; a character tokenizer built from it covers the task. */
  readonly alphabet: string;
  /** Characters that end a response (e.g. a newline), if the task defines one. */
  readonly stop: readonly string[];
  /** Longest answer plus terminator, a sensible max-tokens for generation. */
  readonly maxResponseLength: number;
  /** The `index`-th example of a split; the same index and seed always give the same example. */
  example(index: number, split?: "train" | "test"): TaskExample;
  /** Checks a response against an example's answer. */
  verify(response: string, example: TaskExample): TaskVerdict;
}
