import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "@tokenrl/core";
import { advantageEstimators } from "@tokenrl/advantages";
import type { AdvantageEstimator } from "@tokenrl/advantages";
import { describeObjectives, objectives } from "@tokenrl/objectives";
import { tf } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { loadOpModules, runConformance } from "../src/index.js";
import { toyReinforce } from "./fixtures/toy-objective.js";

// docs/extending.md: adding an objective is one file (fixtures/toy-objective.ts) plus its
// conformance cases (fixtures/toy-cases/*.jsonl); nothing else is edited.
const toyCases = join(fileURLToPath(new URL(".", import.meta.url)), "fixtures", "toy-cases");

beforeAll(async () => {
  await initBackend({ log: null });
});

describe("adding an objective with defineObjective", () => {
  it("puts it in the registry with its description, requirements and defaults", () => {
    expect(objectives.get("toy-reinforce")).toBe(toyReinforce);
    expect(objectives.list()).toContain("toy-reinforce");
    // What a help text lists (the trainer's --help iterates the same registry).
    expect(describeObjectives().find((o) => o.name === "toy-reinforce")).toEqual({
      name: "toy-reinforce",
      description: "toy REINFORCE: -scale A logp, aggregated (docs/extending.md)",
      requires: ["logProbs", "advantages"],
      defaults: { scale: 1, aggregation: "token-mean", lossScaleFactor: null },
    });
    expect(toyReinforce.requires).toEqual(["logProbs", "advantages"]);
    expect(toyReinforce.resolve({ scale: 3 })).toEqual({ scale: 3, aggregation: "token-mean", lossScaleFactor: null });
    expect(() => toyReinforce.resolve({ scael: 3 } as never)).toThrow(/toy-reinforce\.scael: unknown option/);
  });

  it("gives the conformance runner its op, which passes the objective's hand-computed cases", async () => {
    // -A logp over the two valid tokens: (1)(-1) -> 1, (-1)(-2) -> -2; token-mean -0.5, gradient -A / 2;
    // scale 2, token-sum: -2 and gradient -2 A. The masked third token contributes nothing.
    const loaded = await loadOpModules();
    expect(loaded.errors).toEqual([]);
    expect(loaded.ops.has("loss/toy-reinforce")).toBe(true);
    const lines: string[] = [];
    const summary = await runConformance([toyCases], loaded, { print: (l) => lines.push(l) });
    expect(lines).toEqual([]);
    expect(summary).toMatchObject({ passed: 2, failed: 0 });
  });

  it("rejects a case with an option the objective does not have, as UNKNOWN_PARAM", async () => {
    const loaded = await loadOpModules();
    const handler = loaded.ops.get("loss/toy-reinforce")!.handler;
    const c = { id: "x", op: "loss/toy-reinforce", params: { temperature: 1 }, inputs: {} };
    await expect(async () => handler(c)).rejects.toMatchObject({ code: "UNKNOWN_PARAM" });
    const bad = { ...c, params: { scale: "big" } };
    await expect(async () => handler(bad)).rejects.toMatchObject({ code: "BAD_PARAM", param: "scale" });
  });
});

describe("an estimator registered as a plain function (no defineAdvantageEstimator)", () => {
  it("still gets its op; its params and inputs go through as given", async () => {
    // advantage = tokenRewards * 3 on valid tokens: [[3, 0]] for rewards [[1, 5]] and mask [[1, 0]].
    const bare = ((batch: { tokenRewards?: tf.Tensor2D; responseMask: tf.Tensor2D }) => {
      const advantages = tf.tidy(() => tf.mul(tf.mul(batch.tokenRewards!, 3), batch.responseMask)) as tf.Tensor2D;
      return { advantages, returns: tf.clone(advantages) };
    }) as unknown as AdvantageEstimator;
    advantageEstimators.register("toy-bare", bare);
    const loaded = await loadOpModules();
    const out = await loaded.ops.get("advantage/toy-bare")!.handler({
      id: "bare",
      op: "advantage/toy-bare",
      params: {},
      inputs: { tokenRewards: [[1, 5]], responseMask: [[1, 0]] },
    });
    expect(out.outputs.advantages).toEqual([[3, 0]]);
  });
});
