import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { InvalidInputError } from "@tokenrl/core";
import type { CausalLM, PolicyTokenizer } from "@tokenrl/policy";
import { loadPolicy, savePolicy } from "@tokenrl/policy";
import { FrozenReference } from "../reference.js";
import { assertFiniteWeights } from "./checkpoint.js";

/**
 * The KL reference of a run, kept in `dir` so that a resumed run uses the
 * very policy RL started from: loaded when `dir` exists, else `policy` is
 * saved there first (atomically, through a temp folder) and loaded back as an
 * independent copy. A `dir` that exists but cannot be loaded, or holds
 * NaN/Inf, is an error: it is never silently replaced by the current policy.
 */
export async function loadOrCreateReference(
  dir: string,
  policy: { model: CausalLM; tokenizer: PolicyTokenizer },
): Promise<FrozenReference> {
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await savePolicy(tmp, policy.model, policy.tokenizer, { dtype: "float32" });
    await rename(tmp, dir);
  }
  let model: CausalLM;
  try {
    ({ model } = await loadPolicy(dir));
  } catch (err) {
    throw new InvalidInputError(
      `reference model ${dir} is broken (${(err as Error).message}); remove it to start the KL reference again, or rerun with --fresh`,
    );
  }
  try {
    assertFiniteWeights(model, `reference model ${dir}`);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return new FrozenReference(model);
}
