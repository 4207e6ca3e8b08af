/**
 * Per-response group statistics for outcome estimators. Group ids may be any
 * int32 values in any order (prompt indices after shuffling, dataset ids); they
 * are mapped to 0..K-1 on the host.
 */
export interface GroupStats {
  /** Number of responses in each response's group. */
  size: Int32Array;
  /** Group mean of the scores (0 for a group of one, as verl). */
  mean: Float64Array;
  /** Sum of squared deviations from the group's own mean, per response's group. */
  sumSquares: Float64Array;
  /** s_i - groupMean_i, exactly 0 when every score in the group is equal. */
  deviation: Float64Array;
}

export function groupStats(ids: ArrayLike<number>, scores: Float64Array): GroupStats {
  const B = scores.length;
  const slot = new Map<number, number>();
  const index = new Int32Array(B);
  for (let i = 0; i < B; i++) {
    let k = slot.get(ids[i]!);
    if (k === undefined) {
      k = slot.size;
      slot.set(ids[i]!, k);
    }
    index[i] = k;
  }
  const K = slot.size;
  const count = new Int32Array(K);
  const sum = new Float64Array(K);
  const min = new Float64Array(K).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(K).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < B; i++) {
    const k = index[i]!;
    const s = scores[i]!;
    count[k]!++;
    sum[k]! += s;
    if (s < min[k]!) min[k] = s;
    if (s > max[k]!) max[k] = s;
  }
  // verl: a group of one has mean 0 and std 1 (its score is its own advantage).
  const groupMean = new Float64Array(K);
  for (let k = 0; k < K; k++) groupMean[k] = count[k]! > 1 ? sum[k]! / count[k]! : 0;
  const groupSq = new Float64Array(K);
  for (let i = 0; i < B; i++) {
    const k = index[i]!;
    const d = scores[i]! - groupMean[k]!;
    groupSq[k]! += d * d;
  }
  const size = new Int32Array(B);
  const mean = new Float64Array(B);
  const sumSquares = new Float64Array(B);
  const deviation = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const k = index[i]!;
    size[i] = count[k]!;
    mean[i] = groupMean[k]!;
    // Equal scores give exactly 0, not a rounding residue that a tiny std would blow up.
    const allEqual = count[k]! > 1 && min[k] === max[k];
    sumSquares[i] = allEqual ? 0 : groupSq[k]!;
    deviation[i] = allEqual ? 0 : scores[i]! - groupMean[k]!;
  }
  return { size, mean, sumSquares, deviation };
}
