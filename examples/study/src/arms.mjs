import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@tokenrl/base/errors";

const here = dirname(fileURLToPath(import.meta.url));
export const RECIPES_DIR = join(here, "..", "recipes");

/**
 * The arms of the study, one recipe file each (recipes/<name>.yaml), in the
 * order the tables list them. `role` groups them in the report: the two
 * method-vs-baseline questions, the sign variant, the ablations.
 */
export const ARMS = [
  { name: "grpo", role: "baseline", what: "GRPO (DeepSeekMath)" },
  { name: "dapo", role: "baseline", what: "DAPO" },
  { name: "htpo", role: "method", what: "HTPO, sign as in the paper" },
  { name: "htpo-released", role: "variant", what: "HTPO, sign of the released code" },
  { name: "cppo", role: "method", what: "CPPO" },
  { name: "htpo-no-difficulty", role: "ablation", what: "HTPO without the difficulty axis (every prompt hard)" },
  {
    name: "htpo-no-correctness",
    role: "ablation",
    what: "HTPO without the correctness axis (every response in the correct cells)",
  },
  { name: "htpo-no-entropy", role: "ablation", what: "HTPO without the entropy axis (every token high-entropy)" },
];

/**
 * The paired differences the study reports, a - b: the two papers' claims,
 * the sign question, and each ablation against full HTPO (a positive value
 * means the axis helps).
 */
export const COMPARISONS = [
  { a: "htpo", b: "dapo", question: "HTPO's claim over DAPO" },
  { a: "cppo", b: "grpo", question: "CPPO's claim over GRPO" },
  { a: "htpo", b: "htpo-released", question: "paper sign vs released sign" },
  { a: "htpo", b: "htpo-no-difficulty", question: "what the difficulty axis adds" },
  { a: "htpo", b: "htpo-no-correctness", question: "what the correctness axis adds" },
  { a: "htpo", b: "htpo-no-entropy", question: "what the entropy axis adds" },
];

/** The recipe file of an arm (a ConfigError naming the known arms when there is none). */
export function recipeFile(name) {
  const path = join(RECIPES_DIR, `${name}.yaml`);
  if (!ARMS.some((a) => a.name === name) || !existsSync(path))
    throw new ConfigError("--arms", `unknown arm "${name}"; known: ${availableArms().join(", ")}`);
  return path;
}

/** Arms whose recipe file exists (an ablation whose option is not available yet has none). */
export function availableArms() {
  return ARMS.filter((a) => existsSync(join(RECIPES_DIR, `${a.name}.yaml`))).map((a) => a.name);
}
