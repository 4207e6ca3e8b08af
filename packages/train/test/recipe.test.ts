import { useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { getPreset, listPresets, presets, resolveRecipe } from "../src/index.js";
import type { Preset } from "../src/index.js";

beforeAll(async () => {
  await useBackend("cpu");
});

describe("recipes", () => {
  it("a preset resolves to its parts; explicit parts win, options merge only over the same name", () => {
    const htpo = resolveRecipe({ preset: "htpo" });
    expect(htpo).toMatchObject({
      preset: "htpo",
      advantage: { name: "grpo" },
      objective: { name: "htpo" },
      aggregation: "token-mean",
      dynamicSampling: true,
      kl: null,
    });
    const tuned = resolveRecipe({ preset: "htpo", objective: { options: { clipHigh: 0.3 } }, kl: { coef: 0.01 } });
    expect(tuned.objective.options).toMatchObject({ clipHigh: 0.3, clipLow: 0.2, dualClip: 10, sign: "paper" });
    expect(tuned.kl).toEqual({ coef: 0.01, estimator: "k3" });
    const other = resolveRecipe({ preset: "htpo", objective: { name: "ppo-clip" } });
    expect(other.objective).toEqual({ name: "ppo-clip", options: {} });
    expect(resolveRecipe({ preset: "dapo", overlong: null }).overlong).toBeNull();
    expect(resolveRecipe({ preset: null, advantage: { name: "rloo" }, objective: { name: "cispo" } })).toMatchObject({
      preset: null,
      aggregation: "token-mean",
      dynamicSampling: false,
      partition: null,
    });
  });

  it("is validated before any work, every error naming the part", () => {
    expect(() => resolveRecipe({ preset: "dapoo" })).toThrow(/unknown preset "dapoo"/);
    expect(() => resolveRecipe({ preset: null })).toThrow("advantage.name: required when no preset is given");
    expect(() => resolveRecipe({ preset: "grpo", objective: { options: { clipHihg: 1 } } })).toThrow(
      "ppo-clip.clipHihg: unknown option",
    );
    expect(() => resolveRecipe({ preset: "grpo", advantage: { name: "grpoo" } })).toThrow(
      /unknown advantage estimator "grpoo"/,
    );
    expect(() => resolveRecipe({ preset: "grpo", advantage: { options: { epsilon: -1 } } })).toThrow(/grpo\.epsilon/);
    expect(() => resolveRecipe({ preset: "grpo", kl: { coef: -1 } })).toThrow(
      "kl.coef: expected a finite number >= 0, got -1",
    );
    expect(() => resolveRecipe({ preset: "grpo", kl: { estimator: "k9" } })).toThrow(
      /kl.estimator: unknown KL estimator "k9"/,
    );
    expect(() => resolveRecipe({ preset: "grpo", aggregation: "mean" })).toThrow(
      /aggregation: unknown aggregation mode "mean"/,
    );
    expect(() => resolveRecipe({ preset: "grpo", partition: { name: "cells" } })).toThrow(
      /unknown partitioner "cells"/,
    );
    expect(() => resolveRecipe({ preset: "dapo", overlong: { bufferLength: 0 } })).toThrow("overlong.bufferLength");
    expect(() => resolveRecipe({ preset: "grpo", objective: { options: { aggregation: "token-sum" } } })).toThrow(
      "set the recipe's top-level `aggregation` instead",
    );
  });

  it("presets are a registry a plugin can add to", () => {
    expect(listPresets()).toEqual(["cispo", "cppo", "dapo", "dr-grpo", "grpo", "gspo", "htpo", "sapo"]);
    const mine: Preset = { ...getPreset("grpo"), name: "my-grpo", source: "test", kl: null };
    presets.register("my-grpo", mine);
    expect(resolveRecipe({ preset: "my-grpo" }).kl).toBeNull();
    expect(() => presets.register("my-grpo", mine)).toThrow(/already registered|duplicate/i);
  });
});
