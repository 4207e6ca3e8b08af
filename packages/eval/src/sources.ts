import type { EvalProblem, FinishReason, GeneratedSample, SampleSource } from "./types.js";

/** Sampling settings sent to every engine, named as in rollout's SamplingParams. */
export interface EvalSampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stop?: string[];
}

/** A rollout-style engine: token-id prompts in, sequences out (`@tokenrl/rollout`'s RolloutEngine fits). */
export interface TokenEngine {
  generate(
    prompts: readonly (readonly number[])[],
    params?: EvalSampling & { seed?: number },
  ): Promise<{ text?: string; responseIds: readonly number[]; finishReason: FinishReason }[]>;
}

/**
 * Samples from an in-process engine: the problem's prompt text (`render`, e.g.
 * template then chat template) is encoded once and repeated n times in one
 * batch with the problem's seed, so row i draws from the seed's i-th stream,
 * exactly as a tokenrl server answering one request with `n` and `seed` does.
 */
export function tokenEngineSource(options: {
  engine: TokenEngine;
  encode: (text: string) => number[];
  render: (problem: EvalProblem) => string;
  sampling?: EvalSampling;
}): SampleSource {
  return {
    async sample(problem, n, seed) {
      const ids = options.encode(options.render(problem));
      const rows = Array.from({ length: n }, () => ids);
      const out = await options.engine.generate(rows, { ...options.sampling, seed });
      return out.map((s) => ({ text: s.text ?? "", finishReason: s.finishReason, tokens: s.responseIds.length }));
    },
  };
}

/** The completions/chat calls of an OpenAI-compatible client (`@tokenrl/rollout`'s RemoteEngine fits). */
export interface CompletionClient {
  complete(
    prompt: string,
    params: EvalSampling & { n: number; seed: number },
  ): Promise<{ text: string; finishReason: FinishReason; tokens?: readonly unknown[] }[]>;
  chat(
    messages: { role: "system" | "user" | "assistant"; content: string }[],
    params: EvalSampling & { n: number; seed: number },
  ): Promise<{ text: string; finishReason: FinishReason; tokens?: readonly unknown[] }[]>;
}

function toSamples(
  choices: { text: string; finishReason: FinishReason; tokens?: readonly unknown[] }[],
): GeneratedSample[] {
  return choices.map((c) => ({
    text: c.text,
    finishReason: c.finishReason,
    ...(c.tokens?.length ? { tokens: c.tokens.length } : {}),
  }));
}

/** One /v1/completions request per problem with `n` and the problem's seed; `render` builds the prompt text. */
export function completionsSource(options: {
  client: CompletionClient;
  render: (problem: EvalProblem) => string;
  sampling?: EvalSampling;
}): SampleSource {
  return {
    async sample(problem, n, seed) {
      return toSamples(await options.client.complete(options.render(problem), { ...options.sampling, n, seed }));
    },
  };
}

/** One /v1/chat/completions request per problem (the server applies its chat template), with an optional system message. */
export function chatSource(options: {
  client: CompletionClient;
  render: (problem: EvalProblem) => string;
  system?: string;
  sampling?: EvalSampling;
}): SampleSource {
  return {
    async sample(problem, n, seed) {
      const messages = [
        ...(options.system ? [{ role: "system" as const, content: options.system }] : []),
        { role: "user" as const, content: options.render(problem) },
      ];
      return toSamples(await options.client.chat(messages, { ...options.sampling, n, seed }));
    },
  };
}
