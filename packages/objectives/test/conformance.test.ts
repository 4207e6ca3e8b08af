import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { sharedPath } from "../../../tooling/test-utils/shared.js";
import { tf, useBackend } from "@tokenrl/core";
import { compare, readCases, runCase } from "./cases.js";

const dir = sharedPath("conformance/cases", "objective conformance cases");
const cases = dir ? readCases(dir, /^(loss-.*|kl)\.jsonl$/) : [];

describe.skipIf(!dir).each(TEST_BACKENDS)("conformance cases (loss/*, kl) on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("reads every loss and kl case file", () => {
    expect(cases.length).toBeGreaterThanOrEqual(175);
  });

  it.each(cases.map((c) => [c.id, c] as const))("%s matches the reference", async (_id, c) => {
    const before = tf.memory().numTensors;
    const bad = compare(c, await runCase(c));
    expect(bad.slice(0, 8)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
