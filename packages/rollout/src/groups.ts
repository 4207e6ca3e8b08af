import { ConfigError, InvalidInputError } from "@tokenrl/core";
import type { RolloutEngine } from "./engine.js";
import type { SamplingParams } from "./sampling.js";
import type { RolloutSequence } from "./sequence.js";

export interface GroupSamplingOptions extends SamplingParams {
  /** G: responses per prompt. */
  groupSize: number;
  /** groupId of the first prompt (default 0); prompt i gets firstGroupId + i. */
  firstGroupId?: number;
}

/**
 * G responses per prompt (GRPO's group), in one generation batch of
 * `prompts.length * G` rows: prompt i's responses are rows i*G .. i*G+G-1, each
 * with `groupId = firstGroupId + i`.
 */
export async function sampleGroups(
  engine: RolloutEngine,
  prompts: readonly (readonly number[])[],
  options: GroupSamplingOptions,
): Promise<RolloutSequence[]> {
  const { groupSize, firstGroupId = 0, ...params } = options;
  if (!Number.isInteger(groupSize) || groupSize < 1)
    throw new ConfigError("groupSize", `must be an integer >= 1, got ${groupSize}`);
  const repeated = prompts.flatMap((p) => new Array<readonly number[]>(groupSize).fill(p));
  const sequences = await engine.generate(repeated, params);
  return sequences.map((s, r) => ({ ...s, groupId: firstGroupId + Math.floor(r / groupSize) }));
}

/** Verdict per sequence (1 correct, 0 wrong; any numbers compare by equality). */
export type VerifyFn = (sequences: RolloutSequence[]) => readonly number[] | Promise<readonly number[]>;

export interface DynamicSamplingOptions {
  engine: RolloutEngine;
  /** The next `n` prompts (token ids); fewer (or none) when the data runs out. */
  nextPrompts: (n: number) => readonly (readonly number[])[] | Promise<readonly (readonly number[])[]>;
  /** G: responses per prompt. */
  groupSize: number;
  /** Groups the training batch needs. */
  numGroups: number;
  /** N: generation batches allowed before giving up (DAPO's max_num_gen_batches). Default 1. */
  maxGenerationBatches?: number;
  /** Prompts per generation batch (default numGroups). */
  promptsPerBatch?: number;
  verify: VerifyFn;
  sampling?: SamplingParams;
}

export interface DynamicSamplingStats {
  generationBatches: number;
  groupsGenerated: number;
  /** Groups whose verdicts were all equal (no learning signal under group-relative advantages). */
  groupsDropped: number;
  groupsKept: number;
  /** Informative groups generated beyond numGroups and discarded, as verl truncates to the batch size. */
  groupsSurplus: number;
  /** Whether numGroups informative groups were found. */
  filled: boolean;
}

export interface DynamicSamplingResult {
  /** Kept sequences, group by group; groupIds renumbered 0..groupsKept-1. */
  sequences: RolloutSequence[];
  /** Verdicts aligned with `sequences`. */
  verdicts: number[];
  stats: DynamicSamplingStats;
}

/**
 * DAPO dynamic sampling (Yu et al., 2025, §3.2): keep only groups whose verdicts
 * vary, over-generating up to N generation batches to fill the training batch.
 * A group whose G responses are all right (or all wrong) has zero group-relative
 * advantage and only dilutes the batch. Returns at most `numGroups` groups;
 * `stats.filled` is false when N batches (or the prompts) ran out first.
 */
export async function dynamicSampling(options: DynamicSamplingOptions): Promise<DynamicSamplingResult> {
  const { engine, groupSize, numGroups, verify } = options;
  const maxBatches = options.maxGenerationBatches ?? 1;
  const perBatch = options.promptsPerBatch ?? numGroups;
  if (!Number.isInteger(numGroups) || numGroups < 1)
    throw new ConfigError("numGroups", `must be an integer >= 1, got ${numGroups}`);
  if (!Number.isInteger(maxBatches) || maxBatches < 1)
    throw new ConfigError("maxGenerationBatches", `must be an integer >= 1, got ${maxBatches}`);
  if (!Number.isInteger(perBatch) || perBatch < 1)
    throw new ConfigError("promptsPerBatch", `must be an integer >= 1, got ${perBatch}`);
  const stats: DynamicSamplingStats = {
    generationBatches: 0,
    groupsGenerated: 0,
    groupsDropped: 0,
    groupsKept: 0,
    groupsSurplus: 0,
    filled: false,
  };
  const sequences: RolloutSequence[] = [];
  const verdicts: number[] = [];
  while (stats.groupsKept < numGroups && stats.generationBatches < maxBatches) {
    const prompts = await options.nextPrompts(perBatch);
    if (prompts.length === 0) break;
    const generated = await sampleGroups(engine, prompts, { ...options.sampling, groupSize });
    stats.generationBatches++;
    const got = await verify(generated);
    if (got.length !== generated.length)
      throw new InvalidInputError(
        `dynamicSampling: verify returned ${got.length} verdicts for ${generated.length} sequences`,
      );
    for (let g = 0; g < prompts.length; g++) {
      stats.groupsGenerated++;
      const rows = generated.slice(g * groupSize, (g + 1) * groupSize);
      const v = got.slice(g * groupSize, (g + 1) * groupSize);
      if (v.every((x) => x === v[0])) {
        stats.groupsDropped++;
        continue;
      }
      if (stats.groupsKept >= numGroups) {
        stats.groupsSurplus++;
        continue;
      }
      const groupId = stats.groupsKept++;
      sequences.push(...rows.map((s) => ({ ...s, groupId })));
      verdicts.push(...v);
    }
  }
  stats.filled = stats.groupsKept >= numGroups;
  return { sequences, verdicts, stats };
}
