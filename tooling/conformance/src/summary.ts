/** The closing line, exactly as the root scripts and CI read it: `N passed, M failed`. */
export function summaryLine(s: { passed: number; failed: number }): string {
  return `${s.passed} passed, ${s.failed} failed`;
}
