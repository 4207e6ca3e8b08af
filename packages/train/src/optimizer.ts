import { ConfigError, InvalidInputError, tf } from "@tokenrl/core";
import type { Scalar, Tensor } from "@tokenrl/core";
import { clipCoefficient, globalNorm } from "./clip.js";
import { lrSchedule } from "./schedule.js";
import type { LrSchedule, LrScheduleOptions } from "./schedule.js";

export interface AdamWOptions {
  /** Base learning rate (the schedule multiplies it). */
  lr: number;
  /** Adam's (beta1, beta2). Default [0.9, 0.999]. */
  betas: [number, number];
  /** Default 1e-8. */
  eps: number;
  /** Decoupled weight decay (Loshchilov and Hutter; torch.optim.AdamW). Default 0.01, as verl's actor. */
  weightDecay: number;
  /** Global gradient-norm clip (verl `grad_clip`); 0 = off. Default 1.0. */
  maxGradNorm: number;
  /** The LR schedule, as options or a multiplier function of completed steps. Default constant. */
  schedule: Partial<LrScheduleOptions> | LrSchedule;
}

export const ADAMW_DEFAULTS: Readonly<Omit<AdamWOptions, "lr">> = Object.freeze({
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  weightDecay: 0.01,
  maxGradNorm: 1.0,
  schedule: {},
});

/** One saved tensor of the optimiser: `m/00003`, `v/00003` (moments of variable 3). */
export interface OptimizerStateEntry {
  name: string;
  values: Float32Array;
  shape: number[];
}

/** Everything a resumed optimiser needs: the step count (which also drives the schedule) and both moments. */
export interface OptimizerState {
  step: number;
  tensors: OptimizerStateEntry[];
}

export interface StepResult {
  /** The global gradient norm before clipping (verl `actor/grad_norm`). */
  gradNorm: number;
  /** False when the gradient norm was NaN/Inf: nothing was changed. */
  applied: boolean;
  /** The learning rate this step used (verl `actor/lr`). */
  lr: number;
}

/**
 * AdamW with global-norm clipping, as torch.optim.AdamW after
 * clip_grad_norm_: `w <- w (1 - lr wd)`, then the bias-corrected Adam step
 * `w <- w - lr m_hat / (sqrt(v_hat) + eps)`. Written out rather than taken from
 * tfjs so that its whole state is the step count and the two moments, saved
 * and restored bit for bit: a resumed run takes the very same steps as one
 * that never stopped. Bias corrections and the LR are float64 on the host.
 */
export class AdamW {
  readonly variables: readonly tf.Variable[];
  private readonly o: AdamWOptions;
  private readonly schedule: LrSchedule;
  private t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(variables: readonly tf.Variable[], options: Partial<AdamWOptions> & { lr: number }) {
    const o = { ...ADAMW_DEFAULTS, ...options } as AdamWOptions;
    checkAdamW(o);
    this.o = o;
    this.schedule = typeof o.schedule === "function" ? o.schedule : lrSchedule(o.schedule);
    this.variables = variables;
    this.m = variables.map((w) => zeroVariable(w));
    this.v = variables.map((w) => zeroVariable(w));
  }

  /** Completed (applied) optimiser steps. */
  get step(): number {
    return this.t;
  }

  /** The learning rate the next step will use. */
  get lr(): number {
    return this.o.lr * this.schedule(this.t);
  }

