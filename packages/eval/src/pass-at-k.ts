import { InvalidInputError } from "@tokenrl/base/errors";

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    throw new InvalidInputError(`passAtK: ${name} must be a non-negative integer, got ${v}`);
}

/**
 * The unbiased pass@k estimator of Chen et al. 2021 ("Evaluating Large Language
 * Models Trained on Code", eq. 1): with n samples of which c are correct,
 * pass@k = 1 - C(n-c, k) / C(n, k), the probability that k samples drawn
 * without replacement from the n contain a correct one.
 *
 * Computed in the paper's numerically stable product form,
 * 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms the binomials (C(64, 32)
 * already exceeds 2^53).
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCount("n", n);
  checkCount("c", c);
  checkCount("k", k);
  if (c > n) throw new InvalidInputError(`passAtK: c (${c} correct) cannot exceed n (${n} samples)`);
  if (k < 1 || k > n) throw new InvalidInputError(`passAtK: k must be in [1, n=${n}], got ${k}`);
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}
