import type { PolicyTokenizer } from "@tokenrl/policy";
import type { RolloutEngine } from "@tokenrl/rollout";
import type { Task } from "@tokenrl/tasks";

export interface EvalResult {
  /** Fraction of held-out examples answered correctly with greedy decoding. */
  accuracy: number;
  examples: number;
  /** A few (prompt, response, answer) triples for the report. */
  samples: { prompt: string; response: string; answer: string; correct: boolean }[];
}

/** Greedy accuracy on the first `n` examples of the task's test split. */
export async function evaluateGreedy(
  engine: RolloutEngine,
  tokenizer: PolicyTokenizer,
  task: Task,
  n: number,
): Promise<EvalResult> {
  if (n === 0) return { accuracy: 0, examples: 0, samples: [] };
  const examples = Array.from({ length: n }, (_, i) => task.example(i, "test"));
  const sequences = await engine.generate(
    examples.map((e) => tokenizer.encode(e.prompt)),
    { temperature: 0, maxTokens: task.maxResponseLength, stop: [...task.stop], includeStopStrInOutput: true },
  );
  let correct = 0;
  const samples: EvalResult["samples"] = [];
  sequences.forEach((s, i) => {
    const ex = examples[i]!;
    const verdict = task.verify(s.text, ex);
    if (verdict.correct) correct++;
    if (samples.length < 8)
      samples.push({ prompt: ex.prompt, response: s.text, answer: ex.answer, correct: verdict.correct });
  });
  return { accuracy: correct / n, examples: n, samples };
}
