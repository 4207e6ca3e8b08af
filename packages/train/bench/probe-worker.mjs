// The worker side of headroom.mjs's `probeHeadroom`: one unit of work run once
// to warm up, "ready", then on "go" `workerData.units` units timed together,
// answered with their milliseconds. Each probe script calls it with its unit.
import { parentPort, workerData } from "node:worker_threads";

export function serveUnits(unit) {
  unit(); // warm-up: compile and first allocations
  parentPort.postMessage("ready");
  parentPort.once("message", () => {
    const started = performance.now();
    for (let i = 0; i < workerData.units; i++) unit();
    parentPort.postMessage(performance.now() - started);
  });
}
