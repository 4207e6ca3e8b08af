import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, InvalidInputError } from "@tokenrl/core";
import { describe, expect, it } from "vitest";
import { createChatTemplate, loadChatTemplate } from "../src/index.js";

// Qwen2.5's structure: a default system prompt, `-` whitespace control throughout.
const CHATML = `{%- if messages[0]['role'] == 'system' %}
    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
{%- else %}
    {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}
{%- endif %}
{%- for message in messages %}
    {%- if not (message.role == 'system' and loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
`;

// Llama-2 / Mistral style without whitespace control: what trim_blocks and lstrip_blocks do is visible.
const INST = `{{ bos_token }}{% for message in messages %}
  {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
    {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
  {% endif %}
  {% if message['role'] == 'user' %}
{{ '[INST] ' + message['content'] + ' [/INST]' }}
  {% else %}
{{ message['content'] + eos_token }}
  {% endif %}
{% endfor %}`;

describe("createChatTemplate renders as transformers' apply_chat_template", () => {
  it("renders a ChatML template with its default system prompt and the generation prompt", () => {
    const t = createChatTemplate({ chat_template: CHATML })!;
    expect(t.render([{ role: "user", content: "hi" }])).toBe(
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(
      t.render(
        [
          { role: "system", content: "Be brief." },
          { role: "user", content: "2+2?" },
          { role: "assistant", content: "4" },
        ],
        { addGenerationPrompt: false },
      ),
    ).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    );
  });

  it("trims the newline after block tags, strips indentation before them, and passes special tokens as strings", () => {
    // bos_token as an AddedToken object, eos_token as a string: both reach the template as text.
    const t = createChatTemplate({
      chat_template: INST,
      bos_token: { content: "<s>", lstrip: false, rstrip: false, special: true },
      eos_token: "</s>",
    })!;
    const out = t.render([
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
    ]);
    // Newlines after {{ }} stay (trim_blocks only affects block tags), those after {% %} go.
    expect(out).toBe("<s>[INST] a [/INST]\nb</s>\n");
  });

  it("turns raise_exception into an InvalidInputError with the template's message", () => {
    const t = createChatTemplate({ chat_template: INST, bos_token: "<s>", eos_token: "</s>" })!;
    const err = (() => {
      try {
        t.render([
          { role: "user", content: "a" },
          { role: "user", content: "b" },
        ]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/roles must alternate/);
  });

  it("picks a named template from a list, and says which names exist", () => {
    const config = {
      chat_template: [
        { name: "default", template: "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}" },
        { name: "tool_use", template: "tools" },
      ],
    };
    expect(createChatTemplate(config)!.render([{ role: "user", content: "x" }])).toBe("<user>x");
    expect(createChatTemplate(config, { name: "tool_use" })!.render([])).toBe("tools");
    expect(() => createChatTemplate(config, { name: "rag" })).toThrow(/no template named "rag".*"default", "tool_use"/);
  });

  it("passes template variables (apply_chat_template kwargs)", () => {
    const t = createChatTemplate({
      chat_template: "{% if enable_thinking is defined and not enable_thinking %}/no_think{% endif %}",
    })!;
    expect(t.render([], { variables: { enable_thinking: false } })).toBe("/no_think");
    expect(t.render([])).toBe("");
  });

  it("returns undefined without a template, and a ConfigError for one that does not parse", () => {
    expect(createChatTemplate({ eos_token: "</s>" })).toBeUndefined();
    expect(() => createChatTemplate({ chat_template: "{% for m in messages %}" })).toThrow(ConfigError);
    expect(() => createChatTemplate({ chat_template: 3 })).toThrow(ConfigError);
  });

  it("rejects messages without a string role and content", () => {
    const t = createChatTemplate({ chat_template: CHATML })!;
    expect(() => t.render([{ role: "user", content: 5 as unknown as string }])).toThrow(/messages\[0\]/);
  });
});

describe("loadChatTemplate", () => {
  it("prefers chat_template.jinja over tokenizer_config.json and is undefined when there is neither", async () => {
    const dir = await mkdtemp(join(tmpdir(), "chat-template-"));
    try {
      expect(await loadChatTemplate(dir)).toBeUndefined();
      await writeFile(
        join(dir, "tokenizer_config.json"),
        JSON.stringify({ chat_template: "config", eos_token: "</s>" }),
      );
      expect((await loadChatTemplate(dir))!.render([])).toBe("config");
      await writeFile(join(dir, "chat_template.jinja"), "file{{ eos_token }}");
      expect((await loadChatTemplate(dir))!.render([])).toBe("file</s>");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
