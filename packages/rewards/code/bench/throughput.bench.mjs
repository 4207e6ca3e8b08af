// Test executions per second for a trivial Python stdin solution, all cores, full sandbox.
// Usage: pnpm bench   (after pnpm build). Env: BENCH_TESTS (default 200).
import { availableParallelism } from "node:os";
import { CodeRunner } from "../dist/index.js";

const tests = Number(process.env.BENCH_TESTS ?? 200);
const runner = CodeRunner.create({ limits: { timeLimitSec: 6 } });
console.error(`isolation: ${runner.describe()}`);
const sample = {
  language: "python",
  code: "a, b = map(int, input().split())\nprint(a + b)",
  tests: {
    inputs: Array.from({ length: tests }, (_, i) => `${i} ${i + 1}\n`),
    outputs: Array.from({ length: tests }, (_, i) => `${2 * i + 1}\n`),
  },
};
await runner.run({
  ...sample,
  tests: { inputs: sample.tests.inputs.slice(0, 4), outputs: sample.tests.outputs.slice(0, 4) },
});
const t0 = performance.now();
const r = await runner.run(sample);
const secs = (performance.now() - t0) / 1000;
const passed = r.results.filter((x) => x === "pass").length;
if (passed !== tests) throw new Error(`expected all ${tests} tests to pass, got ${passed}`);
console.log(
  `python trivial stdin: ${tests} test executions in ${secs.toFixed(2)} s = ${(tests / secs).toFixed(1)} tests/s ` +
    `(concurrency ${runner.concurrency} of ${availableParallelism()} cores)`,
);
runner.close();
