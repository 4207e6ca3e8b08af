import { ConfigError, InvalidInputError, createRng, gatherRows, tf } from "@tokenrl/core";
import type { Rng, Tensor2D, Tensor3D, TrainingBatch } from "@tokenrl/core";
import type { GenerativeModel, KVCacheLike, TokenizerLike } from "./model.js";
import {
  type ResolvedSamplingParams,
  type SampledTokens,
  type SamplingParams,
  resolveSamplingParams,
  sampleTokens,
} from "./sampling.js";
import { type FinishReason, type RolloutSequence, toTrainingBatch } from "./sequence.js";
import { StopStringMatcher } from "./stop.js";

export interface GenerateOptions extends SamplingParams {
  /** Needed for stop strings and for `text`; without it texts are "". */
  tokenizer?: TokenizerLike;
  /** Prefill once and decode one token per step from a KV cache (default true). False recomputes the whole sequence each step (the reference the cache is tested against). */
  useCache?: boolean;
  /** Randomness for sampling when `seed` is not given; row b samples from `rng.fork(rowOffset + b)`. */
  rng?: Rng;
  /**
   * Index of this call's first row in a larger batch split across callers (worker
   * threads): row b samples from the stream of row `rowOffset + b`, so a split
   * batch draws exactly the tokens the whole batch would. Default 0.
   */
  rowOffset?: number;
  /**
   * The stream index of every row (instead of `rowOffset + b`): row b samples
   * from `rng.fork(rowStreams[b])`. For a batch split across callers by any
   * assignment of rows (the worker pool deals rows round-robin, so every
   * worker gets a share of every group), each row still draws exactly the
   * tokens it would in the whole batch.
   */
  rowStreams?: readonly number[];
  /**
   * Left-pad every prompt to at least this many tokens (default: the longest
   * prompt). A batch split across callers passes the whole batch's longest, so
   * every row is laid out, and computed, exactly as in the unsplit batch.
   */
  padTo?: number;
  /**
   * Supplies the prefill of the call's distinct prompts instead of running it
   * here (a worker pool computes each distinct prompt once across its workers
   * and hands every worker the ones its rows need). Called once, with the row
   * indices of each distinct prompt's first occurrence, in order of first
   * occurrence; returns (or resolves to) what `prefillPrompts` returns for those
   * prompts in that order, padded to this call's length P = max(longest
   * prompt, `padTo`): their last-position logits `[U, V]` and a cache of `U`
   * rows holding the padded prompts, with room for `maxTokens - 1` more
   * (checked where the cache states its `maxLength`). generate owns (and frees)
   * both. Needs `useCache`.
   */
  prefill?: (distinctRows: readonly number[]) => Prefilled | Promise<Prefilled>;
  /** Overrides model.config.eosTokenId / tokenizer.eosTokenId. */
  eosTokenId?: number;
  /** Overrides model.config.padTokenId / tokenizer.padTokenId (default 0). */
  padTokenId?: number;
  /** Group id per prompt row, copied onto the sequences. */
  groupIds?: readonly number[];
  /** Cancels the call: checked after every step; generate then frees its cache and rejects with `signal.reason`. (For the completions server: work of a client that has gone.) */
  signal?: AbortSignal;
  /** Awaited after every step (a server yields to its event loop here, streams tokens, reads top log-probs). */
  onStep?: (step: GenerateStep) => void | Promise<void>;
}

/** What `onStep` sees after a step. */
export interface GenerateStep {
  /** 0 for the token sampled from the prefill, then one per decode step. */
  step: number;
  /** Prompt index of each row sampled in this step, in the order of the arrays below. */
  rows: readonly number[];
  tokenIds: Int32Array;
  logProbs: Float32Array;
  /** Whether the row finished with this token. */
  finished: readonly boolean[];
  /** This step's last-position logits `[rows.length, V]`; valid during the call only (generate disposes them). */
  logits: Tensor2D;
}

/** A prefill's output: the last position's logits `[B, V]` and the KV cache of the prompts (the caller owns both). */
export interface Prefilled {
  logits: Tensor2D;
  cache: KVCacheLike;
}

