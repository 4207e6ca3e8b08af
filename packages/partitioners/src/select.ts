/**
 * Quickselect (Numerical Recipes' `select`): rearranges a[l..r] so that a[k]
 * holds the value a sort would put there, with a[l..k) <= a[k] <= a(k..r].
 * No NaN in a[l..r]. One element type only (Float64Array), so V8 keeps the
 * element accesses monomorphic; float32 inputs are copied into float64
 * scratch exactly, so the selected values are the same.
 */
export function select(a: Float64Array, k: number, l: number, r: number): number {
  let lo = l;
  let hi = r;
  for (;;) {
    if (hi <= lo + 1) {
      if (hi === lo + 1 && a[hi]! < a[lo]!) swap(a, lo, hi);
      return a[k]!;
    }
    swap(a, (lo + hi) >>> 1, lo + 1);
    if (a[lo]! > a[hi]!) swap(a, lo, hi);
    if (a[lo + 1]! > a[hi]!) swap(a, lo + 1, hi);
    if (a[lo]! > a[lo + 1]!) swap(a, lo, lo + 1);
    let i = lo + 1;
    let j = hi;
    const pivot = a[lo + 1]!;
    for (;;) {
      do i++;
      while (a[i]! < pivot);
      do j--;
      while (a[j]! > pivot);
      if (j < i) break;
      swap(a, i, j);
    }
    a[lo + 1] = a[j]!;
    a[j] = pivot;
    if (j >= k) hi = j - 1;
    if (j <= k) lo = i;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
