import { parentPort } from "node:worker_threads";
import { verifySync, type VerifyOptions } from "./verify.js";

/** Worker side of VerifierPool: one verification per message, answered with the same id. */
interface Task {
  id: number;
  gold: string;
  prediction: string;
  options: VerifyOptions;
}

// Compile the extraction patterns before saying ready, so start-up time is not
// charged to the first task's deadline.
verifySync("$1$", "1");
parentPort?.postMessage({ ready: true });

parentPort?.on("message", (task: Task) => {
  try {
    const result = verifySync(task.gold, task.prediction, task.options);
    parentPort!.postMessage({ id: task.id, result });
  } catch (err) {
    parentPort!.postMessage({
      id: task.id,
      result: { equal: false, error: "compare_error", goldParsed: null, predictionParsed: null },
      message: err instanceof Error ? err.message : String(err),
    });
  }
});
