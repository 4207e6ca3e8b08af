/**
 * Integration with @tokenrl/rollout's multi-turn agent loop: a tiny random
 * policy plays both offline environments; everything the environment said is
 * in the response with mask 0 and log-prob 0, everything the model said with mask 1.
 */
import { initBackend } from "@tokenrl/core";
import { CharTokenizer, createPolicy, makeConfig } from "@tokenrl/policy";
import { type AgentEnvironment, PLAIN_TEMPLATE, createLocalEngine, runAgentLoop } from "@tokenrl/rollout";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlfWorldEnv } from "../src/agentgym/adapters.js";
import type { Environment } from "../src/environment.js";
import { createHouseholdEnv, createShopEnv } from "../src/offline.js";
import { createAlfWorldServer } from "../src/serve/alfworld-server.js";
import { FAST, trackServers } from "./helpers.js";

const tokenizer = new CharTokenizer();
const start = trackServers();

/** Records every observation the environment returned, for checking the masked spans. */
function recording(env: Environment): AgentEnvironment & { observations: string[]; actions: string[] } {
  const observations: string[] = [];
  const actions: string[] = [];
  // Environment satisfies the loop's AgentEnvironment as is (checked by tsc in `pnpm typecheck`).
  const asAgent: AgentEnvironment = env;
  return {
    observations,
    actions,
    // The 1,300-character AgentGym preamble would only slow the tiny model down; masking is about the turns.
    preamble: [],
    reset: (taskId) => asAgent.reset(taskId),
    async step(action) {
      actions.push(action);
      const r = await env.step(action);
      observations.push(r.observation);
      return r;
    },
  };
}

/** Splits a mask into maximal runs: [value, start, end). */
function runs(mask: readonly number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let t = 0; t < mask.length; t++) {
    const last = out[out.length - 1];
    if (last && last[0] === mask[t]) last[2] = t + 1;
    else out.push([mask[t]!, t, t + 1]);
  }
  return out;
}

describe("rollout agent loop over the offline environments", () => {
  let model: ReturnType<typeof createPolicy>;
  beforeAll(async () => {
    await initBackend({ log: null });
    model = createPolicy(
      makeConfig({
        modelType: "qwen3",
        vocabSize: tokenizer.vocabSize,
        hiddenSize: 32,
        intermediateSize: 64,
        numLayers: 2,
        numHeads: 4,
        numKvHeads: 2,
        headDim: 8,
        eosTokenId: tokenizer.eosTokenId,
        padTokenId: tokenizer.padTokenId,
        maxPositionEmbeddings: 8192,
        initializerRange: 0.3,
      }),
      { seed: 5 },
    );
  });
  afterAll(() => model.dispose());

  it("masks out every environment token, in-process and over HTTP", { timeout: 120_000 }, async () => {
    const url = await start(createAlfWorldServer());
    const envs = [
      recording(createHouseholdEnv({ actionFormat: "react" })),
      recording(createShopEnv({ actionFormat: "plain" })),
      recording(new AlfWorldEnv({ baseUrl: url, actionFormat: "plain", ...FAST })),
    ];
    const engine = createLocalEngine({ model, tokenizer, seed: 9 });
    const episodes = await runAgentLoop({
      engine,
      environments: envs,
      taskIds: [4, 600, 4],
      maxTurns: 2,
      maxResponseTokens: 4000,
      maxTurnTokens: 12,
      sampling: { ignoreEos: true },
      template: { ...PLAIN_TEMPLATE, stop: [] },
    });

    for (const [i, e] of episodes.entries()) {
      const env = envs[i]!;
      expect(e.turns).toBe(2);
      expect(e.actions).toEqual(env.actions);
      // The prompt is the first observation (preamble left out above).
      expect(tokenizer.decode(e.promptIds)).toMatch(/^User: (You are in the middle|WebShop \[SEP\])/);
      const spans = runs(e.responseMask);
      // model, env, model: the last observation is not appended after the last turn.
      expect(spans.map((s) => s[0])).toEqual([1, 0, 1]);
      const envSpans = spans.filter((s) => s[0] === 0);
      envSpans.forEach(([, from, to], k) => {
        const expected = tokenizer.encode(
          PLAIN_TEMPLATE.afterTurn + PLAIN_TEMPLATE.user(env.observations[k]!) + PLAIN_TEMPLATE.generationPrompt,
        );
        expect(e.responseIds.slice(from, to)).toEqual(expected);
        expect(e.rolloutLogProbs.slice(from, to).every((lp) => lp === 0)).toBe(true);
      });
      const modelSpans = spans.filter((s) => s[0] === 1);
      modelSpans.forEach(([, from, to], k) => {
        expect(tokenizer.decode(e.responseIds.slice(from, to))).toBe(e.actions[k]);
        expect(e.rolloutLogProbs.slice(from, to).every((lp) => lp < 0)).toBe(true);
      });
    }
    // The random turns are not valid ReAct: the household answers AgentGym's Invalid Action.
    expect(envs[0]!.observations[0]).toMatch(/^Invalid Action\.\n\nYou are in the middle of a room\./);
    expect(envs[2]!.observations[0]).toMatch(/^Nothing happened\.\nAVAILABLE ACTIONS: /);
  });
});
