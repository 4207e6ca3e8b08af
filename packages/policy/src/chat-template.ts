import { Template } from "@huggingface/jinja";
import { ConfigError, InvalidInputError } from "@tokenrl/core";

/** One chat message as Hugging Face chat templates read it (`message['role']`, `message['content']`). */
export interface ChatTemplateMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface RenderChatOptions {
  /** Open the assistant's turn at the end (HF `add_generation_prompt`). Default true. */
  addGenerationPrompt?: boolean;
  /** Extra template variables (HF `**kwargs` of `apply_chat_template`, e.g. `enable_thinking`). */
  variables?: Record<string, unknown>;
}

/** A checkpoint's chat template, rendered as `transformers`' `apply_chat_template(..., tokenize=False)` does. */
export interface ChatTemplateRenderer {
  /** The Jinja source. */
  readonly source: string;
  render(messages: readonly ChatTemplateMessage[], options?: RenderChatOptions): string;
}

export interface CreateChatTemplateOptions {
  /** A template source that wins over the config's `chat_template` (e.g. the checkpoint's `chat_template.jinja`). */
  template?: string;
  /** Which of several named templates (`chat_template: [{name, template}]`) to use. Default "default". */
  name?: string;
}

type Json = Record<string, unknown>;

const SPECIAL_TOKEN_KEYS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return undefined;
}

/** The template source in a tokenizer_config.json: a string, or HF's list of named templates. */
function templateSource(config: Json, name: string): string | undefined {
  const t = config.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t.find((e) => (e as Json)?.name === name) as Json | undefined;
    if (!named || typeof named.template !== "string") {
      const names = t.map((e) => JSON.stringify((e as Json)?.name)).join(", ");
      throw new ConfigError("tokenizer_config.chat_template", `has no template named "${name}" (it has ${names})`);
    }
    return named.template;
  }
  throw new ConfigError("tokenizer_config.chat_template", "must be a string or a list of {name, template}");
}

/**
 * A renderer for the chat template of a checkpoint's `tokenizer_config.json`
 * (Jinja, run by `@huggingface/jinja` with `trim_blocks` and `lstrip_blocks`,
 * as `transformers` compiles it). The render context is HF's: `messages`,
 * `add_generation_prompt`, the special tokens as strings (`bos_token`,
 * `eos_token`, ...; AddedToken objects give their `content`),
 * `raise_exception` and `strftime_now`, plus `variables`. Returns undefined
 * when the config has no template (base models): callers then fall back to a
 * plain format. A template that does not parse is a ConfigError; one that
 * raises on these messages (e.g. roles that do not alternate) is an
 * InvalidInputError with the template's message.
 */
export function createChatTemplate(
  tokenizerConfig: Json,
  options: CreateChatTemplateOptions = {},
): ChatTemplateRenderer | undefined {
  const source = options.template ?? templateSource(tokenizerConfig, options.name ?? "default");
  if (source === undefined) return undefined;
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new ConfigError("chat_template", `does not parse as Jinja: ${(err as Error).message}`, { cause: err });
  }
  const specials: Record<string, string> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const text = tokenText(tokenizerConfig[key]);
    if (text !== undefined) specials[key] = text;
  }
  const additional = tokenizerConfig.additional_special_tokens;
  const additionalSpecialTokens = Array.isArray(additional)
    ? additional.map(tokenText).filter((t): t is string => t !== undefined)
    : [];
  return {
    source,
    render(messages, renderOptions = {}) {
      messages.forEach((m, i) => {
        if (typeof m?.role !== "string" || typeof m.content !== "string")
          throw new InvalidInputError(`chat template: messages[${i}] needs a string role and a string content`);
      });
      try {
        return template.render({
          ...specials,
          additional_special_tokens: additionalSpecialTokens,
          ...renderOptions.variables,
          messages: messages.map((m) => ({ ...m })),
          add_generation_prompt: renderOptions.addGenerationPrompt ?? true,
        });
      } catch (err) {
        throw new InvalidInputError(`chat template: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

/**
 * The chat template of a checkpoint directory: `chat_template.jinja` when
 * present (how recent `transformers` saves it), else `tokenizer_config.json`'s
 * `chat_template`; undefined when there is none. Node only (reads files).
 */
export async function loadChatTemplate(
  dir: string,
  options: Omit<CreateChatTemplateOptions, "template"> = {},
): Promise<ChatTemplateRenderer | undefined> {
  // Imported here so the module (and createChatTemplate) stays usable in a browser.
  const { readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const read = async (file: string): Promise<string | undefined> =>
    readFile(join(dir, file), "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
  const configText = await read("tokenizer_config.json");
  let config: Json = {};
  if (configText !== undefined) {
    try {
      config = JSON.parse(configText) as Json;
    } catch (err) {
      throw new InvalidInputError(`${join(dir, "tokenizer_config.json")} is not valid JSON`, { cause: err });
    }
  }
  const file = await read("chat_template.jinja");
  return createChatTemplate(config, { ...options, ...(file !== undefined ? { template: file } : {}) });
}