export interface PrefillOptions {
  /** Left-pad every prompt to at least this many tokens (default: the longest prompt). */
  padTo?: number;
  /** Default as generate: model.config.padTokenId, then tokenizer.padTokenId, then 0. */
  padTokenId?: number;
  tokenizer?: TokenizerLike;
  /** The cache's maxLength: the padded prompt plus the tokens to come. */
  maxLength: number;
}

export interface GenerateStats {
  /** Forward calls: one prefill plus one per decode step. */
  forwardCalls: number;
  /** Tokens sampled across all rows. */
  generatedTokens: number;
  /** Prompt tokens (without padding). */
  promptTokens: number;
  prefillMs: number;
  decodeMs: number;
}

export interface GenerateResult {
  sequences: RolloutSequence[];
  texts: string[];
  stats: GenerateStats;
}

interface Row {
  prompt: number[];
  tokens: number[];
  logProbs: number[];
  finish?: FinishReason;
  stoppedBy?: string | number;
  stopAt?: number;
  matcher: StopStringMatcher;
  rng: Rng;
}

function resolveIds(
  model: GenerativeModel,
  options: Pick<GenerateOptions, "eosTokenId" | "padTokenId" | "tokenizer">,
): { eos: readonly number[]; pad: number } {
  const one = options.eosTokenId ?? model.config.eosTokenId ?? options.tokenizer?.eosTokenId;
  const eos =
    options.eosTokenId !== undefined
      ? [options.eosTokenId]
      : model.config.eosTokenIds?.length
        ? model.config.eosTokenIds
        : one !== undefined
          ? [one]
          : [];
  const pad = options.padTokenId ?? model.config.padTokenId ?? options.tokenizer?.padTokenId ?? 0;
  return { eos, pad };
}

function checkPrompts(prompts: readonly (readonly number[])[], vocabSize: number, caller = "generate"): void {
  if (prompts.length === 0)
    throw new InvalidInputError(`${caller}: prompts is empty; pass at least one prompt of token ids`);
  prompts.forEach((p, i) => {
    if (p.length === 0)
      throw new InvalidInputError(`${caller}: prompts[${i}] is empty; every prompt needs at least one token`);
    const bad = p.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad !== undefined)
      throw new InvalidInputError(`${caller}: prompts[${i}] holds token id ${bad}, outside [0, ${vocabSize})`);
  });
}

/** The last position's logits `[A, V]`; disposes the full `[A, L, V]`. */
function lastLogits(logits: Tensor3D): Tensor2D {
  const [A, L, V] = logits.shape;
  const last = tf.tidy(() => tf.reshape(tf.slice(logits, [0, L - 1, 0], [A, 1, V]), [A, V]) as Tensor2D);
  logits.dispose();
  return last;
}

/** Row-major `[rows, width]` inputs of one forward: ids and positions `[A, L]`, mask `[A, S]`. */
interface StepInputs {
  ids: Int32Array;
  mask: Float32Array;
  positions: Int32Array;
  rows: number;
  length: number;
}

/** Packs per-row arrays into `StepInputs` (the prefill and the no-cache reference path). */
function packRows(ids: readonly number[][], mask: readonly number[][], positions: readonly number[][]): StepInputs {
  return {
    ids: Int32Array.from(ids.flat()),
    mask: Float32Array.from(mask.flat()),
    positions: Int32Array.from(positions.flat()),
    rows: ids.length,
    length: ids[0]!.length,
  };
}

/** Prompts left-padded to P: ids, mask (1 real, 0 pad) and HF's positions (pads at 0). */
function padPrompts(
  prompts: readonly (readonly number[])[],
  P: number,
  pad: number,
): { ids: number[][]; mask: number[][]; positions: number[][] } {
  const ids: number[][] = [];
  const mask: number[][] = [];
  const positions: number[][] = [];
  for (const p of prompts) {
    const padding = P - p.length;
    const rowIds = new Array<number>(P);
    const rowMask = new Array<number>(P);
    const rowPositions = new Array<number>(P);
    for (let j = 0; j < P; j++) {
      rowIds[j] = j < padding ? pad : p[j - padding]!;
      rowMask[j] = j < padding ? 0 : 1;
      rowPositions[j] = Math.max(0, j - padding);
    }
    ids.push(rowIds);
    mask.push(rowMask);
    positions.push(rowPositions);
  }
  return { ids, mask, positions };
}

