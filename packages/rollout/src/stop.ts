/**
 * Stop-string detection on decoded text. A stop string can complete in the
 * middle of a token's text, so the check searches the decoded response from a
 * little before the previously seen end (the longest stop string minus one
 * character), keeping each step O(new text) rather than O(response).
 */
export interface StopMatch {
  /** The stop string that matched. */
  stop: string;
  /** Character offset in the text where it starts. */
  index: number;
}

export class StopStringMatcher {
  private readonly stops: readonly string[];
  private readonly longest: number;
  private checkedUpTo = 0;

  constructor(stops: readonly string[]) {
    this.stops = stops;
    this.longest = stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  get active(): boolean {
    return this.stops.length > 0;
  }

  /** The earliest stop string in `text` not fully inside the part checked before, or undefined. */
  check(text: string): StopMatch | undefined {
    if (!this.active) return undefined;
    const from = Math.max(0, this.checkedUpTo - this.longest + 1);
    let best: StopMatch | undefined;
    for (const stop of this.stops) {
      const index = text.indexOf(stop, from);
      if (index >= 0 && (!best || index < best.index)) best = { stop, index };
    }
    this.checkedUpTo = text.length;
    return best;
  }
}
