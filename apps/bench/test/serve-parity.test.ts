import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf } from "@tokenrl/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../src/commands/eval.js";
import { startServer } from "../src/commands/serve.js";
import { loadLocal } from "../src/engine.js";
import { tinyCheckpoint, writeBenchmark } from "./helpers.js";

let ckpt: string;
let bench: string;
beforeAll(async () => {
  ckpt = await tinyCheckpoint();
  bench = writeBenchmark([
    { id: "a", problem: "What is 1+1?", answer: "2" },
    { id: "b", problem: "What is 2+3?", answer: "5" },
    { id: "c", problem: "What is 7-4?", answer: "3" },
  ]);
});

function samples(dir: string) {
  return readFileSync(join(dir, "samples.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .sort((x, y) => x.problemId.localeCompare(y.problemId) || x.sample - y.sample);
}

describe("eval against serve over loopback", () => {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  afterAll(async () => server?.server.close());

  it("gives the same samples and scores as eval on the local checkpoint with the same seed", async () => {
    const common = {
      benchmark: bench,
      n: 3,
      ks: [1, 2, 3],
      temperature: 1,
      topP: 1,
      maxTokens: 12,
      seed: 11,
      quiet: true,
    };
    const localOut = mkdtempSync(join(tmpdir(), "bench-local-"));
    // loadPolicy + dispose alone leaves the variables' initial tensors (a policy issue, reported);
    // generating and scoring 9 samples must add nothing beyond that.
    const t0 = tf.memory().numTensors;
    (await loadLocal(ckpt)).policy.model.dispose();
    const loadLeak = tf.memory().numTensors - t0;
    const before = tf.memory().numTensors;
    const local = await evaluate({ ...common, model: ckpt, concurrency: 1, out: localOut });
    expect(tf.memory().numTensors - before).toBe(loadLeak);

    server = await startServer({ model: ckpt, port: 0, name: "tiny" });
    const remoteOut = mkdtempSync(join(tmpdir(), "bench-remote-"));
    const remote = await evaluate({
      ...common,
      model: "tiny",
      baseUrl: server.url,
      api: "completions",
      // One request at a time: the server batches concurrent requests together, and a different
      // batch shape may flip a sample by float round-off (rollout's server tests cover mixed batches).
      concurrency: 1,
      out: remoteOut,
    });
    const a = samples(localOut);
    const b = samples(remoteOut);
    expect(a).toHaveLength(9);
    // The same text, extracted answer and verdict for every (problem, sample), from the same seed.
    expect(b.map((r) => [r.problemId, r.sample, r.seed, r.response, r.extracted, r.correct])).toEqual(
      a.map((r) => [r.problemId, r.sample, r.seed, r.response, r.extracted, r.correct]),
    );
    // Not one text repeated: the n samples of a problem are different draws.
    expect(new Set(a.map((r) => r.response)).size).toBeGreaterThan(3);
    expect(remote.results.metrics).toEqual(local.results.metrics);
    expect(remote.results.stderr).toEqual(local.results.stderr);
  });
});
