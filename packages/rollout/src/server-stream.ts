import type { TokenizerLike } from "./model.js";
import type { RowStep, TopLogProb } from "./server-scheduler.js";

/** A piece of a streamed choice: new text, and the tokens [from, to) released with it. */
export interface StreamDelta {
  text: string;
  from: number;
  to: number;
}

/**
 * The streamed text of one choice, released so that the pieces add up to
 * exactly the non-streamed text: the decoded prefix is held back by the
 * longest stop string minus one character (a stop string may still complete
 * and cut it), a trailing U+FFFD (half a UTF-8 character) waits for the rest,
 * and the token that ends the row waits for the final text (EOS and stop
 * tokens are not in the text; a stop string is cut from it).
 */
export class StreamingChoice {
  readonly ids: number[] = [];
  readonly logProbs: number[] = [];
  readonly tops: TopLogProb[][] = [];
  private sentText = "";
  private sentTokens = 0;
  finished = false;

  constructor(
    private readonly tokenizer: TokenizerLike,
    private readonly holdback: number,
  ) {}

  /** Records a step; returns what can be sent now, if anything. */
  push(step: RowStep): StreamDelta | undefined {
    this.ids.push(step.tokenId);
    this.logProbs.push(step.logProb);
    if (step.top) this.tops.push(step.top);
    if (step.finished) return undefined;
    let text = this.tokenizer.decode(this.ids);
    while (text.endsWith("\uFFFD")) text = text.slice(0, -1);
    const safe = text.slice(0, Math.max(0, text.length - this.holdback));
    if (
      !safe.startsWith(this.sentText) ||
      (safe.length === this.sentText.length && this.sentTokens === this.ids.length)
    )
      return undefined;
    const delta = { text: safe.slice(this.sentText.length), from: this.sentTokens, to: this.ids.length };
    this.sentText = safe;
    this.sentTokens = this.ids.length;
    return delta;
  }

  /** The rest, given the choice's final text and tokens. */
  finish(finalText: string, tokenCount: number): StreamDelta {
    this.finished = true;
    const text = finalText.startsWith(this.sentText) ? finalText.slice(this.sentText.length) : "";
    const delta = { text, from: this.sentTokens, to: tokenCount };
    this.sentText = finalText;
    this.sentTokens = tokenCount;
    return delta;
  }
}
