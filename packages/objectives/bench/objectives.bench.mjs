#!/usr/bin/env node
// Loss + gradient throughput (tokens/s) of every objective at B x T = 64 x 2048.
// Usage: node bench/objectives.bench.mjs [--backend wasm|cpu] [--iters N] [--only name,name] [--kernels auto|host|tensor]
// Build first (pnpm build): this imports dist/.
import { parseArgs } from "node:util";
import { createRng, initBackend, setKernelPath, tf } from "@tokenrl/core";
import { composeObjective, lossAndGrad, objectives } from "../dist/index.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "wasm" },
    iters: { type: "string", default: "100" },
    only: { type: "string" },
    kernels: { type: "string", default: "auto" },
    B: { type: "string", default: "64" },
    T: { type: "string", default: "2048" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(
    "node bench/objectives.bench.mjs [--backend wasm|cpu] [--iters N] [--only ppo-clip,htpo] [--kernels auto|host|tensor] [--B 64] [--T 2048]",
  );
  process.exit(0);
}
await initBackend({ backend: values.backend });
// auto: fused host kernels on wasm/cpu, op chains elsewhere; tensor: force the op chains (for comparison).
setKernelPath(values.kernels);
const B = Number(values.B);
const T = Number(values.T);
const iters = Number(values.iters);
const WARMUP = 5;
const rng = createRng(7);

// A realistic batch: lengths 25%..100% of T, groups of 8, log-probs near the old ones.
const fill = (f) => Array.from({ length: B }, (_, i) => Array.from({ length: T }, (_, t) => f(i, t)));
const lengths = Array.from({ length: B }, () => rng.int(Math.floor(T / 4), T + 1));
const responseMask = fill((i, t) => (t < lengths[i] ? 1 : 0));
const oldLp = fill(() => -Math.abs(rng.normal()) * 1.5);
const logp = oldLp.map((row) => row.map((v) => v + rng.normal() * 0.1));
const rollout = oldLp.map((row) => row.map((v) => v + rng.normal() * 0.02));
const correct = Array.from({ length: B }, () => (rng.next() < 0.5 ? 1 : 0));
const groupIds = Array.from({ length: B }, (_, i) => Math.floor(i / 8));
const adv = fill((i) => (correct[i] ? 1 : -1) * (0.5 + rng.next()));
const entropy = fill(() => Math.abs(rng.normal()) * 2);

const batch = {
  responseMask: tf.tensor2d(responseMask),
  logProbs: tf.tensor2d(logp),
  oldLogProbs: tf.tensor2d(oldLp),
  rolloutLogProbs: tf.tensor2d(rollout),
  refLogProbs: tf.tensor2d(oldLp),
  advantages: tf.tensor2d(adv),
  entropy: tf.tensor2d(entropy),
  correct: tf.tensor1d(correct),
  groupIds: tf.tensor1d(groupIds, "int32"),
};

const cases = {
  "ppo-clip": (b) => objectives.get("ppo-clip").compute(b, { clipHigh: 0.28 }),
  gspo: (b) => objectives.get("gspo").compute(b),
  sapo: (b) => objectives.get("sapo").compute(b),
  cispo: (b) => objectives.get("cispo").compute(b),
  htpo: (b) => objectives.get("htpo").compute(b),
  cppo: (b) => objectives.get("cppo").compute(b),
  "ppo-clip+k3": composeObjective({ policy: "ppo-clip", kl: { coef: 0.001, estimator: "k3" } }),
};
const only = values.only ? values.only.split(",") : Object.keys(cases);
const tokens = B * T;
console.log(
  `backend ${tf.getBackend()}, B x T = ${B} x ${T}, ${iters} timed calls after ${WARMUP} warm-up calls; ` +
    "ms/call = mean wall time; median = median wall time per call; cpu = process CPU time per call (less sensitive to a shared machine)",
);
const results = {};
for (const name of only) {
  const run = () => {
    const r = lossAndGrad(cases[name], batch);
    r.loss.dataSync();
    r.grad.dataSync();
    tf.dispose([r.loss, r.grad, ...Object.values(r.metrics)]);
  };
  for (let i = 0; i < WARMUP; i++) run();
  const before = tf.memory().numTensors;
  const times = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const ms = (performance.now() - start) / iters;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / iters;
  const median = times.sort((x, y) => x - y)[Math.floor(iters / 2)];
  const leaked = tf.memory().numTensors - before;
  results[name] = { ms, median, cpuMs };
  const rate = (t) => (tokens / t / 1000).toFixed(2).padStart(7);
  console.log(
    `${name.padEnd(12)} ${ms.toFixed(2).padStart(7)} ms/call ${rate(ms)} M tok/s | median ${median.toFixed(2).padStart(6)} ms ${rate(median)} M tok/s | cpu ${cpuMs.toFixed(2).padStart(6)} ms ${rate(cpuMs)} M tok/s${leaked ? `  LEAK ${leaked}` : ""}`,
  );
}
if (results["ppo-clip"]) {
  const base = results["ppo-clip"];
  for (const name of ["htpo", "cppo", "gspo", "sapo", "cispo"]) {
    const r = results[name];
    if (r) {
      console.log(
        `${name} / ppo-clip cost: mean ${(r.ms / base.ms).toFixed(2)}x, median ${(r.median / base.median).toFixed(2)}x, cpu ${(r.cpuMs / base.cpuMs).toFixed(2)}x`,
      );
    }
  }
}
