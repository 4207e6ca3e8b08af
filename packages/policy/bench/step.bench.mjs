// The demo model's training step and scoring at the main job's mini-batch
// shape (64 rows x 40 prompt + 60 response tokens; Qwen3, hidden 64, 2 layers,
// 4 query / 2 kv heads of 16, vocab 40): forward + backward of the mean
// log-prob, and scoring alone. Each measurement runs in its own process;
// with --baseline DIST (packages/policy/dist of another built checkout of this
// repository, e.g. a git worktree of an older commit) the two builds alternate
// --repeats times and the best of each is compared.
//
//   node bench/step.bench.mjs [--baseline ../../../before/packages/policy/dist] [--repeats 4]
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DEMO_MODEL_CONFIG } from "./demo-model.mjs";

const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    repeats: { type: "string", default: "4" },
    child: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  process.stdout.write(
    "usage: node bench/step.bench.mjs [--baseline DIST] [--repeats R]\n" +
      "  the demo model's training step (forward + backward) and scoring at 64 x 100 tokens;\n" +
      "  --baseline DIST alternates with another build of @tokenrl/policy (its dist folder)\n",
  );
  process.exit(0);
}

if (args.child) {
  // The build's own @tokenrl/core (its checkout's packages/core), so each process has one tfjs.
  const dist = pathToFileURL(`${resolve(args.child)}/`);
  const { initBackend, tf } = await import(new URL("../../core/dist/index.js", dist).href);
  const { createPolicy } = await import(new URL("index.js", dist).href);
  await initBackend({ backend: "wasm", log: null });
  const model = createPolicy(DEMO_MODEL_CONFIG, { seed: 1 });
  const [B, P, T] = [64, 40, 60];
  const input = {
    promptIds: tf.tensor2d(
      Array.from({ length: B * P }, (_, i) => 4 + (i % 30)),
      [B, P],
      "int32",
    ),
    promptMask: tf.ones([B, P]),
    responseIds: tf.tensor2d(
      Array.from({ length: B * T }, (_, i) => 4 + ((i * 7) % 30)),
      [B, T],
      "int32",
    ),
    responseMask: tf.ones([B, T]),
  };
  const vars = model.trainableVariables();
  const step = () =>
    tf.tidy(() => tf.variableGrads(() => tf.mean(model.scoreResponses(input).logProbs), vars).value.dataSync());
  const score = () => tf.tidy(() => model.scoreResponses(input).logProbs.dataSync());
  const best = (f) => {
    f();
    let b = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      f();
      b = Math.min(b, performance.now() - t);
    }
    return b;
  };
  process.stdout.write(JSON.stringify({ step: best(step), score: best(score) }));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const current = fileURLToPath(new URL("../dist", import.meta.url));
const builds = { current, ...(args.baseline ? { baseline: args.baseline } : {}) };
const results = Object.fromEntries(Object.keys(builds).map((k) => [k, []]));
for (let r = 0; r < Number(args.repeats); r++)
  for (const [name, dist] of Object.entries(builds))
    results[name].push(JSON.parse(execFileSync(process.execPath, [self, "--child", dist], { encoding: "utf8" })));
const min = (rs, k) => Math.min(...rs.map((x) => x[k]));
for (const [name, rs] of Object.entries(results))
  console.log(
    `${name.padEnd(8)} train step ${min(rs, "step").toFixed(1)} ms, scoring ${min(rs, "score").toFixed(1)} ms (best of ${rs.length})`,
  );
if (args.baseline)
  console.log(
    `baseline / current: train step ${(min(results.baseline, "step") / min(results.current, "step")).toFixed(2)}x, ` +
      `scoring ${(min(results.baseline, "score") / min(results.current, "score")).toFixed(2)}x`,
  );
