import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { referencePath } from "../../../../tooling/test-utils/shared.js";
import { verifySync } from "../src/verify.js";

interface Pair {
  id: string;
  gold: string;
  prediction: string;
  equal: boolean;
  category: string;
}

const path = referencePath("fixtures/math-verify/pairs.jsonl");

describe("agreement with Math-Verify 0.8.0 (fixtures/math-verify/pairs.jsonl)", () => {
  it("agrees on at least 97% of pairs with under 1% false accepts", () => {
    const pairs: Pair[] = readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Pair);
    const perCategory = new Map<string, { n: number; agree: number; fa: number; fr: number }>();
    let agree = 0;
    let falseAccepts = 0;
    let falseRejects = 0;
    const misses: string[] = [];
    for (const p of pairs) {
      const ours = verifySync(p.gold, p.prediction).equal;
      const c = perCategory.get(p.category) ?? { n: 0, agree: 0, fa: 0, fr: 0 };
      c.n++;
      if (ours === p.equal) {
        agree++;
        c.agree++;
      } else if (ours) {
        falseAccepts++;
        c.fa++;
        misses.push(`false accept ${p.id}`);
      } else {
        falseRejects++;
        c.fr++;
        misses.push(`false reject ${p.id}`);
      }
      perCategory.set(p.category, c);
    }
    const n = pairs.length;
    const pct = (x: number) => `${((100 * x) / n).toFixed(2)}%`;
    const lines = [...perCategory.entries()]
      .sort()
      .filter(([, c]) => c.agree < c.n)
      .map(([k, c]) => `  ${k}: ${c.agree}/${c.n} (false accepts ${c.fa}, false rejects ${c.fr})`);
    console.log(
      [
        `Math-Verify agreement: ${agree}/${n} = ${pct(agree)}`,
        `  false accepts (ours true, Math-Verify false): ${falseAccepts} = ${pct(falseAccepts)}`,
        `  false rejects (ours false, Math-Verify true): ${falseRejects} = ${pct(falseRejects)}`,
        ...(lines.length ? ["  categories with disagreements:", ...lines] : ["  no disagreement in any category"]),
        ...misses.map((m) => `  ${m}`),
      ].join("\n"),
    );
    expect(agree / n).toBeGreaterThanOrEqual(0.97);
    expect(falseAccepts / n).toBeLessThan(0.01);
  });
});
