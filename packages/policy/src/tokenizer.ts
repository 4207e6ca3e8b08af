import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer as HfTokenizerImpl } from "@huggingface/tokenizers";
import { ConfigError, InvalidInputError } from "@tokenrl/core";

export interface EncodeOptions {
  /** Add the tokenizer's special tokens (e.g. BOS) as its post-processor says. Default false. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, PAD, ...) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

/** What the policy, rollout and trainer need from a tokenizer. */
export interface PolicyTokenizer {
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** One more than the largest id (added tokens included). */
  readonly vocabSize: number;
  readonly eosTokenId: number;
  /** The pad id; the EOS id when the tokenizer defines no pad token (as Llama's). */
  readonly padTokenId: number;
  readonly bosTokenId?: number;
  /** The `tokenizer.json` and `tokenizer_config.json` objects that reproduce this tokenizer with HF tools. */
  toHfFiles(): { tokenizer: Record<string, unknown>; tokenizerConfig: Record<string, unknown> };
}

type Json = Record<string, unknown>;

function tokenContent(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return undefined;
}

export interface SpecialTokenFallbacks {
  eosTokenId?: number;
  bosTokenId?: number;
  padTokenId?: number;
}

/**
 * A tokenizer from an HF `tokenizer.json` (+ optional `tokenizer_config.json`),
 * run by `@huggingface/tokenizers` (pure JS, reads the objects given, never the
 * network): byte-level BPE as Llama 3 / Qwen use, SentencePiece-style BPE, etc.
 * Special ids come from tokenizer_config.json's `eos_token`/`bos_token`/`pad_token`,
 * else from `fallbacks` (the model's config.json ids).
 */
export class HfTokenizer implements PolicyTokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly bosTokenId?: number;
  private readonly impl: HfTokenizerImpl;
  private readonly tokenizerJson: Json;
  private readonly tokenizerConfig: Json;

