import type { TokenizerLike } from "./model.js";
import type { RowResult, TopLogProb } from "./server-scheduler.js";

/**
 * The response fields of both endpoints, as OpenAI shapes them: `usage`, the
 * completions `logprobs` object and the chat `logprobs.content[]`, and the
 * finish reason. Tokens are printed as text, or as `token_id:N` (vLLM's
 * `return_tokens_as_token_ids`).
 */
export function responseShapes(tokenizer: TokenizerLike) {
  const printed = (id: number, asIds: boolean) => (asIds ? `token_id:${id}` : tokenizer.decode([id]));

  const finishReason = (s: RowResult): "stop" | "length" => (s.sequence.finishReason === "length" ? "length" : "stop");

  function usage(prompts: readonly number[][], results: readonly RowResult[]) {
    // Each prompt counts once, however many choices it has (OpenAI's and vLLM's usage).
    const prompt = prompts.reduce((n, p) => n + p.length, 0);
    const completion = results.reduce((n, r) => n + r.sequence.responseIds.length, 0);
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }

  function completionLogProbs(
    ids: number[],
    lps: number[],
    tops: TopLogProb[][] | undefined,
    k: number,
    asIds: boolean,
    offset: number,
  ) {
    const tokens = ids.map((id) => printed(id, asIds));
    const textOffset: number[] = [];
    let at = offset;
    for (const id of ids) {
      textOffset.push(at);
      at += tokenizer.decode([id]).length;
    }
    return {
      tokens,
      token_logprobs: lps,
      top_logprobs:
        k > 0 && tops
          ? tops.map((list) => Object.fromEntries(list.map((t) => [printed(t.tokenId, asIds), t.logProb])))
          : null,
      text_offset: textOffset,
    };
  }

  const bytesOf = (text: string) => Array.from(Buffer.from(text, "utf8"));

  function chatLogProbs(ids: number[], lps: number[], tops: TopLogProb[][] | undefined, asIds: boolean) {
    return {
      content: ids.map((id, t) => {
        const token = printed(id, asIds);
        return {
          token,
          logprob: lps[t]!,
          bytes: bytesOf(tokenizer.decode([id])),
          top_logprobs: (tops?.[t] ?? []).map((alt) => ({
            token: printed(alt.tokenId, asIds),
            logprob: alt.logProb,
            bytes: bytesOf(tokenizer.decode([alt.tokenId])),
          })),
        };
      }),
    };
  }

  return { usage, completionLogProbs, chatLogProbs, finishReason };
}