/**
 * The prefill generate runs: the prompts left-padded (as generate pads them)
 * in one forward into a fresh cache of `maxLength`. Returns the last
 * position's logits `[B, V]` and the cache; the caller owns both. A row's
 * result does not depend on the other rows, so prompts prefilled in parts
 * (each worker of a pool its share) give what one call over all of them gives.
 */
export function prefillPrompts(
  model: GenerativeModel,
  prompts: readonly (readonly number[])[],
  options: PrefillOptions,
): Prefilled {
  if (!options)
    throw new ConfigError(
      "options",
      "prefillPrompts needs { maxLength } (the cache's room: padded prompt + tokens to come)",
    );
  checkPrompts(prompts, model.config.vocabSize, "prefillPrompts");
  const padTo = options.padTo ?? 0;
  if (!Number.isInteger(padTo) || padTo < 0) throw new ConfigError("padTo", `must be an integer >= 0, got ${padTo}`);
  const P = Math.max(padTo, ...prompts.map((p) => p.length));
  if (!Number.isInteger(options.maxLength) || options.maxLength < P)
    throw new ConfigError("maxLength", `must be an integer >= the padded prompt length ${P}, got ${options.maxLength}`);
  const padded = padPrompts(prompts, P, resolveIds(model, options).pad);
  const cache = model.createCache(prompts.length, options.maxLength);
  try {
    return step(model, packRows(padded.ids, padded.mask, padded.positions), cache);
  } catch (err) {
    cache.dispose();
    throw err;
  }
}

/**
 * A `prefill` hook's result, checked against what this call's own prefill
 * would give (rows, vocabulary, the padded length, and room for the tokens to
 * come where the cache states its `maxLength`); freed when it does not fit.
 */
function checkPrefilled(out: Prefilled, rows: number, P: number, vocabSize: number, maxTokens: number): Prefilled {
  const given = out as Partial<Prefilled> | undefined;
  if (!given?.logits || !given.cache) {
    given?.logits?.dispose?.();
    given?.cache?.dispose?.();
    throw new InvalidInputError(
      "generate: options.prefill must return { logits, cache } (what prefillPrompts returns)",
    );
  }
  let problem: string | undefined;
  try {
    const room = (out.cache as { maxLength?: unknown }).maxLength;
    problem =
      out.logits.rank !== 2 || out.logits.shape[0] !== rows || out.logits.shape[1] !== vocabSize
        ? `logits of shape [${out.logits.shape}], expected [${rows}, ${vocabSize}]`
        : out.cache.batchSize !== rows || out.cache.length !== P
          ? `a cache of ${out.cache.batchSize} rows x ${out.cache.length} tokens, expected ${rows} x ${P}`
          : typeof room === "number" && room < P + maxTokens - 1
            ? `a cache of maxLength ${room}, below the ${P} prompt + ${maxTokens - 1} generated tokens it must hold`
            : undefined;
  } catch (err) {
    problem = `a result that cannot be read (${(err as Error).message})`;
  }
  if (problem) {
    out.logits.dispose();
    out.cache.dispose();
    throw new InvalidInputError(`generate: options.prefill returned ${problem}`);
  }
  return out;
}

/** Runs one forward and adopts the cache it returns (disposing a replaced one). */
function step(
  model: GenerativeModel,
  inputs: StepInputs,
  cache: KVCacheLike | undefined,
): { logits: Tensor2D; cache: KVCacheLike } {
  const { rows: A, length: L } = inputs;
  const inputIds = tf.tensor2d(inputs.ids, [A, L], "int32") as Tensor2D;
  const attentionMask = tf.tensor2d(inputs.mask, [A, inputs.mask.length / A], "float32") as Tensor2D;
  const positionIds = tf.tensor2d(inputs.positions, [A, L], "int32") as Tensor2D;
  try {
    const out = model.forward(inputIds, { attentionMask, positionIds, logits: "last", ...(cache ? { cache } : {}) });
    if (cache && out.cache !== cache) cache.dispose();
    return { logits: lastLogits(out.logits), cache: out.cache };
  } finally {
    tf.dispose([inputIds, attentionMask, positionIds]);
  }
}

