// The machine's spare parallelism, printed beside every worker benchmark so
// that a speed-up is read against what the cores could give at that moment.
import { Worker } from "node:worker_threads";

/**
 * The worker's next message; rejects if it fails or exits first. Its listeners
 * go when it settles, so a probe that asks many times does not pile them up.
 */
function reply(w) {
  return new Promise((resolve, reject) => {
    const off = () => {
      w.off("message", onMessage);
      w.off("error", onError);
      w.off("exit", onExit);
    };
    const onMessage = (m) => {
      off();
      resolve(m);
    };
    const onError = (err) => {
      off();
      reject(err);
    };
    const onExit = (code) => {
      off();
      reject(new Error(`headroom probe exited (code ${code}) before answering`));
    };
    w.on("message", onMessage);
    w.on("error", onError);
    w.on("exit", onExit);
  });
}

/**
 * The machine's parallel headroom right now: the same pure-JS work in 1 and
 * in 2 threads. On an idle 2-core machine 2 threads finish in about half the
 * time (~2x); when other processes fill the cores it drops toward 1x, and so
 * does any worker speed-up measured beside it. The threads are started and
 * warmed up before the clock starts: with their start-up (tens of ms each)
 * inside the timed part, an idle machine read 1.59x where the same loop in
 * warm threads ran 1.94-1.98x. The median of `rounds` alternations.
 */
export async function headroom(total = 2e8, rounds = 3) {
  const code = `const { parentPort } = require("node:worker_threads");
    const work = (n) => { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i); return x; };
    work(1e6);
    parentPort.postMessage("ready");
    parentPort.on("message", (n) => parentPort.postMessage(work(n)));`;
  const workers = [0, 1].map(() => new Worker(code, { eval: true }));
  try {
    await Promise.all(workers.map(reply));
    const run = async (n) => {
      const t = performance.now();
      const done = workers.slice(0, n).map(reply);
      for (const w of workers.slice(0, n)) w.postMessage(total / n);
      await Promise.all(done);
      return performance.now() - t;
    };
    const ratios = [];
    for (let r = 0; r < rounds; r++) ratios.push((await run(1)) / (await run(2)));
    return ratios.sort((a, b) => a - b)[Math.floor(rounds / 2)];
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * `units` of a probe script's work in 1 thread and split over 2, started
 * together once both threads have warmed up: 1 thread's time over 2 threads'.
 */
async function probeHeadroom(script, units) {
  if (!Number.isInteger(units) || units < 2 || units % 2 !== 0)
    throw new RangeError(`units: an even integer >= 2, got ${units}`);
  const run = async (n) => {
    const workers = Array.from({ length: n }, () => new Worker(script, { workerData: { units: units / n } }));
    try {
      await Promise.all(workers.map(reply)); // warmed up
      const done = workers.map(reply);
      for (const w of workers) w.postMessage("go");
      return Math.max(...(await Promise.all(done)));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  };
  const one = await run(1);
  const two = await run(2);
  return one / two;
}

/**
 * The same for the rollout's own work: batch-64 prefills and host-path decode
 * steps of the demo's model (wasm SIMD matmuls, attention over a KV cache
 * that outgrows L2), `units` of them in 1 thread and split over 2. Pure JS
 * can scale while this does not: on a VM whose cores share caches and
 * execution units with neighbours, this work slows when both cores run it.
 * This is the ceiling of a rollout split over two workers at that moment;
 * the workers' own costs (the split's tails, the prefill) come on top.
 */
export function decodeHeadroom(units = 4) {
  return probeHeadroom(new URL("./decode-probe.mjs", import.meta.url), units);
}

/**
 * The same for the update's work: the forward and backward of a 32-row shard
 * of the demo's model (`train-probe.mjs`), `units` of them in 1 thread and
 * split over 2: the ceiling of the data-parallel update at that moment.
 */
export function trainHeadroom(units = 4) {
  return probeHeadroom(new URL("./train-probe.mjs", import.meta.url), units);
}
