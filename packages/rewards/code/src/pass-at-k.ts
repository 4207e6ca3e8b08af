import { InvalidInputError } from "@tokenrl/base/errors";

/**
 * Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1):
 * with n samples of which c pass, pass@k = 1 - C(n-c, k) / C(n, k).
 * Computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms the huge binomials.
 */
export function passAtK(n: number, c: number, k: number): number {
  for (const [name, v] of [
    ["n", n],
    ["c", c],
    ["k", k],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new InvalidInputError(`passAtK: ${name} must be a non-negative integer, got ${v}`);
  }
  if (c > n) throw new InvalidInputError(`passAtK: c (${c} correct) cannot exceed n (${n} samples)`);
  if (k < 1 || k > n) throw new InvalidInputError(`passAtK: k must be in [1, n=${n}], got ${k}`);
  if (n - c < k) return 1;
  let prodFail = 1;
  for (let i = n - c + 1; i <= n; i++) prodFail *= 1 - k / i;
  return 1 - prodFail;
}

/**
 * Mean pass@k over problems, each given as its per-sample pass flags (e.g. SampleResult.passed of
 * the n samples drawn for that problem). Problems with fewer than k samples are an error.
 */
export function meanPassAtK(perProblem: ReadonlyArray<readonly boolean[]>, k: number): number {
  if (perProblem.length === 0) throw new InvalidInputError("meanPassAtK: no problems given");
  let sum = 0;
  perProblem.forEach((flags, p) => {
    if (flags.length < k)
      throw new InvalidInputError(`meanPassAtK: problem ${p} has ${flags.length} samples, fewer than k=${k}`);
    sum += passAtK(flags.length, flags.filter(Boolean).length, k);
  });
  return sum / perProblem.length;
}