/**
 * Batched generation. Prompts (token ids) are left-padded into one batch and
 * prefilled once into the model's KV cache; then every unfinished row gets one
 * token per step. Finished rows leave the batch (`cache.selectRows`), so late
 * steps cost only what is still running. A row finishes on EOS (unless
 * `ignoreEos`), a stop token id, a stop string in its decoded text, or
 * `maxTokens`.
 *
 * Rows sample from independent seeded streams (`seed` or `rng`, forked per row),
 * so results are reproducible and a row's tokens do not depend on its batch-mates
 * (up to floating-point differences between batch shapes).
 */
export async function generate(
  model: GenerativeModel,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const params: ResolvedSamplingParams = resolveSamplingParams(options);
  const { tokenizer } = options;
  if (params.stop.length > 0 && !tokenizer)
    throw new ConfigError("sampling.stop", "stop strings need a tokenizer to decode responses; pass options.tokenizer");
  if (options.groupIds && options.groupIds.length !== prompts.length) {
    throw new ConfigError("groupIds", `expected one per prompt (${prompts.length}), got ${options.groupIds.length}`);
  }
  checkPrompts(prompts, model.config.vocabSize);
  options.signal?.throwIfAborted();
  const { eos, pad } = resolveIds(model, options);
  const useCache = options.useCache ?? true;
  const base = params.seed !== undefined ? createRng(params.seed) : (options.rng ?? createRng(0));
  const rowOffset = options.rowOffset ?? 0;
  if (!Number.isInteger(rowOffset) || rowOffset < 0)
    throw new ConfigError("rowOffset", `must be an integer >= 0, got ${rowOffset}`);
  const streams = options.rowStreams;
  if (streams) {
    if (options.rowOffset !== undefined) throw new ConfigError("rowStreams", "give rowStreams or rowOffset, not both");
    if (streams.length !== prompts.length)
      throw new ConfigError("rowStreams", `expected one per prompt (${prompts.length}), got ${streams.length}`);
    const bad = streams.find((i) => !Number.isInteger(i) || i < 0);
    if (bad !== undefined) throw new ConfigError("rowStreams", `every index must be an integer >= 0, got ${bad}`);
  }

  const B = prompts.length;
  const padTo = options.padTo ?? 0;
  if (!Number.isInteger(padTo) || padTo < 0) throw new ConfigError("padTo", `must be an integer >= 0, got ${padTo}`);
  const P = Math.max(padTo, ...prompts.map((p) => p.length));
  const rows: Row[] = prompts.map((p, b) => ({
    prompt: [...p],
    tokens: [],
    logProbs: [],
    matcher: new StopStringMatcher(params.stop),
    rng: base.fork(streams ? streams[b]! : rowOffset + b),
  }));
  const {
    ids: paddedIds,
    mask: promptMask,
    positions: promptPositions,
  } = padPrompts(
    rows.map((r) => r.prompt),
    P,
    pad,
  );

  const stats: GenerateStats = {
    forwardCalls: 0,
    generatedTokens: 0,
    promptTokens: rows.reduce((n, r) => n + r.prompt.length, 0),
    prefillMs: 0,
    decodeMs: 0,
  };
  let active = rows.map((_, b) => b);
  // Identical prompts (a group's G copies) are prefilled once and their cache rows fanned out.
  const prefill = distinctPrompts(rows.map((r) => r.prompt));
  if (options.prefill && !useCache) throw new ConfigError("prefill", "a prefill hook needs useCache");
  let cache: KVCacheLike | undefined =
    useCache && !options.prefill ? model.createCache(prefill.unique.length, P + params.maxTokens) : undefined;
  try {
    for (let t = 0; t < params.maxTokens && active.length > 0; t++) {
      const started = performance.now();
      let out: { logits: Tensor2D; cache: KVCacheLike };
      if (t === 0 && useCache) {
        const u = prefill.unique;
        out = options.prefill
          ? checkPrefilled(await options.prefill(u), u.length, P, model.config.vocabSize, params.maxTokens)
          : step(
              model,
              packRows(
                u.map((b) => paddedIds[b]!),
                u.map((b) => promptMask[b]!),
                u.map((b) => promptPositions[b]!),
              ),
              cache,
            );
        // Adopted before the fan-out, so the finally below frees it if the fan-out throws.
        cache = out.cache;
        if (u.length < B) out = fanOut(out, prefill.expand);
      } else if (t === 0) {
        out = step(model, packRows(paddedIds, promptMask, promptPositions), undefined);
      } else if (useCache) {
        out = step(model, decodeInputs(active, rows, promptMask, P, t), cache);
      } else {
        out = step(
          model,
          packRows(
            active.map((b) => [...paddedIds[b]!, ...rows[b]!.tokens]),
            active.map((b) => [...promptMask[b]!, ...new Array<number>(t).fill(1)]),
            active.map((b) => [...promptPositions[b]!, ...rows[b]!.tokens.map((_, j) => rows[b]!.prompt.length + j)]),
          ),
          undefined,
        );
      }
      if (useCache) cache = out.cache;
      else out.cache.dispose();
      stats.forwardCalls++;
      let still: number[] = [];
      // The logits live until after onStep (it may read them), then are freed.
      try {
        const sampled: SampledTokens = await sampleTokens(out.logits, params, rowRngs(active, rows));
        still = recordSampled(active, rows, sampled, params, eos, tokenizer);
        stats.generatedTokens += active.length;
        if (options.onStep) {
          const finished = active.map((b) => rows[b]!.finish !== undefined);
          await options.onStep({ step: t, rows: active, ...sampled, finished, logits: out.logits });
        }
      } finally {
        out.logits.dispose();
      }
      options.signal?.throwIfAborted();
      if (t === 0) stats.prefillMs += performance.now() - started;
      else stats.decodeMs += performance.now() - started;
      if (still.length < active.length && still.length > 0 && cache) {
        const selected = cache.selectRows(still);
        if (selected !== cache) cache.dispose();
        cache = selected;
      }
      active = pick(active, still);
    }
  } finally {
    cache?.dispose();
  }

  const sequences = rows.map((row, b): RolloutSequence => {
    const finishReason = row.finish ?? "length";
    return {
      promptIds: row.prompt,
      responseIds: row.tokens,
      rolloutLogProbs: row.logProbs,
      finishReason,
      ...(row.stoppedBy !== undefined ? { stoppedBy: row.stoppedBy } : {}),
      text: textOf(row, tokenizer),
      ...(options.groupIds ? { groupId: options.groupIds[b]! } : {}),
    };
  });
  return { sequences, texts: sequences.map((s) => s.text), stats };
}

