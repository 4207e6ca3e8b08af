import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { VerifierPool } from "../src/pool.js";

// A prediction whose extraction regexes take seconds (tens of thousands of "$"
// openings, each scanned to the end): the pathological input of the test.
const PATHOLOGICAL = "$1+".repeat(60_000);

describe("VerifierPool", () => {
  const pool = new VerifierPool({ concurrency: 2, timeoutMs: 400 });
  afterAll(() => pool.close());

  it("verifies a batch in input order", async () => {
    const results = await pool.verifyBatch([
      { gold: "$\\frac{1}{2}$", prediction: "\\boxed{0.5}" },
      { gold: "$3$", prediction: "\\boxed{4}" },
      { gold: "$(1,2]$", prediction: "the interval is $(1, 2]$" },
    ]);
    expect(results.map((r) => r.equal)).toEqual([true, false, true]);
  });

  it("times a pathological input out within its limit while the rest of the batch completes", async () => {
    const started = performance.now();
    const pairs = [
      { gold: "$5$", prediction: "\\boxed{5}" },
      { gold: "$5$", prediction: PATHOLOGICAL },
      { gold: "$x+1$", prediction: "\\boxed{1+x}" },
      { gold: "$7$", prediction: "\\boxed{8}" },
    ];
    const results = await pool.verifyBatch(pairs);
    const elapsed = performance.now() - started;
    expect(results[1]).toMatchObject({ equal: false, error: "timeout" });
    expect(results.filter((_, i) => i !== 1).map((r) => [r.equal, r.error])).toEqual([
      [true, undefined],
      [true, undefined],
      [false, undefined],
    ]);
    // 400 ms limit + worker restart; far below the seconds the input takes in-thread.
    expect(elapsed).toBeLessThan(3000);
    expect(pool.timeouts).toBe(1);
    // The replaced worker keeps serving.
    expect((await pool.verify("$2$", "\\boxed{2}")).equal).toBe(true);
  });

  it("sends pairs ahead to a worker, and the ones behind a timed-out pair go to its replacement", async () => {
    // One worker: the pathological pair goes ahead behind the first one, a good pair behind it, the last waits in the queue.
    const single = new VerifierPool({ concurrency: 1, timeoutMs: 400 });
    try {
      expect(single.pipelineDepth).toBe(4);
      const started = performance.now();
      const results = await single.verifyBatch([
        { gold: "$5$", prediction: "\\boxed{5}" },
        { gold: "$5$", prediction: PATHOLOGICAL },
        { gold: "$x+1$", prediction: "\\boxed{1+x}" },
        { gold: "$7$", prediction: "\\boxed{8}" },
      ]);
      expect(results.map((r) => [r.equal, r.error])).toEqual([
        [true, undefined],
        [false, "timeout"],
        [true, undefined],
        [false, undefined],
      ]);
      expect(single.timeouts).toBe(1);
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      await single.close();
    }
    expect(() => new VerifierPool({ pipelineDepth: 0 })).toThrow(/pipelineDepth: must be an integer from 1 to 64/);
  });

  it("sends nothing ahead while a worker is free for it: short pairs do not wait behind a slow one", async () => {
    const two = new VerifierPool({ concurrency: 2, timeoutMs: 1000 });
    try {
      await two.verifyBatch(Array.from({ length: 8 }, () => ({ gold: "$1$", prediction: "\\boxed{1}" }))); // both started
      const started = performance.now();
      const at = (p: Promise<unknown>) => p.then(() => performance.now() - started);
      const [slow, ...fast] = await Promise.all([
        at(two.verify("$5$", PATHOLOGICAL)),
        ...["1", "2", "3"].map((n) => at(two.verify(`$${n}$`, `\\boxed{${n}}`))),
      ]);
      expect(slow).toBeGreaterThan(900);
      // One at a time on the other worker, not queued behind the pathological pair until its deadline.
      for (const ms of fast) expect(ms).toBeLessThan(500);
    } finally {
      await two.close();
    }
  });

  it("replaces an idle worker that died instead of timing a pair out on it", async () => {
    const one = new VerifierPool({ concurrency: 1, timeoutMs: 2000 });
    try {
      expect((await one.verify("$1$", "\\boxed{1}")).equal).toBe(true);
      // As if the OS killed the idle thread (out of memory): the pool only sees it exit.
      const slots = (one as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
      await slots[0]!.worker.terminate();
      await new Promise((r) => setTimeout(r, 20));
      const started = performance.now();
      expect(await one.verify("$2$", "\\boxed{2}")).toMatchObject({ equal: true });
      expect(performance.now() - started).toBeLessThan(1500);
      expect(one.timeouts).toBe(0);
    } finally {
      await one.close();
    }
  });

  it("fails the queue when a worker exits before it is ready, instead of leaving it waiting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "verifier-exit-"));
    const script = join(dir, "worker.mjs");
    writeFileSync(script, "process.exit(3);\n");
    const broken = new VerifierPool({ concurrency: 1, workerUrl: pathToFileURL(script) });
    try {
      const result = await Promise.race([
        broken.verify("$1$", "\\boxed{1}"),
        new Promise((r) => setTimeout(() => r("still waiting"), 3000)),
      ]);
      expect(result).toMatchObject({ equal: false, error: "compare_error" });
      expect(broken.startupError?.message).toMatch(/exited \(code 3\) before it was ready/);
    } finally {
      await broken.close();
    }
  });

  it("answers non-string input with invalid_input instead of throwing", async () => {
    const r = await pool.verify(42 as unknown as string, "1");
    expect(r).toMatchObject({ equal: false, error: "invalid_input" });
  });

  it("rejects a bad concurrency with a ConfigError naming the field", () => {
    expect(() => new VerifierPool({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new VerifierPool({ concurrency: 100_000 })).toThrow(/concurrency/);
  });

  it("rejects a timeout setTimeout cannot hold (it would fire at once) instead of timing everything out", async () => {
    expect(() => new VerifierPool({ timeoutMs: 2 ** 31 })).toThrow(
      /timeoutMs: must be an integer from 1 to 2147483647/,
    );
    await expect(pool.verify("$1$", "1", 1e12)).rejects.toThrow(/timeoutMs/);
  });
});
