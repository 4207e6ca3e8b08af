import { describe, expect, it } from "vitest";
import { CharTokenizer, HfTokenizer } from "../src/index.js";

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n. */
function byteChars(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + n++));
  return out;
}

/** A byte-level BPE tokenizer.json in the Llama 3 / Qwen style: id = byte value, then six merges, then one special token. */
function byteLevelBpe(): Record<string, unknown> {
  const chars = byteChars();
  const vocab: Record<string, number> = {};
  chars.forEach((c, b) => {
    vocab[c] = b;
  });
  const G = chars[0x20]!; // "Ġ", the byte-level space
  const merges = ["h e", "l l", "he ll", "hell o", `${G} w`, "o r"];
  ["he", "ll", "hell", "hello", `${G}w`, "or"].forEach((t, i) => {
    vocab[t] = 256 + i;
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: 262,
        content: "<|endoftext|>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

describe("HfTokenizer (byte-level BPE)", () => {
  const tok = new HfTokenizer(byteLevelBpe(), { eos_token: "<|endoftext|>" });

  it("applies merges in rank order: 'hello world' -> hello, Ġw, or, l, d", () => {
    // "hello": h e l l o -> he l l o -> he ll o -> hell o -> hello (259)
    // " world": Ġ w o r l d -> Ġw o r l d -> Ġw or l d -> [260, 261, 'l'=108, 'd'=100]
    expect(tok.encode("hello world")).toEqual([259, 260, 261, 108, 100]);
  });

  it("encodes non-ASCII text as its UTF-8 bytes and decodes back exactly", () => {
    expect(tok.encode("é")).toEqual([0xc3, 0xa9]);
    const text = "héllo wörld 😀\n\tok";
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it("recognises special tokens in text and drops them on request", () => {
    const ids = tok.encode("hello<|endoftext|>");
    expect(ids).toEqual([259, 262]);
    expect(tok.decode(ids)).toBe("hello<|endoftext|>");
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("hello");
  });

  it("decodes an empty id list (an empty response) to the empty string", () => {
    expect(tok.decode([])).toBe("");
    expect(new CharTokenizer().decode([])).toBe("");
  });

  it("takes EOS from tokenizer_config.json, pads with EOS when there is no pad token, counts added tokens in vocabSize", () => {
    expect(tok.eosTokenId).toBe(262);
    expect(tok.padTokenId).toBe(262);
    expect(tok.bosTokenId).toBeUndefined();
    expect(tok.vocabSize).toBe(263);
  });

  it("without an eos_token it falls back to the model config's id, and errors when neither exists", () => {
    expect(new HfTokenizer(byteLevelBpe(), {}, { eosTokenId: 7 }).eosTokenId).toBe(7);
    expect(() => new HfTokenizer(byteLevelBpe(), {})).toThrow(/eos_token/);
  });
});

describe("HfTokenizer (Qwen2/Qwen3-style pre-tokenizer: NFC, Split regex, ByteLevel without regex)", () => {
  const qwenStyle = {
    ...byteLevelBpe(),
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        {
          type: "Split",
          pattern: {
            Regex:
              "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
          },
          behavior: "Isolated",
          invert: false,
        },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
  };
  const tok = new HfTokenizer(qwenStyle, { eos_token: "<|endoftext|>" });

  it("splits digits one by one and keeps a lone space before them: 'hello world 123'", () => {
    // pieces "hello", " world", " ", "1", "2", "3" -> hello, Ġw or l d, Ġ, 1, 2, 3
    expect(tok.encode("hello world 123")).toEqual([259, 260, 261, 108, 100, 32, 49, 50, 51]);
    expect(tok.decode(tok.encode("hello world 123"))).toBe("hello world 123");
  });

  it("NFC-normalises before encoding: e + combining acute encodes as precomposed é", () => {
    expect(tok.encode("e\u0301")).toEqual([0xc3, 0xa9]);
  });
});

describe("CharTokenizer", () => {
  const tok = new CharTokenizer("ab c");

  it("maps each character to 4 + its alphabet index, specials to 0..3, unknown characters to <unk>", () => {
    expect(tok.encode("ab c")).toEqual([4, 5, 6, 7]);
    expect(tok.encode("a<eos>z")).toEqual([4, 2, 3]);
    expect(tok.encode("a", { addSpecialTokens: true })).toEqual([1, 4]);
    expect(tok.vocabSize).toBe(8);
  });

  it("decodes with or without special tokens", () => {
    expect(tok.decode([1, 4, 7, 5, 2])).toBe("<bos>acb<eos>");
    expect(tok.decode([1, 4, 7, 5, 2], { skipSpecialTokens: true })).toBe("acb");
  });

  it("its tokenizer.json, run by the HF tokenizer, encodes and decodes identically", () => {
    const def = new CharTokenizer();
    const { tokenizer, tokenizerConfig } = def.toHfFiles();
    const hf = new HfTokenizer(tokenizer, tokenizerConfig);
    for (const text of ["12+34=46", "Hello, world!\n\tx<eos>", "  two  spaces ", "caf\u00e9 is <unk>"]) {
      expect(hf.encode(text)).toEqual(def.encode(text));
      expect(hf.encode(text, { addSpecialTokens: true })).toEqual(def.encode(text, { addSpecialTokens: true }));
      const ids = def.encode(text, { addSpecialTokens: true });
      expect(hf.decode(ids)).toBe(def.decode(ids));
      expect(hf.decode(ids, { skipSpecialTokens: true })).toBe(def.decode(ids, { skipSpecialTokens: true }));
    }
    expect([hf.eosTokenId, hf.padTokenId, hf.bosTokenId, hf.vocabSize]).toEqual([2, 0, 1, def.vocabSize]);
  });
});
