import { ConfigError } from "@tokenrl/base/errors";
import { CodeRunner, type CodeRunnerOptions, type Language, LANGUAGES, type TestSuite } from "@tokenrl/reward-code";
import { alphabetOf, splitDataset } from "./dataset.js";
import { readJsonlRecords } from "./jsonl.js";
import type { RewardShaping, SingleTurnTask, Split, TaskExample, TaskVerdict } from "./types.js";
import { checkShaping, failedVerdict, shapeReward, tokensOf, verifyEach } from "./verdicts.js";

/** One code problem: statement, optional starter code, tests in LiveCodeBench's `input_output` shape. */
export interface CodeProblem {
  id: string;
  problem: string;
  starterCode: string;
  language: Language;
  tests: TestSuite;
}

/** `{problem}` and `{starter}` are replaced; `{language}` by the language name. */
export const DEFAULT_CODE_TEMPLATE =
  "{problem}\n\n{starter}Write a complete {language} solution and put it in one ```{language} code block.";

type Source = string | readonly CodeProblem[];

export interface CodeTaskOptions {
  /** One JSONL file (or parsed problems), split into train and held-out by content hash. */
  path?: Source;
  train?: Source;
  test?: Source;
  /** A runner to share (not closed by the task); default: the task makes one from `runner`'s options. */
  codeRunner?: CodeRunner;
  runner?: CodeRunnerOptions;
  /** Language of problems that do not name one. Default "python". */
  language?: Language;
  template?: string;
  maxResponseLength?: number;
  reward?: RewardShaping;
  /** Deadline of one sample's whole test suite, ms. Default: tests x (time limit + 2 s) + 5 s. */
  sampleTimeoutMs?: number;
  seed?: number;
  name?: string;
}

function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/**
 * Reads one LiveCodeBench / APPS-style record: the statement in `problem`,
 * `question_content` or `prompt`; the tests in `tests` or `input_output`
 * (`{inputs, outputs, fn_name?}`, object or JSON text) or `public_test_cases`
 * (`[{input, output, testtype}]`, with `metadata.func_name` for functional tests).
 */
export function parseCodeRecord(
  record: Record<string, unknown>,
  line: number,
  language: Language,
): CodeProblem | string {
  const problem = record.problem ?? record.question_content ?? record.prompt;
  if (typeof problem !== "string" || !problem.trim()) return 'needs a string "problem" (or "question_content")';
  const lang = (record.language ?? language) as Language;
  if (!LANGUAGES.includes(lang)) return `language must be one of ${LANGUAGES.join(", ")}, got ${JSON.stringify(lang)}`;
  const meta = (parseMaybeJson(record.metadata) ?? {}) as Record<string, unknown>;
  let tests: TestSuite | undefined;
  const io = parseMaybeJson(record.tests ?? record.input_output) as Record<string, unknown> | undefined;
  if (io && Array.isArray(io.inputs) && Array.isArray(io.outputs)) {
    const fn = io.fnName ?? io.fn_name;
    tests = { inputs: io.inputs as string[], outputs: io.outputs, ...(typeof fn === "string" ? { fnName: fn } : {}) };
  } else {
    const cases = parseMaybeJson(record.public_test_cases);
    if (Array.isArray(cases) && cases.length) {
      const functional = cases.some((c) => (c as { testtype?: string }).testtype === "functional");
      const fn = meta.func_name ?? record.fn_name;
      if (functional && typeof fn !== "string") return 'functional tests need "metadata.func_name"';
      tests = {
        inputs: cases.map((c) => String((c as { input: unknown }).input)),
        outputs: cases.map((c) => String((c as { output: unknown }).output)),
        ...(functional ? { fnName: fn as string } : {}),
      };
    }
  }
  if (!tests) return 'needs tests: "tests"/"input_output" {inputs, outputs} or "public_test_cases"';
  if (tests.inputs.length === 0 || tests.inputs.length !== tests.outputs.length)
    return `needs as many test inputs as outputs (at least one), got ${tests.inputs.length} and ${tests.outputs.length}`;
  const starter = record.starter_code ?? record.starterCode ?? "";
  return {
    id: String(record.id ?? record.question_id ?? line),
    problem,
    starterCode: typeof starter === "string" ? starter : "",
    language: lang,
    tests,
  };
}

export function loadCodeProblems(path: string, language: Language = "python"): CodeProblem[] {
  return readJsonlRecords(path, (r, line) => parseCodeRecord(r, line, language));
}

