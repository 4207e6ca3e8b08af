import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { useBackend } from "@tokenrl/core";

const here = dirname(fileURLToPath(import.meta.url));
const blocks = [...readFileSync(join(here, "..", "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);
const tmp = join(here, ".readme-blocks");

describe("README examples", () => {
  beforeAll(async () => {
    process.env.TOKENRL_BACKEND = "wasm";
    await useBackend("wasm");
    mkdirSync(tmp, { recursive: true });
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    delete process.env.TOKENRL_BACKEND;
  });

  it("has examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
  });

  it.each(blocks.map((code, i) => [i, code] as const))("block %i runs", async (i, code) => {
    const file = join(tmp, `block-${i}.ts`);
    writeFileSync(file, code.replaceAll('"@tokenrl/policy"', '"../../src/index.js"'));
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await import(file);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
});
