import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTask } from "@tokenrl/tasks";
import type { Task } from "@tokenrl/tasks";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";
import { train } from "../src/train.js";
import { TINY, deterministic, records, runCli, withStderr } from "./helpers.js";

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `trainer-${name}-`));

describe("train", () => {
  it("runs warm-up and HTPO: verl metric names, HTPO cells, checkpoints, summary.json, report", async () => {
    const out = tmp("run");
    const result = await train(resolveConfig(TINY, { out }), { progress: false });
    expect(result.completed).toBe(true);
    expect(records(out, "sft")).toHaveLength(20);
    const rl = records(out, "rl");
    expect(rl.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    const trained = rl.filter((r) => !r.skipped);
    expect(trained.length).toBeGreaterThan(0);
    for (const r of trained) {
      for (const k of [
        "actor/pg_loss",
        "actor/pg_clipfrac",
        "actor/ppo_kl",
        "actor/entropy",
        "actor/grad_norm",
        "critic/score/mean",
        "response_length/mean",
        "response_length/clip_ratio",
        "timing_s/gen",
        "timing_s/reward",
        "timing_s/update",
        "timing_s/step",
        "perf/throughput",
      ]) {
        expect(Number.isFinite(r[k]), k).toBe(true);
      }
      expect(Object.keys(r).filter((k) => /^actor\/cells\/.+\/tokens$/.test(k)).length).toBe(10);
    }
    const evals = records(out, "eval");
    expect(evals.map((r) => r.tag)).toEqual(["start", "afterWarmup", "periodic", "final"]);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(Object.keys(summary.heldOut)).toEqual(["start", "afterWarmup", "final"]);
    expect(summary.heldOut.final).toBe(evals.at(-1)["heldOut/pass@1"]);
    for (const v of Object.values(summary.heldOut)) expect(v as number).toBeGreaterThanOrEqual(0);
    expect(summary.configHash).toMatch(/^[0-9a-f]{16}$/);
    expect(summary.versions["@tokenrl/train"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(summary.timeS.rl).toBeGreaterThan(0);
    expect(Object.keys(summary.cellTokens)).toHaveLength(10);
    expect(readFileSync(join(out, "checkpoints", "latest_checkpointed_iteration.txt"), "utf8").trim()).toBe(
      "rl_step_000004",
    );
    for (const f of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "optimizer.safetensors",
      "trainer-state.json",
    ])
      expect(existsSync(join(out, "checkpoints", "rl_step_000004", f)), f).toBe(true);
    expect(readFileSync(result.reportPath, "utf8")).toContain("<svg");
    expect(readFileSync(join(out, "samples.jsonl"), "utf8").split("\n")[0]).toContain('"response"');

    // Re-running the finished run appends nothing (no second final evaluation).
    const before = readFileSync(join(out, "metrics.jsonl"), "utf8");
    const again = await train(resolveConfig(TINY, { out }), { progress: false });
    expect(again.completed).toBe(true);
    expect(readFileSync(join(out, "metrics.jsonl"), "utf8")).toBe(before);
  }, 240_000);

  // A short run whose one RL step is not skipped (same seeds): the worker-pool tests share it.
  const small = {
    ...TINY,
    sft: { ...TINY.sft, steps: 3 },
    rl: { ...TINY.rl, steps: 1 },
    eval: { examples: 4, every: 0 },
  };

  it("workers: 2 runs the warm-up and RL in a worker pool: the SFT losses of 1 worker, the plan in summary.json", async () => {
    const runs = [];
    for (const workers of [1, 2]) {
      const out = tmp(`workers${workers}`);
      const result = await train(resolveConfig({ ...small, workers }, { out }), { progress: false });
      expect(result.completed).toBe(true);
      runs.push({ out, summary: JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) });
    }
    expect(runs[0]!.summary.workers).toMatchObject({ policy: 1, reward: 0 });
    expect(runs[1]!.summary.workers).toMatchObject({ policy: 2, reward: 0 });
    expect(runs[1]!.summary.workers.reason).toMatch(/counts set explicitly/);
    // Data-parallel SFT gradients: the same loss from the same initial weights, float32-close after.
    const loss = (out: string) => records(out, "sft").map((r) => r["sft/loss"] as number);
    const [one, two] = runs.map((r) => loss(r.out));
    expect(two).toHaveLength(3);
    expect(Math.abs(two![0]! - one![0]!)).toBeLessThan(1e-5);
    for (let i = 1; i < 3; i++) expect(Math.abs(two![i]! - one![i]!)).toBeLessThan(1e-3);
    expect(records(runs[1]!.out, "rl")).toHaveLength(1);
    // The pool's task times beside each phase's wall time; none without a pool.
    const [rl1, rl2] = runs.map((r) => records(r.out, "rl")[0]!);
    for (const phase of ["gen", "old_log_prob", "update"]) {
      const busy = rl2![`workers/busy_s/${phase}`] as number;
      const critical = rl2![`workers/critical_s/${phase}`] as number;
      expect(critical).toBeGreaterThan(0);
      expect(busy).toBeGreaterThan(0);
      expect(critical).toBeLessThanOrEqual((rl2![`timing_s/${phase}`] as number) + 1e-9);
      expect(rl1![`workers/busy_s/${phase}`]).toBeUndefined();
    }
  }, 240_000);

  it("beforeStep is awaited before each SFT and RL step with the step about to run, across a resume; a throw ends the run", async () => {
    const out = tmp("before-step");
    const calls: string[] = [];
    const hook = async (phase: "sft" | "rl", step: number) => {
      // Nothing of this step is written before the hook, nor while it waits (awaited, not just called:
      // a step of this model takes a few ms, so an unawaited hook would see its record after 500 ms).
      const before = records(out, phase).length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      calls.push(`${phase} ${step} ${before}/${records(out, phase).length}`);
    };
    const config = resolveConfig({ ...small, workers: 2 }, { out });
    const first = await train(config, { progress: false, stopAfterSteps: 2, beforeStep: hook });
    expect(first.completed).toBe(false);
    await train(config, { progress: false, beforeStep: hook });
    expect(calls).toEqual(["sft 1 0/0", "sft 2 1/1", "sft 3 2/2", "rl 1 0/0"]);
    const failing = tmp("before-step-throws");
    await expect(
      train(resolveConfig({ ...small, workers: 2 }, { out: failing }), {
        progress: false,
        beforeStep: (phase, step) => {
          if (phase === "sft" && step === 2) throw new Error("paused for good");
        },
      }),
    ).rejects.toThrow("paused for good");
    expect(records(failing, "sft")).toHaveLength(1);
    // The pool and the run lock were let go: the same folder resumes from its checkpoint and finishes.
    const resumed = await train(resolveConfig({ ...small, workers: 2 }, { out: failing }), { progress: false });
    expect(resumed.completed).toBe(true);
    expect(records(failing, "sft")).toHaveLength(3);
  }, 240_000);

  it("exclusiveWorkers queues the pool's tasks (each phase lasts at least its tasks together) and says so; no pool is an error", async () => {
    const out = tmp("exclusive");
    await train(resolveConfig({ ...small, workers: 2 }, { out }), { progress: false, exclusiveWorkers: true });
    const rl = records(out, "rl")[0]!;
    for (const phase of ["gen", "old_log_prob", "update"])
      expect(rl[`timing_s/${phase}`] as number).toBeGreaterThanOrEqual(rl[`workers/busy_s/${phase}`] as number);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).workers).toMatchObject({
      policy: 2,
      exclusive: true,
    });
    const none = tmp("exclusive-none");
    await expect(
      train(resolveConfig({ ...small, workers: 1 }, { out: none }), { progress: false, exclusiveWorkers: true }),
    ).rejects.toThrow(/exclusiveWorkers.*no pool/);
    expect(existsSync(join(none, "metrics.jsonl"))).toBe(false);
  }, 240_000);

  it("says at most 5 distinct verify errors a run, the last with a note, and the held-out eval's too", async () => {
    const inner = createTask({ name: "addition", length: 1, seed: 0 });
    let calls = 0;
    const broken: Task = {
      ...inner,
      verify: () => Promise.reject(new Error(`verifier down #${++calls}`)),
      close: () => inner.close(),
    } as Task;
    const { written } = await withStderr(() =>
      train(
        resolveConfig(TINY, {
          out: tmp("warn-cap"),
          sft: { steps: 0 },
          eval: { examples: 4, every: 0 },
          rl: { ...TINY.rl, steps: 8 },
        }),
        { progress: false, task: broken },
      ),
    );
    const warned = written.filter((l) => l.includes("verifications failed and scored 0"));
    expect(calls).toBeGreaterThan(5);
    expect(warned).toHaveLength(5);
    expect(warned[0]).toMatch(
      /^tokenrl-train: held-out eval at step 0: 4 of 4 verifications failed .*verifier down #1/,
    );
    expect(warned[1]).toMatch(/^tokenrl-train: step 1: /);
    expect(warned[4]).toMatch(/further distinct errors: reward\/verify_failures in metrics\.jsonl only/);
    expect(warned.slice(0, 4).every((l) => !l.includes("further distinct"))).toBe(true);
  }, 240_000);

  it("refuses to resume a checkpoint of another configuration, before rewriting config.json", async () => {
    const out = tmp("mismatch");
    await train(resolveConfig(TINY, { out, sft: { steps: 2 }, rl: { ...TINY.rl, steps: 1 } }), { progress: false });
    const config = readFileSync(join(out, "config.json"), "utf8");
    await expect(
      train(resolveConfig(TINY, { out, sft: { steps: 2 }, rl: { ...TINY.rl, groupSize: 2 } }), { progress: false }),
    ).rejects.toThrow(/was written by a run with a different configuration/);
    expect(readFileSync(join(out, "config.json"), "utf8")).toBe(config);
  }, 120_000);

  it("a verifier that throws or hangs fails those samples (reward 0, counted), never the run", async () => {
    const out = tmp("reward-guard");
    const inner = createTask({ name: "addition", length: 1, seed: 0 });
    let calls = 0;
    const flaky: Task = {
      ...inner,
      verify: (requests) => {
        calls++;
        if (calls % 3 === 1) return Promise.reject(new Error("verifier crashed"));
        if (calls % 3 === 2) return new Promise(() => undefined); // hangs
        return inner.verify(requests);
      },
      close: () => inner.close(),
    } as Task;
    const { result, written } = await withStderr(() =>
      train(
        resolveConfig(TINY, {
          out,
          sft: { steps: 2 },
          eval: { examples: 4, every: 0 },
          rl: { ...TINY.rl, steps: 3 },
          task: { ...TINY.task, verifyTimeoutMs: 200 },
        }),
        { progress: false, task: flaky },
      ),
    );
    expect(result.completed).toBe(true);
    const failures = records(out, "rl").reduce((a, r) => a + (r["reward/verify_failures"] ?? 0), 0);
    expect(failures).toBeGreaterThan(0);
    // Said on stderr with the cause, once per distinct error (not once per step).
    const warned = written.filter((l) => l.includes("verifications failed and scored 0"));
    expect(warned.length).toBeGreaterThan(0);
    expect(
      warned.filter((l) => !/verify threw: Error: verifier crashed|verify timed out after 200 ms/.test(l)),
    ).toEqual([]);
    expect(new Set(warned.map((l) => l.replace(/^.*e\.g\. /, ""))).size).toBe(warned.length);
  }, 120_000);

  it("--fresh makes a new KL reference; a broken reference/ is an error", async () => {
    const out = tmp("reference");
    const args = ["--out", out, "--quiet", "--preset", "grpo", "--set", "rl.steps=1"];
    const base = [
      "--set",
      "workers=1",
      "--set",
      "task.name=addition",
      "--set",
      'task.options={"length":1}',
      "--set",
      'model={"hiddenSize":16,"intermediateSize":32,"numLayers":1,"numHeads":2,"numKvHeads":1,"maxPositionEmbeddings":32}',
      "--set",
      "sft.steps=2",
      "--set",
      "eval.examples=4",
      "--set",
      "rl.promptsPerStep=2",
      "--set",
      "rl.groupSize=2",
    ];
    expect((await runCli([...args, ...base])).code).toBe(0);
    const refWeights = () => readFileSync(join(out, "reference", "model.safetensors"));
    const first = refWeights();
    // A different seed: a fresh run must build its reference from its own policy, not reuse the old one.
    expect((await runCli([...args, ...base, "--fresh", "--set", "seed=5"])).code).toBe(0);
    expect(refWeights().equals(first)).toBe(false);
    writeFileSync(join(out, "reference", "config.json"), "{");
    const broken = await runCli([...args, ...base, "--set", "seed=5", "--set", "rl.steps=2"]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/reference model .*reference is broken/);
  }, 180_000);

  it("a second trainer on the same --out is refused while the first runs", async () => {
    const out = tmp("lock");
    const config = join(out, "..", `${out.split("/").pop()}.json`);
    writeFileSync(config, JSON.stringify({ ...TINY, sft: { ...TINY.sft, steps: 400 } }));
    const first = runCli(["--config", config, "--out", out, "--quiet"], {});
    // Wait for the first one to hold the lock.
    for (let i = 0; i < 400 && !existsSync(join(out, ".lock")); i++) await new Promise((r) => setTimeout(r, 50));
    const second = await runCli(["--config", config, "--out", out, "--quiet"]);
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toMatch(/^tokenrl-train: run folder .* is in use by another trainer \(pid \d+ /);
    const lock = JSON.parse(readFileSync(join(out, ".lock"), "utf8"));
    process.kill(lock.pid, "SIGKILL");
    await first;
  }, 120_000);

  it("kill -9 mid-step then resume gives the metrics and weights of an uninterrupted run (cosine LR with warm-up)", async () => {
    const dir = tmp("kill");
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        ...TINY,
        rl: { ...TINY.rl, steps: 6 },
        eval: { examples: 4, every: 0 },
        optim: { lrScheduler: { type: "cosine", warmupSteps: 2, minLrRatio: 0.1 } },
      }),
    );
    const straight = join(dir, "straight");
    const killed = join(dir, "killed");
    expect((await runCli(["--config", config, "--out", straight, "--quiet"])).code).toBe(0);
    const r = await runCli(["--config", config, "--out", killed, "--quiet"], {
      killWhen: () => records(killed, "rl").length >= 3,
    });
    expect(r.signal).toBe("SIGKILL");
    expect(records(killed, "rl").length).toBeLessThan(6);
    const resumed = await runCli(["--config", config, "--out", killed, "--quiet"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^resumed; /);
    const lrs = records(straight, "rl")
      .map((x) => x["actor/lr"])
      .filter((x) => x !== undefined);
    expect(new Set(lrs).size).toBeGreaterThan(2); // the schedule moved
    expect(deterministic(records(killed))).toEqual(deterministic(records(straight)));
    const weights = (out: string) => readFileSync(join(out, "checkpoints", "rl_step_000006", "model.safetensors"));
    expect(weights(killed).equals(weights(straight))).toBe(true);
    expect(readdirSync(join(killed, "checkpoints")).filter((n) => n.startsWith(".tmp"))).toEqual([]);
  }, 240_000);
});
