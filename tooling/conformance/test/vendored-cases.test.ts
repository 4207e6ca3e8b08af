import { useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../test-utils/backends.js";
import { defaultCasesDir, loadOpModules, runConformance } from "../src/index.js";

// Every vendored reference case (cases/, see SOURCES.md) through the op modules on every test
// backend, in process: the one conformance runner (the packages keep no second one).
describe.each(TEST_BACKENDS)("the vendored reference cases on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("all 325 pass", async () => {
    const { path, exists } = defaultCasesDir();
    expect(exists).toBe(true);
    const loaded = await loadOpModules();
    expect(loaded.errors).toEqual([]);
    const lines: string[] = [];
    const summary = await runConformance([path], loaded, { print: (l) => lines.push(l) });
    expect(lines.filter((l) => !l.startsWith("WARN")).slice(0, 10)).toEqual([]);
    expect({ passed: summary.passed, failed: summary.failed }).toEqual({ passed: 325, failed: 0 });
  });
});
