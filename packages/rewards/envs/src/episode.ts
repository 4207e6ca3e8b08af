/**
 * A text-level reference episode loop, and the per-episode numbers a trainer
 * uses: success, score and step count. The conversation follows AgentGym: the
 * environment's preamble, the first observation, then alternating model turns
 * (trained) and environment turns (not trained) until done or `maxRounds`.
 * A failure of the environment itself (server gone, timeout) ends the episode
 * as failed with reward 0, so one dead server cannot hang a batch.
 */
import type { ConversationMessage, Environment } from "./environment.js";

export type Policy = (
  messages: readonly ConversationMessage[],
  availableActions: readonly string[],
) => string | Promise<string>;

export interface EpisodeOptions {
  /** Model turns before the episode is cut off. Default 30. */
  readonly maxRounds?: number;
}

export interface EpisodeResult {
  readonly env: string;
  readonly taskId: number;
  readonly taskType: string | undefined;
  /** The last step's reward (AgentGym's episode reward). */
  readonly reward: number;
  /** reward === 1 and the environment said done (ALFWorld won / WebShop perfect purchase). */
  readonly success: boolean;
  /** Model turns taken. */
  readonly steps: number;
  readonly done: boolean;
  /** The environment failed (unreachable, timed out, protocol error); `error` says how. */
  readonly failed: boolean;
  readonly error: string | undefined;
  readonly messages: readonly ConversationMessage[];
}

export async function runEpisode(
  env: Environment,
  taskId: number,
  policy: Policy,
  options: EpisodeOptions = {},
): Promise<EpisodeResult> {
  const maxRounds = options.maxRounds ?? 30;
  const messages: ConversationMessage[] = [...env.preamble];
  let taskType: string | undefined;
  let reward = 0;
  let done = false;
  let steps = 0;
  try {
    const first = await env.reset(taskId);
    taskType = first.info.taskType;
    messages.push({ role: "user", content: first.observation, trained: false });
    let available = first.availableActions;
    while (!done && steps < maxRounds) {
      const turn = await policy(messages, available);
      messages.push({ role: "assistant", content: turn, trained: true });
      const r = await env.step(turn);
      steps++;
      reward = r.reward;
      done = r.done;
      available = r.availableActions;
      messages.push({ role: "user", content: r.observation, trained: false });
    }
  } catch (error) {
    return {
      env: env.name,
      taskId,
      taskType,
      reward: 0,
      success: false,
      steps,
      done: false,
      failed: true,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      messages,
    };
  }
  return {
    env: env.name,
    taskId,
    taskType,
    reward,
    success: done && reward === 1,
    steps,
    done,
    failed: false,
    error: undefined,
    messages,
  };
}

export interface EpisodeSummary {
  readonly episodes: number;
  /** Fraction of episodes with success. */
  readonly successRate: number;
  /** Mean reward x 100 (WebShop's reported score). */
  readonly score: number;
  readonly meanSteps: number;
  readonly failed: number;
}

export function summariseEpisodes(
  results: readonly Pick<EpisodeResult, "success" | "reward" | "steps" | "failed">[],
): EpisodeSummary {
  const n = results.length;
  if (n === 0) return { episodes: 0, successRate: 0, score: 0, meanSteps: 0, failed: 0 };
  let success = 0;
  let reward = 0;
  let steps = 0;
  let failed = 0;
  for (const r of results) {
    if (r.success) success++;
    reward += r.reward;
    steps += r.steps;
    if (r.failed) failed++;
  }
  return { episodes: n, successRate: success / n, score: (100 * reward) / n, meanSteps: steps / n, failed };
}
