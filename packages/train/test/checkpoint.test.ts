import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tf, useBackend } from "@tokenrl/core";
import type { Scalar } from "@tokenrl/core";
import { CharTokenizer, float32ToRaw, readSafetensors, writeSafetensors } from "@tokenrl/policy";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW } from "../src/index.js";
import {
  POINTER_FILE,
  RunFolderLockedError,
  loadLatestCheckpoint,
  loadOrCreateReference,
  lockRunFolder,
  saveCheckpoint,
  validateTrainingState,
} from "../src/node/index.js";
import type { TrainingState } from "../src/node/index.js";
import { tinyPolicy } from "./helpers.js";

beforeAll(async () => {
  await useBackend("wasm");
});

const child = fileURLToPath(new URL("./fixtures/checkpoint-child.ts", import.meta.url));
const runChild = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", child, ...args], { encoding: "utf8", timeout: 60_000 });

const state = (step: number, extra: Partial<TrainingState> = {}): TrainingState => ({
  version: 1,
  phase: "rl",
  step,
  nextExample: step * 4,
  rng: { seed: 7, draws: step },
  optimizerPhase: "rl",
  optimizerStep: 0,
  configHash: "abc",
  finished: false,
  ...extra,
});

function trainedOnce() {
  const model = tinyPolicy(3);
  const optimizer = new AdamW(model.trainableVariables(), { lr: 0.01, schedule: { type: "cosine", totalSteps: 10 } });
  const v = model.trainableVariables();
  optimizer.minimize(() => tf.addN(v.map((w) => tf.sum(tf.square(w)))) as Scalar);
  return { model, optimizer, tokenizer: new CharTokenizer("abcdefgh") };
}