const FENCE = /```([A-Za-z0-9_+-]*)[^\n]*\n([\s\S]*?)```/g;

/** The program in a response: the last fenced code block (preferring one tagged with the language), else the whole text. */
export function extractCode(response: string, language: Language): string {
  const blocks = [...response.matchAll(FENCE)].map((m) => ({ tag: m[1]!.toLowerCase(), code: m[2]! }));
  const aliases = language === "python" ? ["python", "py", "python3"] : ["javascript", "js", "node"];
  const tagged = blocks.filter((b) => aliases.includes(b.tag));
  const pick = (tagged.length ? tagged : blocks).at(-1);
  if (pick) return pick.code;
  // An unterminated fence (generation cut off): what follows it.
  const open = response.lastIndexOf("```");
  if (open >= 0) return response.slice(response.indexOf("\n", open) + 1);
  return response;
}

/** LiveCodeBench-style code problems rewarded by @tokenrl/reward-code's sandbox: correct = every test passes. */
export function createCodeTask(options: CodeTaskOptions): SingleTurnTask {
  const name = options.name ?? "code";
  const language = options.language ?? "python";
  const template = options.template ?? DEFAULT_CODE_TEMPLATE;
  if (!template.includes("{problem}"))
    throw new ConfigError("task.template", `must contain "{problem}", got ${JSON.stringify(template)}`);
  const maxResponseLength = options.maxResponseLength ?? 2048;
  if (!Number.isInteger(maxResponseLength) || maxResponseLength < 1)
    throw new ConfigError("task.maxResponseLength", `must be a positive integer, got ${maxResponseLength}`);
  if (options.path === undefined && options.train === undefined && options.test === undefined)
    throw new ConfigError("task.path", "give a JSONL path (split by hash) or train and/or test paths");
  const load = (s: Source | undefined) =>
    s === undefined ? undefined : typeof s === "string" ? loadCodeProblems(s, language) : s;
  const data = splitDataset(
    name,
    { all: load(options.path), train: load(options.train), test: load(options.test) },
    (p) => p.problem,
    options.seed ?? 0,
  );
  const shaping = checkShaping(options.reward);
  const runner = options.codeRunner ?? CodeRunner.create(options.runner);
  const ownsRunner = !options.codeRunner;
  const byId = new Map<string, CodeProblem>();
  for (const [split, list] of [
    ["train", data.train],
    ["test", data.test],
  ] as const)
    for (const p of list) {
      const id = `${name}/${split}/${p.id}`;
      if (byId.has(id) && byId.get(id) !== p)
        throw new ConfigError("task", `${name}: two problems share the id "${p.id}"`);
      byId.set(id, p);
    }
  const render = (p: CodeProblem) =>
    template
      .split("{problem}")
      .join(p.problem)
      .split("{starter}")
      .join(p.starterCode ? `${p.starterCode}\n\n` : "")
      .split("{language}")
      .join(p.language);
  let closed = false;

  const verifyOne = async (r: {
    example: TaskExample;
    response: string;
    responseTokens?: number;
  }): Promise<TaskVerdict> => {
    const problem = byId.get(r.example.id);
    if (!problem) return failedVerdict(`${name}: example ${r.example.id} does not come from this task`);
    const code = extractCode(r.response, problem.language);
    const result = await runner.run({ id: r.example.id, language: problem.language, code, tests: problem.tests });
    return { correct: result.passed, reward: shapeReward(result.passed, tokensOf(r), shaping), extracted: code };
  };

  return {
    kind: "single-turn",
    name,
    alphabet: alphabetOf(
      [...data.train, ...data.test].map((p) => render(p)),
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ()[]{}:;,.=+-*/%<>!&|^~'\"#_\n\t`\\?@$",
    ),
    stop: [],
    maxResponseLength,
    size: (split) => data.size(split),
    example(index: number, split: Split = "train"): TaskExample {
      const p = data.at(index, split);
      return {
        id: `${name}/${split}/${p.id}`,
        prompt: render(p),
        answer: "",
        meta: { split, language: p.language, tests: p.tests.inputs.length, sourceId: p.id },
      };
    },
    verify(requests) {
      const tests = Math.max(1, ...requests.map((r) => byId.get(r.example.id)?.tests.inputs.length ?? 1));
      const timeoutMs =
        options.sampleTimeoutMs ??
        tests * (runner.limits.timeLimitSec * 1000 + 2000) * Math.ceil(requests.length / runner.concurrency) + 5000;
      return verifyEach(requests, verifyOne, timeoutMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsRunner) runner.close();
    },
  };
}