// The decode step's per-row loops live in module-level functions: as callbacks
// made in each step, their optimised code went with them and was compiled again
// in every RL step (in each worker); inlined into generate, they made it hot
// enough to optimise, and it deoptimised on every new options shape.

/** The active rows' random streams, in order. */
function rowRngs(active: readonly number[], rows: readonly Row[]): Rng[] {
  const out = new Array<Rng>(active.length);
  for (let i = 0; i < active.length; i++) out[i] = rows[active[i]!]!.rng;
  return out;
}

/** Appends each active row's sampled token and log-prob, finishes rows; returns the positions of those still running. */
function recordSampled(
  active: readonly number[],
  rows: readonly Row[],
  sampled: SampledTokens,
  params: ResolvedSamplingParams,
  eos: readonly number[],
  tokenizer: TokenizerLike | undefined,
): number[] {
  const still: number[] = [];
  for (let i = 0; i < active.length; i++) {
    const row = rows[active[i]!]!;
    const token = sampled.tokenIds[i]!;
    row.tokens.push(token);
    row.logProbs.push(sampled.logProbs[i]!);
    finishRow(row, token, params, eos, tokenizer);
    if (!row.finish) still.push(i);
  }
  return still;
}

/** `xs[at[i]]` for each i. */
function pick(xs: readonly number[], at: readonly number[]): number[] {
  const out = new Array<number>(at.length);
  for (let i = 0; i < at.length; i++) out[i] = xs[at[i]!]!;
  return out;
}

