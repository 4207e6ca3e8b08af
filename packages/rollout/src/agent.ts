import { ConfigError, InvalidInputError } from "@tokenrl/core";
import { type ChatTemplate, PLAIN_TEMPLATE } from "./chat.js";
import type { RolloutEngine } from "./engine.js";
import type { SamplingParams } from "./sampling.js";
import type { FinishReason, RolloutSequence } from "./sequence.js";

/**
 * The environment surface the agent loop needs. `@tokenrl/envs`' `Environment`
 * (AgentGym adapters, offline household / shop) satisfies it as is.
 */
export interface AgentEnvironment {
  /** Fixed opening messages (AgentGym: instructions, then the model's acknowledgement); never trained on. */
  readonly preamble?: readonly { readonly role: "user" | "assistant"; readonly content: string }[];
  /** Starts task `taskId`; the observation is the first user turn. */
  reset(taskId: number): Promise<{ readonly observation: string }> | { readonly observation: string };
  /** Applies the model's turn text. */
  step(action: string): Promise<AgentStepResult> | AgentStepResult;
}

export interface AgentStepResult {
  readonly observation: string;
  readonly reward: number;
  readonly done: boolean;
}

/** One episode as a response: model turns trained on (mask 1), environment turns not (mask 0). */
export interface AgentEpisode extends RolloutSequence {
  responseMask: number[];
  /** The episode's reward: the last step's (AgentGym). 0 when no step was taken. */
  reward: number;
  /** Reward of each environment step. */
  stepRewards: number[];
  /** Model turns taken. */
  turns: number;
  /** The text of each model turn, as sent to `step`. */
  actions: string[];
}

export interface AgentLoopOptions {
  /** Needs a tokenizer (to encode observations and decode turns). */
  engine: RolloutEngine;
  /** One environment per episode; episodes run side by side, their model turns batched together. */
  environments: readonly AgentEnvironment[];
  /** Task per environment, passed to reset. */
  taskIds: readonly number[];
  /** Default PLAIN_TEMPLATE. */
  template?: ChatTemplate;
  /** Model turns per episode (AgentGym's max rounds). */
  maxTurns: number;
  /** Budget of response tokens per episode, model and environment tokens together. */
  maxResponseTokens: number;
  /** Tokens per model turn (default: what is left of the budget). */
  maxTurnTokens?: number;
  /** Sampling for model turns; the template's stop strings are added to `stop`. */
  sampling?: SamplingParams;
  /** Group id per episode (e.g. G episodes of one task). */
  groupIds?: readonly number[];
}

interface Running {
  index: number;
  env: AgentEnvironment;
  prompt: number[];
  ids: number[];
  mask: number[];
  logProbs: number[];
  stepRewards: number[];
  actions: string[];
  finish?: FinishReason;
  stoppedBy?: string | number;
}

/**
 * Multi-turn rollouts: policy turn, environment turn, until the environment
 * says done, `maxTurns` model turns, or `maxResponseTokens`. The prompt is the
 * preamble plus the first observation; everything after it is the response, with
 * observation tokens appended to the context but masked out of the loss
 * (responseMask 0, rolloutLogProbs 0). Produces RolloutSequences, so
 * `toTrainingBatch` builds the same TrainingBatch as single-turn rollouts.
 */
export async function runAgentLoop(options: AgentLoopOptions): Promise<AgentEpisode[]> {
  const { engine, environments, taskIds, maxTurns, maxResponseTokens } = options;
  const template = options.template ?? PLAIN_TEMPLATE;
  const tokenizer = engine.tokenizer;
  if (!tokenizer) throw new ConfigError("engine.tokenizer", "the agent loop needs an engine with a tokenizer");
  if (taskIds.length !== environments.length)
    throw new ConfigError("taskIds", `expected one per environment (${environments.length}), got ${taskIds.length}`);
  if (options.groupIds && options.groupIds.length !== environments.length)
    throw new ConfigError(
      "groupIds",
      `expected one per environment (${environments.length}), got ${options.groupIds.length}`,
    );
  if (!Number.isInteger(maxTurns) || maxTurns < 1)
    throw new ConfigError("maxTurns", `must be an integer >= 1, got ${maxTurns}`);
  if (!Number.isInteger(maxResponseTokens) || maxResponseTokens < 1)
    throw new ConfigError("maxResponseTokens", `must be an integer >= 1, got ${maxResponseTokens}`);
  const stop = [...(options.sampling?.stop ?? []), ...template.stop];

  const episodes: Running[] = await Promise.all(
    environments.map(async (env, index) => {
      const { observation } = await env.reset(taskIds[index]!);
      const preamble = (env.preamble ?? [])
        .map((m) => (m.role === "user" ? template.user(m.content) : template.assistant(m.content)))
        .join("");
      const prompt = tokenizer.encode(preamble + template.user(observation) + template.generationPrompt);
      if (prompt.length === 0)
        throw new InvalidInputError(`runAgentLoop: environment ${index} produced an empty prompt`);
      return { index, env, prompt, ids: [], mask: [], logProbs: [], stepRewards: [], actions: [] };
    }),
  );

  for (let turn = 0; turn < maxTurns; turn++) {
    const active = episodes.filter((e) => !e.finish);
    if (active.length === 0) break;
    // One generation batch per round; rows get the same per-turn cap, each then trimmed to its own budget.
    const room = Math.max(...active.map((e) => maxResponseTokens - e.ids.length));
    const cap = Math.max(1, Math.min(options.maxTurnTokens ?? room, room));
    const outputs = await engine.generate(
      active.map((e) => [...e.prompt, ...e.ids]),
      { ...options.sampling, stop, maxTokens: cap },
    );
    await Promise.all(
      active.map(async (e, i) => {
        const out = outputs[i]!;
        const left = maxResponseTokens - e.ids.length;
        const kept = out.responseIds.slice(0, left);
        e.ids.push(...kept);
        e.mask.push(...kept.map(() => 1));
        e.logProbs.push(...out.rolloutLogProbs.slice(0, left));
        const truncated = kept.length < out.responseIds.length;
        const text = truncated ? tokenizer.decode(kept) : out.text;
        e.actions.push(text);
        if (e.ids.length >= maxResponseTokens && (truncated || out.finishReason === "length")) {
          e.finish = "length";
          return;
        }
        const result = await e.env.step(text);
        e.stepRewards.push(result.reward);
        if (result.done) {
          e.finish = "done";
          return;
        }
        if (turn + 1 >= maxTurns) {
          e.finish = "turns";
          return;
        }
        const observation = tokenizer.encode(
          template.afterTurn + template.user(result.observation) + template.generationPrompt,
        );
        if (e.ids.length + observation.length > maxResponseTokens) {
          e.finish = "length";
          return;
        }
        e.ids.push(...observation);
        e.mask.push(...observation.map(() => 0));
        e.logProbs.push(...observation.map(() => 0));
      }),
    );
  }

  return episodes.map(
    (e): AgentEpisode => ({
      promptIds: e.prompt,
      responseIds: e.ids,
      responseMask: e.mask,
      rolloutLogProbs: e.logProbs,
      finishReason: e.finish ?? "turns",
      text: tokenizer.decode(e.ids),
      reward: e.stepRewards.length ? e.stepRewards[e.stepRewards.length - 1]! : 0,
      stepRewards: e.stepRewards,
      turns: e.actions.length,
      actions: e.actions,
      ...(options.groupIds ? { groupId: options.groupIds[e.index]! } : {}),
    }),
  );
}
