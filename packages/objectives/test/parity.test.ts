import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { sharedPath } from "../../../tooling/test-utils/shared.js";
import { useBackend } from "@tokenrl/core";
import { setHostKernels } from "@tokenrl/partitioners";
import { readCases, runCase } from "./cases.js";
import type { CaseResult } from "./cases.js";

// The fused host kernels (PPO clip, HTPO and its partition, CPPO, GSPO, SAPO, CISPO) and the op chains must agree on
// every conformance case of the ops they implement: loss, gradient and every metric.
const dir = sharedPath("conformance/cases", "fused vs op-chain parity over the conformance cases");
const cases = dir ? readCases(dir, /^loss-(ppo-clip|htpo|cppo|gspo|sapo|cispo)\.jsonl$/) : [];

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 + 1e-5 * Math.abs(b);
}

describe.skipIf(!dir).each(TEST_BACKENDS)("fused host kernels vs op chains on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => setHostKernels("auto"));

  it.each(cases.map((c) => [c.id, c] as const))("%s: same loss, gradient and metrics", async (_id, c) => {
    setHostKernels("host");
    const host: CaseResult = await runCase(c);
    setHostKernels("tensor");
    const chain: CaseResult = await runCase(c);
    setHostKernels("auto");
    const bad: string[] = [];
    if (!close(host.loss!, chain.loss!)) bad.push(`loss ${host.loss} vs ${chain.loss}`);
    chain.gradLogProbs!.forEach((row, i) =>
      row.forEach((v, t) => {
        if (!close(host.gradLogProbs![i]![t]!, v)) bad.push(`grad[${i}][${t}] ${host.gradLogProbs![i]![t]} vs ${v}`);
      }),
    );
    expect(Object.keys(host.metrics!).sort()).toEqual(Object.keys(chain.metrics!).sort());
    for (const [name, v] of Object.entries(chain.metrics!)) if (!close(host.metrics![name]!, v)) bad.push(`${name} ${host.metrics![name]} vs ${v}`);
    expect(bad.slice(0, 8)).toEqual([]);
  });
});
