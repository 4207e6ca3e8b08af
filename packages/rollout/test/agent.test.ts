import { disposeBatch, initBackend, validateBatch } from "@tokenrl/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAIN_TEMPLATE, createLocalEngine, runAgentLoop, toTrainingBatch } from "../src/index.js";
import type { AgentEnvironment, AgentStepResult } from "../src/index.js";
import { tinyPolicy, tokenizer } from "./helpers.js";

/** Answers every turn with "obs k"; done (reward 1) after `doneAfter` steps. Records what it was sent. */
class ScriptedEnv implements AgentEnvironment {
  readonly preamble = [
    { role: "user" as const, content: "rules" },
    { role: "assistant" as const, content: "ok" },
  ];
  readonly actions: string[] = [];
  constructor(private readonly doneAfter: number) {}
  async reset(taskId: number) {
    return { observation: `task ${taskId}` };
  }
  async step(action: string): Promise<AgentStepResult> {
    this.actions.push(action);
    const k = this.actions.length;
    return { observation: `obs ${k}`, reward: k >= this.doneAfter ? 1 : 0.25, done: k >= this.doneAfter };
  }
}

describe("agent loop", () => {
  let model: ReturnType<typeof tinyPolicy>;
  beforeAll(async () => {
    await initBackend({ log: null });
    model = tinyPolicy();
  });
  afterAll(() => model.dispose());

  it("appends observations to the context with responseMask 0 and stops when the environment is done", async () => {
    const engine = createLocalEngine({ model, tokenizer, seed: 4 });
    const envs = [new ScriptedEnv(2), new ScriptedEnv(5)];
    const episodes = await runAgentLoop({
      engine,
      environments: envs,
      taskIds: [3, 8],
      maxTurns: 3,
      maxResponseTokens: 200,
      maxTurnTokens: 6,
      groupIds: [0, 0],
    });

    const e0 = episodes[0]!;
    expect(tokenizer.decode(e0.promptIds)).toBe("User: rules\nAssistant: ok\nUser: task 3\nAssistant: ");
    expect(e0.finishReason).toBe("done");
    expect(e0.turns).toBe(2);
    expect(e0.reward).toBe(1);
    expect(e0.stepRewards).toEqual([0.25, 1]);
    expect(envs[0]!.actions).toEqual(e0.actions);
    // Layout: turn 1 (mask 1), observation 1 (mask 0), turn 2 (mask 1); no observation after done.
    const obs = tokenizer.encode(`${PLAIN_TEMPLATE.afterTurn}User: obs 1\nAssistant: `);
    const n1 = e0.responseMask.indexOf(0);
    expect(n1).toBeGreaterThan(0);
    expect(e0.responseIds.slice(n1, n1 + obs.length)).toEqual(obs);
    expect(e0.responseMask).toEqual([
      ...new Array(n1).fill(1),
      ...new Array(obs.length).fill(0),
      ...new Array(e0.responseIds.length - n1 - obs.length).fill(1),
    ]);
    expect(e0.rolloutLogProbs.slice(n1, n1 + obs.length)).toEqual(new Array(obs.length).fill(0));
    expect(e0.rolloutLogProbs.filter((_, t) => e0.responseMask[t] === 1).every((lp) => lp < 0)).toBe(true);

    const e1 = episodes[1]!;
    expect(e1.finishReason).toBe("turns");
    expect(e1.turns).toBe(3);
    expect(e1.stepRewards).toEqual([0.25, 0.25, 0.25]);
    // Two observations were appended (after turns 1 and 2), none after the last turn.
    expect(e1.responseMask.filter((m) => m === 0).length).toBe(
      tokenizer.encode(`\nUser: obs 1\nAssistant: `).length + tokenizer.encode(`\nUser: obs 2\nAssistant: `).length,
    );

    const batch = toTrainingBatch(episodes, { padTokenId: tokenizer.padTokenId });
    const { T } = validateBatch(batch, ["responseIds", "rolloutLogProbs", "groupIds"]);
    expect(T).toBe(Math.max(e0.responseIds.length, e1.responseIds.length));
    expect(batch.responseMask.arraySync()[0]!.slice(0, e0.responseIds.length)).toEqual(e0.responseMask);
    disposeBatch(batch);
  });

  it("ends an episode at the token budget", async () => {
    const engine = createLocalEngine({ model, tokenizer, seed: 4 });
    const [e] = await runAgentLoop({
      engine,
      environments: [new ScriptedEnv(10)],
      taskIds: [0],
      maxTurns: 10,
      maxResponseTokens: 20,
      maxTurnTokens: 8,
      sampling: { ignoreEos: true, stop: [] },
      template: { ...PLAIN_TEMPLATE, stop: [] },
    });
    expect(e!.finishReason).toBe("length");
    expect(e!.responseIds.length).toBeLessThanOrEqual(20);
  });
});