  constructor(tokenizerJson: Json, tokenizerConfig: Json = {}, fallbacks: SpecialTokenFallbacks = {}) {
    this.tokenizerJson = tokenizerJson;
    this.tokenizerConfig = tokenizerConfig;
    try {
      this.impl = new HfTokenizerImpl(tokenizerJson, tokenizerConfig);
    } catch (err) {
      throw new InvalidInputError(`tokenizer.json could not be loaded: ${(err as Error).message}`, { cause: err });
    }
    let max = -1;
    for (const id of this.impl.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const idOf = (key: string): number | undefined => {
      const content = tokenContent(tokenizerConfig[key]);
      if (content === undefined) return undefined;
      const id = this.impl.token_to_id(content);
      if (id === undefined)
        throw new ConfigError(`tokenizer_config.${key}`, `token ${JSON.stringify(content)} is not in the vocabulary`);
      return id;
    };
    const eos = idOf("eos_token") ?? fallbacks.eosTokenId;
    if (eos === undefined)
      throw new ConfigError(
        "eos_token",
        "no EOS token: set eos_token in tokenizer_config.json or eos_token_id in config.json",
      );
    this.eosTokenId = eos;
    const bos = idOf("bos_token") ?? fallbacks.bosTokenId;
    if (bos !== undefined) this.bosTokenId = bos;
    this.padTokenId = idOf("pad_token") ?? fallbacks.padTokenId ?? eos;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.impl.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    // The library rejects an empty id list; an empty response decodes to "".
    if (ids.length === 0) return "";
    return this.impl.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  toHfFiles(): { tokenizer: Json; tokenizerConfig: Json } {
    return { tokenizer: this.tokenizerJson, tokenizerConfig: this.tokenizerConfig };
  }
}

/** The special tokens of the character tokenizer, at ids 0..3. */
export const CHAR_SPECIAL_TOKENS = ["<pad>", "<bos>", "<eos>", "<unk>"] as const;

/** Newline, tab and printable ASCII: the default alphabet of `CharTokenizer`. */
export const DEFAULT_CHAR_ALPHABET = `\n\t${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")}`;

/**
 * One token per character (Unicode code point) for synthetic tasks: ids 0..3
 * are `<pad> <bos> <eos> <unk>`, then the alphabet in order. Special-token
 * strings in the text encode as those tokens; other characters outside the
 * alphabet become `<unk>`. `toHfFiles()` writes an equivalent HF tokenizer
 * (BPE without merges, so every character is a token; a Fuse decoder; a
 * TemplateProcessing post-processor adding `<bos>`), which `loadTokenizer`
 * and HF `tokenizers` read back to the same ids.
 */
export class CharTokenizer implements PolicyTokenizer {
  readonly vocabSize: number;
  readonly padTokenId = 0;
  readonly bosTokenId = 1;
  readonly eosTokenId = 2;
  readonly unkTokenId = 3;
  readonly alphabet: readonly string[];
  private readonly ids = new Map<string, number>();

  constructor(alphabet: string | readonly string[] = DEFAULT_CHAR_ALPHABET) {
    const chars = typeof alphabet === "string" ? [...alphabet] : [...alphabet];
    const seen = new Set<string>();
    for (const ch of chars) {
      if ([...ch].length !== 1)
        throw new ConfigError("alphabet", `entries must be single characters, got ${JSON.stringify(ch)}`);
      if (seen.has(ch)) throw new ConfigError("alphabet", `duplicate character ${JSON.stringify(ch)}`);
      seen.add(ch);
    }
    this.alphabet = chars;
    CHAR_SPECIAL_TOKENS.forEach((t, i) => this.ids.set(t, i));
    chars.forEach((ch, i) => this.ids.set(ch, CHAR_SPECIAL_TOKENS.length + i));
    this.vocabSize = CHAR_SPECIAL_TOKENS.length + chars.length;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = options.addSpecialTokens ? [this.bosTokenId] : [];
    let i = 0;
    outer: while (i < text.length) {
      if (text[i] === "<") {
        for (let s = 0; s < CHAR_SPECIAL_TOKENS.length; s++) {
          if (text.startsWith(CHAR_SPECIAL_TOKENS[s]!, i)) {
            out.push(s);
            i += CHAR_SPECIAL_TOKENS[s]!.length;
            continue outer;
          }
        }
      }
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out.push(this.ids.get(ch) ?? this.unkTokenId);
      i += ch.length;
    }
    return out;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    let s = "";
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
        throw new InvalidInputError(`decode: id ${id} is outside [0, ${this.vocabSize})`);
      if (id < CHAR_SPECIAL_TOKENS.length) {
        if (!options.skipSpecialTokens) s += CHAR_SPECIAL_TOKENS[id];
      } else s += this.alphabet[id - CHAR_SPECIAL_TOKENS.length];
    }
    return s;
  }

  toHfFiles(): { tokenizer: Json; tokenizerConfig: Json } {
    const vocab: Record<string, number> = {};
    CHAR_SPECIAL_TOKENS.forEach((t, i) => {
      vocab[t] = i;
    });
    this.alphabet.forEach((ch, i) => {
      vocab[ch] = CHAR_SPECIAL_TOKENS.length + i;
    });
    const tokenizer: Json = {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: CHAR_SPECIAL_TOKENS.map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: null,
      pre_tokenizer: null,
      post_processor: {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<bos>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
        pair: [
          { SpecialToken: { id: "<bos>", type_id: 0 } },
          { Sequence: { id: "A", type_id: 0 } },
          { SpecialToken: { id: "<bos>", type_id: 1 } },
          { Sequence: { id: "B", type_id: 1 } },
        ],
        special_tokens: { "<bos>": { id: "<bos>", ids: [this.bosTokenId], tokens: ["<bos>"] } },
      },
      decoder: { type: "Fuse" },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: "<unk>",
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: [],
      },
    };
    const tokenizerConfig: Json = {
      tokenizer_class: "PreTrainedTokenizerFast",
      bos_token: "<bos>",
      eos_token: "<eos>",
      pad_token: "<pad>",
      unk_token: "<unk>",
      add_bos_token: true,
      clean_up_tokenization_spaces: false,
      model_max_length: 1_000_000,
    };
    return { tokenizer, tokenizerConfig };
  }
}

/** Reads `dir/tokenizer.json` (+ `tokenizer_config.json` when present). */
export async function loadTokenizer(dir: string, fallbacks: SpecialTokenFallbacks = {}): Promise<HfTokenizer> {
  const path = join(dir, "tokenizer.json");
  if (!existsSync(path)) throw new InvalidInputError(`${path} not found: the checkpoint needs a tokenizer.json`);
  const tokenizerJson = JSON.parse(await readFile(path, "utf8")) as Json;
  const configPath = join(dir, "tokenizer_config.json");
  const tokenizerConfig = existsSync(configPath) ? (JSON.parse(await readFile(configPath, "utf8")) as Json) : {};
  return new HfTokenizer(tokenizerJson, tokenizerConfig, fallbacks);
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir`. */
export async function saveTokenizer(dir: string, tokenizer: PolicyTokenizer): Promise<void> {
  const { tokenizer: tj, tokenizerConfig } = tokenizer.toHfFiles();
  await writeFile(join(dir, "tokenizer.json"), `${JSON.stringify(tj, null, 2)}\n`);
  await writeFile(join(dir, "tokenizer_config.json"), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
}
