// The machine's spare parallelism, printed beside every worker benchmark so
// that a speed-up is read against what the cores could give at that moment.
import { Worker } from "node:worker_threads";

/**
 * The machine's parallel headroom right now: the same pure-JS work in 1 and
 * in 2 threads. On an idle 2-core machine 2 threads finish in about half the
 * time (~2x); when other processes fill the cores it drops toward 1x, and so
 * does any worker speed-up measured beside it.
 */
export async function headroom(total = 2e8) {
  const code = `const { parentPort, workerData } = require("node:worker_threads");
    let x = 0; for (let i = 0; i < workerData; i++) x += Math.sqrt(i); parentPort.postMessage(x);`;
  const run = async (n) => {
    const t = performance.now();
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: total / n });
            w.once("message", () => w.terminate().then(resolve));
            w.once("error", reject);
          }),
      ),
    );
    return performance.now() - t;
  };
  const one = await run(1);
  const two = await run(2);
  return one / two;
}
