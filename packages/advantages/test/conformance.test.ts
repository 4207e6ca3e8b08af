import { readFileSync } from "node:fs";
import { join } from "node:path";
import { batchFromArrays, disposeBatch, tf, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { sharedPath } from "../../../tooling/test-utils/shared.js";
import { advantageEstimators } from "../src/index.js";

// The reference values (verl@1dda039b core_algos) in ../shared/conformance/cases,
// checked here through the registry; tooling/conformance checks the same files end to end.
interface Case {
  id: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Record<string, number[] | number[][]>;
  expected: Record<string, number[][]>;
  atol: number;
  rtol: number;
}

const FILES = ["grpo", "rloo", "reinforce-plus-plus", "reinforce-plus-plus-baseline", "gae"];
const dir = sharedPath("conformance/cases", "advantage conformance cases");
const cases: Case[] = dir
  ? FILES.flatMap((name) =>
      readFileSync(join(dir, `advantage-${name}.jsonl`), "utf8")
        .split("\n")
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as Case),
    )
  : [];

function worstError(got: number[][], want: number[][], atol: number, rtol: number): number {
  let worst = 0;
  want.forEach((row, i) =>
    row.forEach((w, t) => {
      const excess = Math.abs(got[i]![t]! - w) - (atol + rtol * Math.abs(w));
      worst = Math.max(worst, Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess);
    }),
  );
  return worst;
}

describe.skipIf(!dir).each(TEST_BACKENDS)("verl reference cases on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it(`all ${cases.length} advantage cases are within tolerance`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(125);
    const failures: string[] = [];
    for (const c of cases) {
      const batch = batchFromArrays(c.inputs as Parameters<typeof batchFromArrays>[0]);
      const out = advantageEstimators.get(c.op.replace("advantage/", ""))(batch, c.params);
      for (const field of Object.keys(c.expected)) {
        const got = out[field as "advantages" | "returns"].arraySync();
        const excess = worstError(got, c.expected[field]!, c.atol, c.rtol);
        if (excess > 0) failures.push(`${c.id} ${field}: exceeds tolerance by ${excess}`);
      }
      tf.dispose([out.advantages, out.returns]);
      disposeBatch(batch);
    }
    expect(failures).toEqual([]);
  });
});
