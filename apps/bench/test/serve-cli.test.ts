import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluate } from "../src/commands/eval.js";
import { tinyCheckpoint, writeBenchmark } from "./helpers.js";

const CLI = resolve(import.meta.dirname, "../dist/cli.js");
/** A Jinja chat template in tokenizer_config.json, as Hugging Face checkpoints carry one. */
const TEMPLATE =
  "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}";

function startCli(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /serving \S+ at (http:\/\/[^\s/]+)\/v1/.exec(out);
      if (m) resolvePromise({ child, url: m[1]! });
    });
    child.stderr!.on("data", (c) => {
      err += c;
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

describe("tokenrl-bench serve (the CLI process)", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it.skipIf(!existsSync(CLI))(
    "serves the checkpoint's chat template: eval --api chat equals local eval with the same template and seed, and SIGTERM stops it (needs the bench build)",
    async () => {
      const ckpt = await tinyCheckpoint(9);
      const cfgPath = join(ckpt, "tokenizer_config.json");
      writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, "utf8")), chat_template: TEMPLATE }));
      const bench = writeBenchmark([
        { id: "x", problem: "What is 3+4?", answer: "7" },
        { id: "y", problem: "What is 9-1?", answer: "8" },
      ]);
      const common = {
        benchmark: bench,
        n: 2,
        ks: [1, 2],
        temperature: 1,
        topP: 1,
        maxTokens: 10,
        seed: 2,
        quiet: true,
      };
      const localOut = mkdtempSync(join(tmpdir(), "bench-chat-local-"));
      const local = await evaluate({ ...common, model: ckpt, concurrency: 1, out: localOut });
      expect(local.results.settings.chatTemplate).toBe(true);

      const started = await startCli([
        "serve",
        "--model",
        ckpt,
        "--port",
        "0",
        "--name",
        "tiny-chat",
        "--max-body-bytes",
        "4096",
      ]);
      child = started.child;
      const models = (await (await fetch(`${started.url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(["tiny-chat"]);
      // --max-body-bytes bounds a request body: 5,000 characters of prompt are over 4,096 bytes.
      const big = await fetch(`${started.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny-chat", prompt: "a".repeat(5000), max_tokens: 1 }),
      });
      expect(big.status).toBe(413);
      const remoteOut = mkdtempSync(join(tmpdir(), "bench-chat-remote-"));
      const remote = await evaluate({
        ...common,
        model: "tiny-chat",
        baseUrl: started.url,
        api: "chat",
        concurrency: 2,
        out: remoteOut,
      });
      const read = (dir: string) =>
        readFileSync(join(dir, "samples.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
          .sort((a, b) => a.problemId.localeCompare(b.problemId) || a.sample - b.sample)
          .map((r) => [r.problemId, r.sample, r.response, r.correct]);
      expect(read(remoteOut)).toEqual(read(localOut));
      expect(remote.results.metrics).toEqual(local.results.metrics);

      const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    },
  );
});
