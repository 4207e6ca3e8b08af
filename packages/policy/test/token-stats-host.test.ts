import { afterAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { createRng, setKernelPath, tf, useBackend } from "@tokenrl/core";
import { tokenLogProbs, tokenLogProbsAndEntropy } from "../src/score.js";
import { maxAbsDiff, values } from "./helpers.js";

const [N, V] = [64, 40];

function inputs() {
  const rng = createRng(11);
  // Logits over a wide range (|x| up to 12), as a trained LM head gives, with one row all equal.
  const x = Array.from({ length: N * V }, (_, i) => (Math.floor(i / V) === 5 ? 0.5 : (rng.next() - 0.5) * 24));
  const t = Array.from({ length: N }, (_, i) => (i * 7) % V);
  const w = Array.from({ length: 2 * N }, () => rng.next() - 0.5);
  return {
    logits: tf.tensor2d(x, [N, V]),
    targets: tf.tensor1d(t, "int32"),
    wLp: tf.tensor1d(w.slice(0, N)),
    wH: tf.tensor1d(w.slice(N)),
  };
}

/** Values and gradient of a weighted log-prob (+ entropy) loss, on the kernel path given. */
function run(path: "host" | "tensor", entropy: boolean) {
  setKernelPath(path);
  const { logits, targets, wLp, wH } = inputs();
  const loss = (x: tf.Tensor) => {
    if (!entropy) return tf.sum(tf.mul(tokenLogProbs(x, targets), wLp)) as tf.Scalar;
    const [lp, h] = tokenLogProbsAndEntropy(x, targets);
    return tf.add(tf.sum(tf.mul(lp, wLp)), tf.sum(tf.mul(h, wH))) as tf.Scalar;
  };
  const before = tf.memory().numTensors;
  const grad = tf.grad(loss)(logits);
  const out = entropy ? tokenLogProbsAndEntropy(logits, targets) : [tokenLogProbs(logits, targets)];
  const result = { grad: values(grad), lp: values(out[0]!), h: out[1] ? values(out[1]) : undefined };
  tf.dispose([grad, ...out]);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([logits, targets, wLp, wH]);
  setKernelPath("auto");
  return { ...result, leaked };
}

describe.each(TEST_BACKENDS)("token log-probs and entropy on the host path (%s)", (backend) => {
  afterAll(() => setKernelPath("auto"));

  it("agree with the tensor op chain, values and gradients, with and without entropy", async () => {
    await useBackend(backend);
    for (const entropy of [true, false]) {
      const host = run("host", entropy);
      const chain = run("tensor", entropy);
      expect(host.leaked).toBe(0);
      expect(maxAbsDiff(host.lp, chain.lp)).toBeLessThan(2e-5);
      if (entropy) expect(maxAbsDiff(host.h!, chain.h!)).toBeLessThan(2e-5);
      expect(maxAbsDiff(host.grad, chain.grad)).toBeLessThan(1e-6);
      // The all-equal row: log p = -log V, entropy log V.
      expect(host.lp[5]).toBeCloseTo(-Math.log(V), 6);
      if (entropy) expect(host.h![5]).toBeCloseTo(Math.log(V), 6);
    }
  });

  it("give the same log-prob bits with and without entropy, and run no Exp kernel", async () => {
    await useBackend(backend);
    expect(run("host", true).lp).toEqual(run("host", false).lp);
    const { logits, targets } = inputs();
    const profile = await tf.profile(() => {
      const [lp, h] = tokenLogProbsAndEntropy(logits, targets);
      tf.dispose([lp, h]);
    });
    expect(profile.kernels.map((k) => k.name)).not.toContain("Exp");
    tf.dispose([logits, targets]);
  });
});
