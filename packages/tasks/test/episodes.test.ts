import { createAlfWorldServer, generateHousehold, solveHousehold } from "@tokenrl/envs";
import type { RolloutEngine, RolloutSequence } from "@tokenrl/rollout";
import { describe, expect, it } from "vitest";
import { createEnvironmentTask, createTask } from "../src/index.js";
import type { EpisodeTask, TaskExample } from "../src/index.js";

/** One token per character (code point), enough for the agent loop. */
const tokenizer = {
  encode: (text: string) => [...text].map((c) => c.codePointAt(0)!),
  decode: (ids: number[]) => String.fromCodePoint(...ids),
  padTokenId: 0,
};

/**
 * An engine that plays the household expert's commands (or a wrong one), one per
 * model turn, reading the goal from the context it is given as a policy would.
 */
function expertEngine(gamesByGoal: Map<string, string[]>, mistake = false): RolloutEngine {
  return {
    padTokenId: 0,
    tokenizer,
    async generate(prompts): Promise<RolloutSequence[]> {
      return prompts.map((ids) => {
        const context = tokenizer.decode([...ids]);
        const goal = /Your task is to: (.*)\n/.exec(context)![1]!;
        // Model turns so far: generation prompts after the first observation, minus the open one.
        const turn = context.slice(context.indexOf("Your task is to:")).split("Assistant: ").length - 2;
        const cmds = gamesByGoal.get(goal)!;
        const text = `Thought: step ${turn}. Action: ${mistake ? "look" : cmds[turn]}`;
        const responseIds = tokenizer.encode(text);
        return {
          promptIds: [...ids],
          responseIds,
          rolloutLogProbs: responseIds.map(() => -0.5),
          finishReason: "stop",
          text,
        };
      });
    },
  };
}

async function playEpisodes(task: EpisodeTask, examples: TaskExample[], mistake = false) {
  const goals = new Map<string, string[]>();
  for (const e of examples) {
    const world = generateHousehold(e.meta!.taskId as number, { seed: 0 });
    goals.set(world.goal.instruction, solveHousehold(world));
  }
  const engine = expertEngine(goals, mistake);
  const episodes = await task.rollout({ engine, examples, groupIds: examples.map((_, i) => i) });
  const verdicts = await task.verify(
    episodes.map((ep, i) => ({
      example: examples[i]!,
      response: ep.text,
      responseTokens: ep.responseIds.length,
      episodeReward: ep.reward,
    })),
  );
  return { episodes, verdicts };
}

describe("ALFWorld episodes (offline household)", () => {
  it("held-out and train games are the environment's disjoint ranges; deterministic by seed", () => {
    const task = createEnvironmentTask("alfworld", { seed: 4 });
    expect(task.kind).toBe("episode");
    expect([task.size("train"), task.size("test")]).toEqual([2420, 200]);
    const train = new Set(Array.from({ length: 2420 }, (_, i) => task.example(i).meta!.taskId));
    expect(train.size).toBe(2420);
    const test = Array.from({ length: 200 }, (_, i) => task.example(i, "test").meta!.taskId as number);
    expect(test.filter((id) => train.has(id))).toEqual([]);
    expect(task.example(7)).toEqual(createEnvironmentTask("alfworld", { seed: 4 }).example(7));
    expect(task.example(2420 + 7)).toEqual(task.example(7));
    expect(task.example(0, "test").prompt).toMatch(/^.+\.$/); // the goal instruction
  });

  it("multi-turn through rollout's agent loop: environment tokens masked, the episode reward is the outcome", async () => {
    const task = createTask({
      name: "alfworld",
      maxTurns: 30,
      maxResponseTokens: 20_000,
      preamble: false,
      reward: { kind: "dapo" },
    }) as EpisodeTask;
    const examples = [0, 1].map((i) => task.example(i, "test"));
    const solved = await playEpisodes(task, examples);
    for (const ep of solved.episodes) {
      expect(ep.finishReason).toBe("done");
      expect(ep.reward).toBe(1);
      expect(ep.turns).toBeGreaterThan(1);
      // Model tokens are exactly the turns' text; everything else (observations, template) is masked.
      const trained = ep.responseIds.filter((_, t) => ep.responseMask[t] === 1);
      expect(tokenizer.decode(trained)).toBe(ep.actions.join(""));
      expect(ep.responseMask.filter((m) => m === 0).length).toBeGreaterThan(0);
      expect(ep.rolloutLogProbs.filter((_, t) => ep.responseMask[t] === 0).every((lp) => lp === 0)).toBe(true);
    }
    expect(solved.verdicts.map((v) => [v.correct, v.reward])).toEqual([
      [true, 1],
      [true, 1],
    ]);
    // A policy that only looks around never solves it: turn limit, DAPO -1.
    const short = createEnvironmentTask("alfworld", { maxTurns: 3, preamble: false, reward: { kind: "dapo" } });
    const failed = await playEpisodes(short, examples, true);
    expect(failed.episodes.map((e) => [e.finishReason, e.turns])).toEqual([
      ["turns", 3],
      ["turns", 3],
    ]);
    expect(failed.verdicts.map((v) => [v.correct, v.reward])).toEqual([
      [false, -1],
      [false, -1],
    ]);
    // An episode without a reward (not run through rollout) is a per-sample failure.
    const [missing] = await task.verify([{ example: examples[0]!, response: "" }]);
    expect(missing!.error).toMatch(/no episode reward/);
    await task.close();
  });

  it("the same through an AgentGym ALFWorld server URL", async () => {
    const server = createAlfWorldServer({ seed: 0 });
    const url = await server.listen();
    // Pool of 1 and two episodes: they run in two waves (no deadlock waiting for a second id).
    const task = createEnvironmentTask("alfworld", { url, poolSize: 1, maxTurns: 30, maxResponseTokens: 20_000 });
    try {
      const examples = [task.example(3, "test"), task.example(3, "test")];
      const { episodes, verdicts } = await playEpisodes(task, examples);
      expect(episodes.map((e) => e.reward)).toEqual([1, 1]);
      // With the AgentGym preamble: the instructions are in the prompt, not in the trained response.
      expect(tokenizer.decode(episodes[0]!.promptIds)).toContain("Interact with a household");
      expect(verdicts.every((v) => v.correct && v.reward === 1)).toBe(true);
    } finally {
      await task.close();
      await server.close();
    }
  });
});

describe("WebShop episodes (offline shop)", () => {
  it("uses the shop's held-out sessions 0-499 and training sessions 500-5999", () => {
    const task = createEnvironmentTask("webshop");
    expect([task.size("train"), task.size("test")]).toEqual([5500, 500]);
    expect(task.example(0, "test").meta!.taskId).toBe(0);
    const ids = Array.from({ length: 300 }, (_, i) => task.example(i).meta!.taskId as number);
    expect(ids.every((id) => id >= 500 && id < 6000)).toBe(true);
  });
});