describe("training checkpoints", () => {
  it("round-trips weights, optimiser moments and step, and the state; keeps the last K", async () => {
    const root = mkdtempSync(join(tmpdir(), "train-ckpt-"));
    const { model, optimizer, tokenizer } = trainedOnce();
    for (const step of [1, 2, 3])
      await saveCheckpoint(root, { model, tokenizer, optimizer, state: state(step) }, { keepLast: 2 });
    expect(
      readdirSync(root)
        .filter((n) => n.startsWith("rl_"))
        .sort(),
    ).toEqual(["rl_step_000002", "rl_step_000003"]);
    expect(readFileSync(join(root, POINTER_FILE), "utf8").trim()).toBe("rl_step_000003");
    const loaded = (await loadLatestCheckpoint(root))!;
    expect(loaded.state).toEqual(state(3, { optimizerStep: 1 }));
    expect(loaded.optimizerState.step).toBe(1);
    const saved = await optimizer.state();
    expect(loaded.optimizerState.tensors.map((t) => t.name)).toEqual(saved.tensors.map((t) => t.name));
    expect(loaded.optimizerState.tensors[3]!.values).toEqual(saved.tensors[3]!.values);
    const a = model.trainableVariables().map((w) => Array.from(w.dataSync()));
    const b = loaded.model.trainableVariables().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    // Saving the same (phase, step) again replaces it through its twin folder; the pointer always names a whole one.
    await saveCheckpoint(root, { model, tokenizer, optimizer, state: state(3, { finished: true }) });
    expect((await loadLatestCheckpoint(root))!.state.finished).toBe(true);
    loaded.model.dispose();
    model.dispose();
    optimizer.dispose();
  });

  it("a kill between the new folder and the pointer swap leaves the previous checkpoint, and the next save cleans up", async () => {
    const root = mkdtempSync(join(tmpdir(), "train-ckpt-kill-"));
    expect(runChild("save", root, "1").status).toBe(0);
    const killed = runChild("save", root, "2", "kill");
    expect(killed.signal).toBe("SIGKILL");
    // The new folder is complete but not pointed to: loading gives step 1, not a fresh start.
    expect(existsSync(join(root, "rl_step_000002"))).toBe(true);
    const loaded = (await loadLatestCheckpoint(root))!;
    expect(loaded.state.step).toBe(1);
    loaded.model.dispose();
    // A temp folder left by a save killed mid-write (or by ENOSPC) never blocks a retry.
    mkdirSync(join(root, ".tmp-rl_step_000003-99999"));
    writeFileSync(join(root, ".tmp-rl_step_000003-99999", "model.safetensors"), "partial");
    expect(runChild("save", root, "3").status).toBe(0);
    expect(readdirSync(root).filter((n) => n.startsWith(".tmp"))).toEqual([]);
    const after = (await loadLatestCheckpoint(root))!;
    expect(after.state.step).toBe(3);
    after.model.dispose();
  }, 60_000);

  it("validates the state file like a config before using anything", async () => {
    const root = mkdtempSync(join(tmpdir(), "train-ckpt-state-"));
    const { model, optimizer, tokenizer } = trainedOnce();
    const dir = await saveCheckpoint(root, { model, tokenizer, optimizer, state: state(2) });
    const path = join(dir, "trainer-state.json");
    const good = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...good, step: "abc" }));
    await expect(loadLatestCheckpoint(root)).rejects.toThrow(
      /trainer-state.json: invalid trainer state: step: bad value "abc"; /,
    );
    writeFileSync(path, "null");
    await expect(loadLatestCheckpoint(root)).rejects.toThrow(/\(top level\): bad value null/);
    writeFileSync(path, JSON.stringify({ ...good, extra: 1 }));
    await expect(loadLatestCheckpoint(root)).rejects.toThrow("extra: unknown key");
    writeFileSync(path, "{not json");
    await expect(loadLatestCheckpoint(root)).rejects.toThrow("unreadable trainer state");
    expect(() => validateTrainingState({ ...good, phase: "ppo" })).toThrow('phase: bad value "ppo"');
    writeFileSync(join(root, POINTER_FILE), "../../etc\n");
    await expect(loadLatestCheckpoint(root)).rejects.toThrow("expected a checkpoint folder name");
    model.dispose();
    optimizer.dispose();
  });

  it("NaN in loaded weights is an error naming the weight", async () => {
    const root = mkdtempSync(join(tmpdir(), "train-ckpt-nan-"));
    const { model, optimizer, tokenizer } = trainedOnce();
    const dir = await saveCheckpoint(root, { model, tokenizer, optimizer, state: state(1) });
    const file = await readSafetensors(join(dir, "model.safetensors"));
    const [name, raw] = [...file.tensors][0]!;
    const values = new Float32Array(
      raw.bytes.buffer.slice(raw.bytes.byteOffset, raw.bytes.byteOffset + raw.bytes.byteLength),
    );
    values[0] = Number.NaN;
    const tensors = new Map(file.tensors);
    tensors.set(name, float32ToRaw(values, raw.shape, "F32"));
    await writeSafetensors(join(dir, "model.safetensors"), tensors);
    await expect(loadLatestCheckpoint(root)).rejects.toThrow(/holds 1 NaN\/Inf value\(s\); the checkpoint is corrupt/);
    await expect(loadOrCreateReference(dir, { model, tokenizer })).rejects.toThrow(/reference model .* holds 1 NaN/);
    model.dispose();
    optimizer.dispose();
  });

  it("a broken reference/ is an error, never replaced by the current policy", async () => {
    const root = mkdtempSync(join(tmpdir(), "train-ref-"));
    const { model, optimizer, tokenizer } = trainedOnce();
    const dir = join(root, "reference");
    const ref = await loadOrCreateReference(dir, { model, tokenizer });
    ref.dispose();
    writeFileSync(join(dir, "config.json"), "{");
    await expect(loadOrCreateReference(dir, { model, tokenizer })).rejects.toThrow(/reference model .* is broken/);
    model.dispose();
    optimizer.dispose();
  });
});

describe("run-folder lock", () => {
  it("refuses a second trainer on the same folder and takes over a lock whose process died", async () => {
    const dir = mkdtempSync(join(tmpdir(), "train-lock-"));
    const holder = spawn(process.execPath, ["--import", "tsx", child, "lock", dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    expect(() => lockRunFolder(dir)).toThrow(RunFolderLockedError);
    expect(() => lockRunFolder(dir)).toThrow(
      new RegExp(`run folder ${dir} is in use by another trainer \\(pid ${holder.pid} `),
    );
    holder.kill("SIGKILL");
    await new Promise((resolve) => holder.once("exit", resolve));
    const lock = lockRunFolder(dir);
    expect(JSON.parse(readFileSync(lock.path, "utf8")).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  }, 60_000);
});
