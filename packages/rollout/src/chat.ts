/**
 * How a conversation becomes text for the policy. Segments are rendered and
 * tokenized separately (the prompt, then each environment turn), and the
 * model's own turns are kept as the exact tokens it sampled: token-in,
 * token-out, so the trained tokens are the sampled ones.
 */
export interface ChatTemplate {
  /** A user (environment) message, complete with its end marker. */
  user(content: string): string;
  /** An assistant message given as text (the preamble's acknowledgement), complete. */
  assistant(content: string): string;
  /** Opens the model's turn (Hugging Face's add_generation_prompt). */
  readonly generationPrompt: string;
  /** Closes the model's sampled turn before the next user message (e.g. "\n" after `<|im_end|>`); masked out. */
  readonly afterTurn: string;
  /** Strings that end a model turn besides EOS (e.g. "<|im_end|>" when it is not a single token). */
  readonly stop: readonly string[];
}

/** Qwen / ChatML: `<|im_start|>role\n...<|im_end|>\n`. */
export const CHATML_TEMPLATE: ChatTemplate = {
  user: (c) => `<|im_start|>user\n${c}<|im_end|>\n`,
  assistant: (c) => `<|im_start|>assistant\n${c}<|im_end|>\n`,
  generationPrompt: "<|im_start|>assistant\n",
  afterTurn: "\n",
  stop: ["<|im_end|>"],
};

/** Plain text for character-level and base models: `User: ...\nAssistant: ...\n`, a turn ending at a newline. */
export const PLAIN_TEMPLATE: ChatTemplate = {
  user: (c) => `User: ${c}\n`,
  assistant: (c) => `Assistant: ${c}\n`,
  generationPrompt: "Assistant: ",
  afterTurn: "\n",
  stop: ["\n"],
};
