import { describe, expect, it } from "vitest";
import { DuplicateNameError, type UnknownNameError, createRegistry, createRng } from "../src/index.js";
import { UnknownNameError as UnknownNameErrorFromSubpath } from "../src/errors.js";

describe("createRegistry", () => {
  it("registers, lists sorted and gets by name", () => {
    const r = createRegistry<number>("advantage estimator");
    r.register("rloo", 2);
    r.register("grpo", 1);
    expect(r.list()).toEqual(["grpo", "rloo"]);
    expect(r.get("grpo")).toBe(1);
    expect(r.has("gae")).toBe(false);
  });

  it("fails on an unknown name, listing the known ones and the closest", () => {
    const r = createRegistry<number>("advantage estimator");
    r.register("grpo", 1);
    r.register("dr-grpo", 2);
    const err = (() => {
      try {
        r.get("gpro");
      } catch (e) {
        return e as UnknownNameError;
      }
    })();
    expect(err).toBeInstanceOf(UnknownNameErrorFromSubpath);
    expect(err?.message).toBe('unknown advantage estimator "gpro" (did you mean "grpo"?); known: dr-grpo, grpo');
  });

  it("refuses a duplicate unless overriding", () => {
    const r = createRegistry<number>("objective");
    r.register("ppo", 1);
    expect(() => r.register("ppo", 2)).toThrow(DuplicateNameError);
    r.register("ppo", 3, { override: true });
    expect(r.get("ppo")).toBe(3);
  });
});

describe("createRng", () => {
  it("is reproducible for a seed and differs across seeds", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
  });

  it("draws uniform numbers with the right mean and normals with unit variance", () => {
    const rng = createRng(7);
    const n = 20000;
    let sum = 0;
    let sq = 0;
    let umean = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sq += z * z;
      umean += rng.next();
    }
    expect(umean / n).toBeCloseTo(0.5, 1);
    expect(sum / n).toBeCloseTo(0, 1);
    expect(sq / n).toBeCloseTo(1, 1);
  });

  it("forks independent streams that do not depend on draw order", () => {
    const a = createRng(1);
    a.next();
    const fa = a.fork("sampler").next();
    const fb = createRng(1).fork("sampler").next();
    expect(fa).toBe(fb);
    expect(createRng(1).fork("init").next()).not.toBe(fb);
  });

  it("shuffles a copy into a permutation and keeps ints in range", () => {
    const rng = createRng(3);
    const items = [1, 2, 3, 4, 5, 6];
    const s = rng.shuffle(items);
    expect([...s].sort()).toEqual(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 0; i < 1000; i++) {
      const v = rng.int(3);
      expect(v >= 0 && v < 3 && Number.isInteger(v)).toBe(true);
    }
    expect(() => rng.int(0)).toThrow(RangeError);
  });
});
