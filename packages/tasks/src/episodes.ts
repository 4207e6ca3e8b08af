import { ConfigError, InvalidInputError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";
import {
  type Environment,
  type EnvironmentPool,
  HOUSEHOLD_TEST_GAMES,
  HOUSEHOLD_TRAIN_GAMES,
  SHOP_SESSION_COUNT,
  SHOP_TEST_SESSIONS,
  createAlfWorldPool,
  createHouseholdEnv,
  createShopEnv,
  createWebShopPool,
  generateHousehold,
} from "@tokenrl/envs";
import type { AgentEnvironment, AgentEpisode, ChatTemplate } from "@tokenrl/rollout";
import { checkIndex, checkSplit } from "./split.js";
import type { EpisodeRolloutOptions, EpisodeTask, RewardShaping, Split, TaskExample, TaskVerdict } from "./types.js";
import { checkShaping, failedVerdict, overlongOnly, tokensOf, verifyEach } from "./verdicts.js";

export const ENVIRONMENT_TASK_NAMES = ["alfworld", "webshop"] as const;
export type EnvironmentTaskName = (typeof ENVIRONMENT_TASK_NAMES)[number];

export interface EnvironmentTaskOptions {
  /** An AgentGym server (e.g. "http://127.0.0.1:36001"); omitted: the offline built-in (household / shop). */
  url?: string;
  /** Parallel server-side environments when `url` is given. Default 8. */
  poolSize?: number;
  /** Offline environments' seed (game set, catalogue) and the training order. Default 0. */
  seed?: number;
  /** Model turns per episode. Default 10. */
  maxTurns?: number;
  /** Response budget per episode (model and environment tokens). Default 2048. */
  maxResponseTokens?: number;
  /** Tokens per model turn. Default 256. */
  maxTurnTokens?: number;
  /** Chat template of the agent loop; default rollout's PLAIN_TEMPLATE. */
  template?: ChatTemplate;
  /** Send AgentGym's instruction preamble before the first observation. Default true. */
  preamble?: boolean;
  /** Steps before an offline household game ends unsolved. Default 50. */
  maxEnvSteps?: number;
  /**
   * "binary" (default): the episode reward as is (ALFWorld 0/1, WebShop's score in [0, 1]);
   * "dapo": 2 r - 1, so a solved ALFWorld game is +1 and a failed one -1. Overlong shaping on episode tokens.
   */
  reward?: RewardShaping;
  /** Episode reward that counts as success (`correct`). Default 1. */
  successThreshold?: number;
}

interface Ranges {
  trainStart: number;
  trainCount: number;
  testStart: number;
  testCount: number;
}

// ALFWorld: games 0-2419 train, 2420-2619 held-out. WebShop: sessions 0-499 held-out, 500-5999 train.
const RANGES: Record<EnvironmentTaskName, Ranges> = {
  alfworld: {
    trainStart: 0,
    trainCount: HOUSEHOLD_TRAIN_GAMES,
    testStart: HOUSEHOLD_TRAIN_GAMES,
    testCount: HOUSEHOLD_TEST_GAMES,
  },
  webshop: {
    trainStart: SHOP_TEST_SESSIONS,
    trainCount: SHOP_SESSION_COUNT - SHOP_TEST_SESSIONS,
    testStart: 0,
    testCount: SHOP_TEST_SESSIONS,
  },
};

const PRINTABLE = `${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")}\n`;

function checkPositiveInt(path: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(path, `must be a positive integer, got ${v}`);
}

/**
 * ALFWorld / WebShop episodes as a task: `rollout` runs @tokenrl/rollout's
 * multi-turn agent loop (environment tokens masked out of the loss), `verify`
 * turns each episode's final reward into the verdict. Train and held-out tasks
 * are the environments' own disjoint game / session ranges.
 */
export function createEnvironmentTask(name: EnvironmentTaskName, options: EnvironmentTaskOptions = {}): EpisodeTask {
  if (!ENVIRONMENT_TASK_NAMES.includes(name))
    throw new ConfigError("task", `unknown environment "${name}"; known: ${ENVIRONMENT_TASK_NAMES.join(", ")}`);
  const seed = options.seed ?? 0;
  const maxTurns = options.maxTurns ?? 10;
  const maxResponseTokens = options.maxResponseTokens ?? 2048;
  const maxTurnTokens = options.maxTurnTokens ?? 256;
  checkPositiveInt("task.maxTurns", maxTurns);
  checkPositiveInt("task.maxResponseTokens", maxResponseTokens);
  checkPositiveInt("task.maxTurnTokens", maxTurnTokens);
  const shaping = checkShaping(options.reward);
  const threshold = options.successThreshold ?? 1;
  const ranges = RANGES[name];
  // Training games in a seeded order: runs with different seeds meet different games first.
  const trainOrder = createRng(seed)
    .fork(`${name}/train-order`)
    .shuffle(Array.from({ length: ranges.trainCount }, (_, i) => ranges.trainStart + i));

  let pool: EnvironmentPool<Environment> | undefined;
  if (options.url) {
    const size = options.poolSize ?? 8;
    checkPositiveInt("task.poolSize", size);
    pool = (name === "alfworld"
      ? createAlfWorldPool({ baseUrl: options.url }, size)
      : createWebShopPool({ baseUrl: options.url }, size)) as unknown as EnvironmentPool<Environment>;
  }
  const offline = (): Environment =>
    name === "alfworld"
      ? createHouseholdEnv({ seed, ...(options.maxEnvSteps ? { maxSteps: options.maxEnvSteps } : {}) })
      : createShopEnv({ seed });
  const withPreamble = options.preamble ?? true;
  const adapt = (env: Environment): AgentEnvironment => ({
    ...(withPreamble ? { preamble: env.preamble } : {}),
    reset: (taskId) => env.reset(taskId),
    step: (action) => env.step(action),
  });
  let closed = false;

  const verifyOne = (r: {
    example: TaskExample;
    response: string;
    responseTokens?: number;
    episodeReward?: number;
  }): TaskVerdict => {
    const episodeReward = r.episodeReward;
    if (episodeReward === undefined || !Number.isFinite(episodeReward))
      return failedVerdict(`${name}: no episode reward for ${r.example.id} (run it through task.rollout)`);
    const correct = episodeReward >= threshold;
    const base = shaping.kind === "dapo" ? 2 * episodeReward - 1 : episodeReward;
    return { correct, reward: base + overlongOnly(tokensOf(r), shaping), extracted: String(episodeReward) };
  };

  return {
    kind: "episode",
    name,
    alphabet: PRINTABLE,
    stop: (options.template?.stop ?? ["\n"]) as readonly string[],
    maxResponseLength: maxResponseTokens,
    maxTurns,
    size: (split) => (split === "train" ? ranges.trainCount : ranges.testCount),
    example(index: number, split: Split = "train"): TaskExample {
      checkIndex(index);
      checkSplit(split);
      let taskId: number;
      if (split === "test") {
        if (index >= ranges.testCount)
          throw new InvalidInputError(`${name}: held-out index ${index} is past the end (${ranges.testCount} tasks)`);
        taskId = ranges.testStart + index;
      } else {
        // Past the end: the same games again in the same shuffled order.
        taskId = trainOrder[index % ranges.trainCount]!;
      }
      // The goal text of an offline household game is known without starting it; others show it at reset.
      const prompt = !options.url && name === "alfworld" ? generateHousehold(taskId, { seed }).goal.instruction : "";
      return { id: `${name}/${split}/${taskId}`, prompt, answer: "", meta: { split, taskId } };
    },
    async rollout(run: EpisodeRolloutOptions): Promise<AgentEpisode[]> {
      if (closed) throw new ConfigError("task", `${name}: rollout() after close()`);
      const { runAgentLoop } = await import("@tokenrl/rollout");
      const taskIds = run.examples.map((e) => {
        const id = e.meta?.taskId;
        if (typeof id !== "number") throw new InvalidInputError(`${name}: example ${e.id} has no meta.taskId`);
        return id;
      });
      const loop = (envs: Environment[], ids: number[], groups: readonly number[] | undefined) =>
        runAgentLoop({
          engine: run.engine,
          environments: envs.map(adapt),
          taskIds: ids,
          maxTurns,
          maxResponseTokens,
          maxTurnTokens,
          ...(options.template ? { template: options.template } : {}),
          ...(run.sampling ? { sampling: run.sampling } : {}),
          ...(groups ? { groupIds: groups } : {}),
        });
      if (!pool) {
        const envs = taskIds.map(() => offline());
        try {
          return await loop(envs, taskIds, run.groupIds);
        } finally {
          await Promise.all(envs.map((e) => e.close()));
        }
      }
      // A server has `poolSize` environments: run the episodes in waves of at most that many.
      const episodes: AgentEpisode[] = [];
      for (let start = 0; start < taskIds.length; start += pool.size) {
        const ids = taskIds.slice(start, start + pool.size);
        const leased: Environment[] = [];
        try {
          for (let i = 0; i < ids.length; i++) leased.push(await pool.acquire());
          episodes.push(...(await loop(leased, ids, run.groupIds?.slice(start, start + pool.size))));
        } finally {
          for (const env of leased) pool.release(env);
        }
      }
      return episodes;
    },
    verify: (requests) => verifyEach(requests, verifyOne),
    async close() {
      if (closed) return;
      closed = true;
      await pool?.close();
    },
  };
}