/**
 * Decode step t's inputs for the active rows: each row's last token, its
 * prompt mask followed by t ones, and its position. Built as typed arrays: as
 * nested arrays, flattened and type-inferred by tfjs, this was ~0.8 ms of a
 * batch-128 step, which the batch split across workers does not shrink alike.
 */
function decodeInputs(
  active: readonly number[],
  rows: readonly Row[],
  promptMask: readonly number[][],
  P: number,
  t: number,
): StepInputs {
  const A = active.length;
  const S = P + t;
  const ids = new Int32Array(A);
  const mask = new Float32Array(A * S);
  const positions = new Int32Array(A);
  for (let i = 0; i < A; i++) {
    const b = active[i]!;
    const row = rows[b]!;
    ids[i] = row.tokens[t - 1]!;
    mask.set(promptMask[b]!, i * S);
    mask.fill(1, i * S + P, (i + 1) * S);
    positions[i] = row.prompt.length + t - 1;
  }
  return { ids, mask, positions, rows: A, length: 1 };
}

/**
 * The first row of each distinct prompt, and for every row the index of its
 * distinct one: how generate prefills a group's copies once (and a worker
 * pool shares a call's prefill). Keyed on the prompts, not their padded ids:
 * a prompt that starts with the pad id pads to the ids of a shorter one, with
 * another mask.
 */
export function distinctPrompts(prompts: readonly (readonly number[])[]): { unique: number[]; expand: number[] } {
  const seen = new Map<string, number>();
  const unique: number[] = [];
  const expand = prompts.map((ids, b) => {
    const key = ids.join(",");
    let k = seen.get(key);
    if (k === undefined) {
      k = unique.length;
      seen.set(key, k);
      unique.push(b);
    }
    return k;
  });
  return { unique, expand };
}

/**
 * A prefill of the distinct prompts, fanned out to every row: cache rows and
 * logits rows repeated. Frees `out.logits` whatever happens; if it throws,
 * `out.cache` is the caller's to free.
 */
function fanOut(
  out: { logits: Tensor2D; cache: KVCacheLike },
  expand: number[],
): { logits: Tensor2D; cache: KVCacheLike } {
  let logits: Tensor2D;
  try {
    logits = gatherRows(out.logits, expand) as Tensor2D;
  } finally {
    out.logits.dispose();
  }
  try {
    const cache = out.cache.selectRows(expand);
    if (cache !== out.cache) out.cache.dispose();
    return { logits, cache };
  } catch (err) {
    logits.dispose();
    throw err;
  }
}

function finishRow(
  row: Row,
  token: number,
  params: ResolvedSamplingParams,
  eos: readonly number[],
  tokenizer: TokenizerLike | undefined,
): void {
  if (!params.ignoreEos && eos.includes(token)) {
    row.finish = "stop";
    row.stoppedBy = token;
  } else if (params.stopTokenIds.includes(token)) {
    row.finish = "stop";
    row.stoppedBy = token;
  } else if (row.matcher.active && tokenizer) {
    const match = row.matcher.check(tokenizer.decode(row.tokens));
    if (match) {
      row.finish = "stop";
      row.stoppedBy = match.stop;
      row.stopAt = match.index + (params.includeStopStrInOutput ? match.stop.length : 0);
    }
  }
  if (!row.finish && row.tokens.length >= params.maxTokens) row.finish = "length";
}

/** Decoded response: without the stopping token id, cut at the stop string (vLLM's output text). */
function textOf(row: Row, tokenizer: TokenizerLike | undefined): string {
  if (!tokenizer) return "";
  if (typeof row.stoppedBy === "number") return tokenizer.decode(row.tokens.slice(0, -1));
  const text = tokenizer.decode(row.tokens);
  return row.stopAt !== undefined ? text.slice(0, row.stopAt) : text;
}

/** `generate`, then the TrainingBatch fields (caller owns the tensors; `disposeBatch` frees them). */
export async function generateBatch(
  model: GenerativeModel,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions = {},
): Promise<GenerateResult & { batch: TrainingBatch }> {
  const result = await generate(model, prompts, options);
  const { pad } = resolveIds(model, options);
  return { ...result, batch: toTrainingBatch(result.sequences, { padTokenId: pad }) };
}
