import type { PolicyTokenizer } from "@tokenrl/policy";
import type { RolloutEngine } from "@tokenrl/rollout";
import { guardedVerify } from "@tokenrl/tasks";
import type { Task } from "@tokenrl/tasks";

export interface EvalResult {
  /** Held-out pass@1 with greedy decoding, as a fraction. */
  passAt1: number;
  examples: number;
  /** A few (prompt, response, answer) for the report. */
  samples: { prompt: string; response: string; answer: string; correct: boolean }[];
  /** Verifications that failed (scored as wrong), and the first one's error. */
  verifyFailures: number;
  firstVerifyError?: string;
}

/**
 * Greedy pass@1 on the first `n` examples of the task's held-out (test)
 * split, which @tokenrl/tasks keeps disjoint from the training stream.
 * Generated in chunks so that memory stays bounded.
 */
export async function evaluateHeldOut(
  engine: RolloutEngine,
  tokenizer: PolicyTokenizer,
  task: Task,
  n: number,
  options: { timeoutMs: number; chunk?: number },
): Promise<EvalResult> {
  const count = Math.min(n, task.size("test"));
  if (count === 0) return { passAt1: 0, examples: 0, samples: [], verifyFailures: 0 };
  const chunk = options.chunk ?? 64;
  let correct = 0;
  let verifyFailures = 0;
  let firstVerifyError: string | undefined;
  const samples: EvalResult["samples"] = [];
  for (let start = 0; start < count; start += chunk) {
    const examples = Array.from({ length: Math.min(chunk, count - start) }, (_, i) => task.example(start + i, "test"));
    const sequences = await engine.generate(
      examples.map((e) => tokenizer.encode(e.prompt)),
      { temperature: 0, maxTokens: task.maxResponseLength, stop: [...task.stop], includeStopStrInOutput: true },
    );
    const verdicts = await guardedVerify(
      task,
      sequences.map((s, i) => ({
        example: examples[i]!,
        response: s.text,
        responseTokens: s.responseIds.length,
        finishReason: s.finishReason,
      })),
      { timeoutMs: options.timeoutMs },
    );
    verdicts.forEach((v, i) => {
      if (v.correct) correct++;
      if (v.error) {
        verifyFailures++;
        firstVerifyError ??= v.error;
      }
      if (samples.length < 8)
        samples.push({
          prompt: examples[i]!.prompt,
          response: sequences[i]!.text,
          answer: examples[i]!.answer,
          correct: v.correct,
        });
    });
  }
  return {
    passAt1: correct / count,
    examples: count,
    samples,
    verifyFailures,
    ...(firstVerifyError !== undefined ? { firstVerifyError } : {}),
  };
}
