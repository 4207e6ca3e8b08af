import { readFileSync, writeFileSync } from "node:fs";
import { ConfigError, InvalidInputError } from "@tokenrl/base/errors";
import { tf } from "@tokenrl/core";
import { type LoadedPolicy, scoreResponses } from "@tokenrl/policy";
import { type Command, str } from "../args.js";
import { loadLocal } from "../engine.js";

export interface ScoredText {
  prompt: string;
  response: string;
  /** The response's tokens as ids and as decoded text. */
  tokenIds: number[];
  tokens: string[];
  /** log pi(token_t | prompt, tokens_<t) per response token. */
  logProbs: number[];
  /** Entropy (nats) of the next-token distribution at each response position. */
  entropies: number[];
  /** Sum of logProbs. */
  totalLogProb: number;
}

/**
 * Per-token log-probs and entropies of `response` after `prompt` under the
 * policy (temperature 1, the model's own distribution), one forward pass per
 * text. An empty prompt is scored after BOS when the tokenizer has one.
 */
export function scoreTexts(policy: LoadedPolicy, items: readonly { prompt: string; response: string }[]): ScoredText[] {
  const { model, tokenizer } = policy;
  return items.map(({ prompt, response }, i) => {
    let promptIds = tokenizer.encode(prompt);
    if (promptIds.length === 0) {
      const bos = (tokenizer as { bosTokenId?: number }).bosTokenId ?? model.config.bosTokenId;
      if (bos === undefined)
        throw new InvalidInputError(`text ${i}: empty prompt and the tokenizer has no BOS token to condition on`);
      promptIds = [bos];
    }
    const responseIds = tokenizer.encode(response);
    if (responseIds.length === 0) throw new InvalidInputError(`text ${i}: the response encodes to no tokens`);
    const [lp, ent] = tf.tidy(() => {
      const out = scoreResponses(model, {
        promptIds: tf.tensor2d([promptIds], [1, promptIds.length], "int32"),
        promptMask: tf.ones([1, promptIds.length]) as tf.Tensor2D,
        responseIds: tf.tensor2d([responseIds], [1, responseIds.length], "int32"),
        responseMask: tf.ones([1, responseIds.length]) as tf.Tensor2D,
      });
      return [out.logProbs, out.entropy];
    });
    const logProbs = Array.from(lp!.dataSync());
    const entropies = Array.from(ent!.dataSync());
    lp!.dispose();
    ent!.dispose();
    return {
      prompt,
      response,
      tokenIds: responseIds,
      tokens: responseIds.map((id) => tokenizer.decode([id])),
      logProbs,
      entropies,
      totalLogProb: logProbs.reduce((a, b) => a + b, 0),
    };
  });
}

function readTexts(path: string): { prompt: string; response: string }[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .flatMap((line, i) => {
      if (!line.trim()) return [];
      let r: { prompt?: unknown; response?: unknown };
      try {
        r = JSON.parse(line);
      } catch {
        throw new InvalidInputError(`${path}:${i + 1}: not JSON`);
      }
      if (typeof r.response !== "string" || (r.prompt !== undefined && typeof r.prompt !== "string"))
        throw new InvalidInputError(`${path}:${i + 1}: needs a string "response" (and optionally a string "prompt")`);
      return [{ prompt: (r.prompt as string | undefined) ?? "", response: r.response }];
    });
}

export const scoreCommand: Command = {
  name: "score",
  summary: "per-token log-probs and entropies of texts under a checkpoint (JSON)",
  help: `tokenrl-bench score: per-token log-probs and entropies of responses under a local checkpoint

usage: tokenrl-bench score --model DIR (--texts FILE.jsonl | --prompt TEXT --response TEXT) [--out FILE.json]

  --model DIR        Hugging Face checkpoint directory
  --texts FILE       JSONL, one {"prompt": "...", "response": "..."} per line
  --prompt TEXT      a single prompt (with --response)
  --response TEXT    a single response
  --out FILE         write the JSON there (default: stdout)

Output: [{"prompt","response","tokenIds","tokens","logProbs","entropies","totalLogProb"}, ...]
(natural log; temperature 1: the model's own distribution; entropy in nats over the whole vocabulary)
`,
  options: {
    model: { type: "string" },
    texts: { type: "string" },
    prompt: { type: "string" },
    response: { type: "string" },
    out: { type: "string" },
  },
  async run(v) {
    const model = str(v, "model");
    if (!model) throw new ConfigError("--model", "is required: a checkpoint directory");
    if (str(v, "texts") && (str(v, "prompt") !== undefined || str(v, "response") !== undefined))
      throw new ConfigError("--texts", "give either --texts FILE.jsonl or --prompt/--response, not both");
    if (!str(v, "texts") && str(v, "prompt") !== undefined && str(v, "response") === undefined)
      throw new ConfigError("--response", "--prompt needs the --response to score (the prompt is the context)");
    const texts = str(v, "texts")
      ? readTexts(str(v, "texts")!)
      : str(v, "response") !== undefined
        ? [{ prompt: str(v, "prompt") ?? "", response: str(v, "response")! }]
        : undefined;
    if (!texts) throw new ConfigError("--texts", "give --texts FILE.jsonl or --prompt/--response");
    const { policy } = await loadLocal(model, false);
    try {
      const json = `${JSON.stringify(scoreTexts(policy, texts), null, 2)}\n`;
      if (str(v, "out")) writeFileSync(str(v, "out")!, json);
      else process.stdout.write(json);
    } finally {
      policy.model.dispose();
    }
    return 0;
  },
};
