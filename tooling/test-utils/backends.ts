/**
 * The backends every tensor test runs on (ARCHITECTURE.md: every test passes on
 * wasm and cpu). `TOKENRL_TEST_BACKENDS=wasm` narrows the list for a quick run.
 */
export const TEST_BACKENDS: ("wasm" | "cpu")[] = (process.env.TOKENRL_TEST_BACKENDS ?? "wasm,cpu")
  .split(",")
  .map((s) => s.trim())
  .filter((s): s is "wasm" | "cpu" => s === "wasm" || s === "cpu");
