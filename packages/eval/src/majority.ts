/**
 * Majority vote over the answers extracted from n samples (maj@n, "cons@n" or
 * self-consistency, Wang et al. 2022). Samples with no extracted answer ("")
 * do not vote; ties go to the answer seen first, so the vote is deterministic.
 * Returns the index of the first sample holding the winning answer, or -1 when
 * no sample has an answer.
 */
export function majorityIndex(answers: readonly string[]): number {
  const counts = new Map<string, { count: number; first: number }>();
  answers.forEach((raw, i) => {
    const a = raw.trim();
    if (!a) return;
    const entry = counts.get(a);
    if (entry) entry.count++;
    else counts.set(a, { count: 1, first: i });
  });
  let best: { count: number; first: number } | undefined;
  for (const entry of counts.values()) {
    if (!best || entry.count > best.count || (entry.count === best.count && entry.first < best.first)) best = entry;
  }
  return best ? best.first : -1;
}