  /**
   * Applies summed gradients (one per variable, in `variables` order): clips
   * them to `maxGradNorm` by their global norm and takes one AdamW step, unless
   * the norm is NaN/Inf (then nothing changes and `applied` is false). Does not
   * dispose `grads`.
   */
  applyGradients(grads: readonly Tensor[]): StepResult {
    if (grads.length !== this.variables.length)
      throw new InvalidInputError(`AdamW: ${grads.length} gradients for ${this.variables.length} variables`);
    const gradNorm = globalNorm(grads);
    const lr = this.lr;
    if (!Number.isFinite(gradNorm)) return { gradNorm, applied: false, lr };
    const scale = clipCoefficient(gradNorm, this.o.maxGradNorm);
    const [b1, b2] = this.o.betas;
    this.t++;
    const stepSize = lr / (1 - b1 ** this.t);
    const sqrtBc2 = Math.sqrt(1 - b2 ** this.t);
    const decay = 1 - lr * this.o.weightDecay;
    tf.tidy(() => {
      this.variables.forEach((w, i) => {
        const g = scale === 1 ? grads[i]! : tf.mul(grads[i]!, scale);
        const m = tf.add(tf.mul(this.m[i]!, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(this.v[i]!, b2), tf.mul(tf.square(g), 1 - b2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), this.o.eps);
        const decayed = decay === 1 ? w : tf.mul(w, decay);
        w.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
      });
    });
    return { gradNorm, applied: true, lr };
  }

  /**
   * Differentiates `loss()` with respect to the variables and applies the
   * gradients; a NaN/Inf loss or gradient is not trained on (`applied` false).
   */
  minimize(loss: () => Scalar): StepResult & { loss: number } {
    const { value, grads } = tf.variableGrads(loss, this.variables as tf.Variable[]);
    try {
      const lossValue = value.dataSync()[0]!;
      const ordered = this.variables.map((w) => grads[w.name]!);
      if (!Number.isFinite(lossValue)) return { loss: lossValue, gradNorm: Number.NaN, applied: false, lr: this.lr };
      return { loss: lossValue, ...this.applyGradients(ordered) };
    } finally {
      tf.dispose([value, ...(Object.values(grads) as Tensor[])]);
    }
  }

  /** The step count and both moments of every variable, in variable order. */
  async state(): Promise<OptimizerState> {
    const tensors: OptimizerStateEntry[] = [];
    for (const [i, w] of this.variables.entries()) {
      const key = String(i).padStart(5, "0");
      tensors.push({ name: `m/${key}`, values: (await this.m[i]!.data()) as Float32Array, shape: [...w.shape] });
      tensors.push({ name: `v/${key}`, values: (await this.v[i]!.data()) as Float32Array, shape: [...w.shape] });
    }
    return { step: this.t, tensors };
  }

  /** Restores a `state()`; a missing, mis-sized or non-finite moment is an error and changes nothing. */
  restore(state: OptimizerState): void {
    if (!(Number.isInteger(state.step) && state.step >= 0))
      throw new InvalidInputError(`optimizer state: step must be an integer >= 0, got ${JSON.stringify(state.step)}`);
    const byName = new Map(state.tensors.map((s) => [s.name, s]));
    const checked = this.variables.map((w, i) => {
      const key = String(i).padStart(5, "0");
      return (["m", "v"] as const).map((prefix) => {
        const entry = byName.get(`${prefix}/${key}`);
        if (!entry || entry.values.length !== w.size)
          throw new InvalidInputError(
            `optimizer state ${prefix}/${key} is missing or has the wrong size for variable ${i} [${w.shape}]`,
          );
        for (const x of entry.values) {
          if (!Number.isFinite(x)) throw new InvalidInputError(`optimizer state ${prefix}/${key} holds ${x}`);
        }
        return entry;
      });
    });
    tf.tidy(() => {
      checked.forEach(([m, v], i) => {
        this.m[i]!.assign(tf.tensor(m!.values, this.variables[i]!.shape));
        this.v[i]!.assign(tf.tensor(v!.values, this.variables[i]!.shape));
      });
    });
    this.t = state.step;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/** A non-trainable zero variable shaped like `w` (the initial tensor freed: the variable holds its own reference). */
function zeroVariable(w: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(w);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}

function checkAdamW(o: AdamWOptions): void {
  const finite = (path: string, x: unknown, ok: (x: number) => boolean, what: string) => {
    if (typeof x !== "number" || !Number.isFinite(x) || !ok(x))
      throw new ConfigError(path, `expected ${what}, got ${JSON.stringify(x)}`);
  };
  finite("optim.lr", o.lr, (x) => x >= 0, "a learning rate >= 0");
  if (!Array.isArray(o.betas) || o.betas.length !== 2)
    throw new ConfigError("optim.betas", `expected [beta1, beta2], got ${JSON.stringify(o.betas)}`);
  finite("optim.betas[0]", o.betas[0], (x) => x >= 0 && x < 1, "a number in [0, 1)");
  finite("optim.betas[1]", o.betas[1], (x) => x >= 0 && x < 1, "a number in [0, 1)");
  finite("optim.eps", o.eps, (x) => x > 0, "a number > 0");
  finite("optim.weightDecay", o.weightDecay, (x) => x >= 0, "a number >= 0");
  finite("optim.maxGradNorm", o.maxGradNorm, (x) => x >= 0, "a number >= 0 (0 = no clipping)");
}
