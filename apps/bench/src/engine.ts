import { ConfigError } from "@tokenrl/base/errors";
import { initBackend } from "@tokenrl/core";
import { type EvalSampling, type SampleSource, chatSource, completionsSource, tokenEngineSource } from "@tokenrl/eval";
import { type ChatTemplateRenderer, type LoadedPolicy, loadChatTemplate, loadPolicy } from "@tokenrl/policy";
import { createLocalEngine, createRemoteEngine } from "@tokenrl/rollout";
import type { Benchmark } from "./benchmark.js";

export type Api = "completions" | "chat";

export interface ModelSpec {
  /** A local Hugging Face checkpoint directory. */
  dir?: string;
  /** An OpenAI-compatible server (with `model`). */
  baseUrl?: string;
  model?: string;
  api?: Api;
  apiKey?: string;
  /** Render prompts with the checkpoint's chat template (local) when it has one. Default true. */
  chatTemplate?: boolean;
}

export interface ModelSource {
  /** How results name the model: the checkpoint dir or "model@baseUrl". */
  name: string;
  source: SampleSource;
  /** Whether prompts go through a chat template (for the settings record). */
  chat: boolean;
  close(): Promise<void>;
}

/** The local checkpoint, loaded once, with its chat template (undefined when it has none or it is turned off). */
export async function loadLocal(
  dir: string,
  useChatTemplate = true,
): Promise<{ policy: LoadedPolicy; chat: ChatTemplateRenderer | undefined }> {
  await initBackend();
  const policy = await loadPolicy(dir);
  const chat = useChatTemplate ? await loadChatTemplate(dir) : undefined;
  return { policy, chat };
}

/**
 * Agent episodes as samples: the n samples of a problem are n episodes of its
 * environment, run by the task's agent loop (rollout's multi-turn loop, the
 * environment's tokens masked) with an engine seeded by the problem's seed;
 * each sample carries the episode's reward for the task's verifier.
 */
export async function openEpisodeModel(
  dir: string,
  episodes: NonNullable<Benchmark["episodes"]>,
  sampling: EvalSampling,
): Promise<ModelSource> {
  const { policy } = await loadLocal(dir, false);
  return {
    name: dir,
    chat: false,
    source: {
      async sample(problem, n, seed) {
        const engine = createLocalEngine({ model: policy.model, tokenizer: policy.tokenizer, seed });
        const example = episodes.example(problem.id);
        const eps = await episodes.task.rollout({
          engine,
          examples: Array.from({ length: n }, () => example),
          sampling: { temperature: sampling.temperature ?? 1, topP: sampling.topP ?? 1 },
        });
        return eps.map((e) => ({
          text: e.text ?? "",
          finishReason: e.finishReason,
          tokens: e.responseIds.length,
          episodeReward: e.reward,
        }));
      },
    },
    close: async () => policy.model.dispose(),
  };
}

/** A SampleSource for `--model DIR` or `--base-url URL --model NAME --api completions|chat`. */
export async function openModel(spec: ModelSpec, sampling: EvalSampling): Promise<ModelSource> {
  if (spec.baseUrl) {
    if (!spec.model) throw new ConfigError("--model", "name the served model with --model when using --base-url");
    const remote = createRemoteEngine({
      baseUrls: [spec.baseUrl],
      model: spec.model,
      ...(spec.apiKey ? { apiKey: spec.apiKey } : {}),
      // Evaluation reads text; a server without log-probs or token ids is fine.
      returnTokenIds: false,
      logProbs: false,
    });
    const api = spec.api ?? "completions";
    if (api !== "completions" && api !== "chat")
      throw new ConfigError("--api", `must be "completions" or "chat", got "${api}"`);
    const client = {
      complete: (prompt: string, params: EvalSampling & { n: number; seed: number }) =>
        remote
          .complete(prompt, params)
          .then((cs) => cs.map((c) => ({ text: c.text, finishReason: c.finishReason, tokens: c.tokens }))),
      chat: (
        messages: { role: "system" | "user" | "assistant"; content: string }[],
        params: EvalSampling & { n: number; seed: number },
      ) =>
        remote
          .chat(messages, params)
          .then((cs) => cs.map((c) => ({ text: c.text, finishReason: c.finishReason, tokens: c.tokens }))),
    };
    const render = (p: { problem: string }) => p.problem;
    return {
      name: `${spec.model}@${spec.baseUrl}`,
      chat: api === "chat",
      source:
        api === "chat" ? chatSource({ client, render, sampling }) : completionsSource({ client, render, sampling }),
      close: async () => {},
    };
  }
  if (!spec.dir)
    throw new ConfigError("--model", "give a checkpoint directory, or --base-url and --model for a server");
  const { policy, chat } = await loadLocal(spec.dir, spec.chatTemplate ?? true);
  const engine = createLocalEngine({ model: policy.model, tokenizer: policy.tokenizer });
  return {
    name: spec.dir,
    chat: chat !== undefined,
    source: tokenEngineSource({
      engine,
      encode: (text) => policy.tokenizer.encode(text),
      render: (p) =>
        chat ? chat.render([{ role: "user", content: p.problem }], { addGenerationPrompt: true }) : p.problem,
      sampling,
    }),
    close: async () => policy.model.dispose(),
  };
}
