import { tf } from "@tokenrl/core";
import type { Scalar, Tensor } from "@tokenrl/core";

export interface OptimizerStateEntry {
  name: string;
  values: Float32Array;
  shape: number[];
}

/**
 * Adam (Kingma and Ba) with global-norm gradient clipping, written out rather
 * than taken from tfjs so that its whole state is the step count and the two
 * moments: saved and restored exactly, a resumed run takes the very same steps
 * as one that never stopped (tfjs's Adam rebuilds its bias-correction
 * accumulators from the step count on restore, which differs in the last bits).
 */
export class ClippedAdam {
  private readonly variables: tf.Variable[];
  private readonly learningRate: number;
  private readonly maxGradNorm: number;
  private readonly beta1 = 0.9;
  private readonly beta2 = 0.999;
  private readonly epsilon = 1e-8;
  private t = 0;
  private m: tf.Variable[];
  private v: tf.Variable[];

  constructor(variables: tf.Variable[], learningRate: number, maxGradNorm: number) {
    this.variables = variables;
    this.learningRate = learningRate;
    this.maxGradNorm = maxGradNorm;
    this.m = variables.map((w) => tf.variable(tf.zerosLike(w), false));
    this.v = variables.map((w) => tf.variable(tf.zerosLike(w), false));
  }

  /**
   * Computes `loss()`'s gradients and applies them, unless the loss or the
   * gradient norm is NaN/Inf: a non-finite step is reported, never trained on.
   * Returns the loss and the gradient norm before clipping.
   */
  step(loss: () => Scalar): { loss: number; gradNorm: number; applied: boolean } {
    const { value, grads } = tf.variableGrads(loss, this.variables);
    const ordered = this.variables.map((w) => grads[w.name]!);
    const norm = tf.tidy(() => tf.sqrt(tf.addN(ordered.map((g) => tf.sum(tf.square(g))))));
    const lossValue = value.dataSync()[0]!;
    const gradNorm = norm.dataSync()[0]!;
    const applied = Number.isFinite(lossValue) && Number.isFinite(gradNorm);
    if (applied) {
      const scale = this.maxGradNorm > 0 ? Math.min(1, this.maxGradNorm / (gradNorm + 1e-6)) : 1;
      this.t++;
      // Bias corrections in float64 on the host, folded into one step size.
      const stepSize = (this.learningRate * Math.sqrt(1 - this.beta2 ** this.t)) / (1 - this.beta1 ** this.t);
      const epsHat = this.epsilon * Math.sqrt(1 - this.beta2 ** this.t);
      tf.tidy(() => {
        this.variables.forEach((w, i) => {
          const g = scale === 1 ? ordered[i]! : tf.mul(ordered[i]!, scale);
          const m = tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(g, 1 - this.beta1));
          const v = tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
          this.m[i]!.assign(m);
          this.v[i]!.assign(v);
          w.assign(tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsHat)), stepSize)));
        });
      });
    }
    tf.dispose([value, norm, ...(Object.values(grads) as Tensor[])]);
    return { loss: lossValue, gradNorm, applied };
  }

  /** The step count and both moments of every variable, in variable order. */
  async state(): Promise<OptimizerStateEntry[]> {
    const out: OptimizerStateEntry[] = [{ name: "step", values: new Float32Array([this.t]), shape: [1] }];
    for (const [i, w] of this.variables.entries()) {
      const key = String(i).padStart(5, "0");
      out.push({ name: `m/${key}`, values: (await this.m[i]!.data()) as Float32Array, shape: w.shape });
      out.push({ name: `v/${key}`, values: (await this.v[i]!.data()) as Float32Array, shape: w.shape });
    }
    return out;
  }

  async restore(state: readonly OptimizerStateEntry[]): Promise<void> {
    const byName = new Map(state.map((s) => [s.name, s]));
    const step = byName.get("step");
    if (!step) throw new Error("optimizer state has no step count");
    this.variables.forEach((w, i) => {
      const key = String(i).padStart(5, "0");
      for (const [prefix, target] of [["m", this.m[i]!] as const, ["v", this.v[i]!] as const]) {
        const entry = byName.get(`${prefix}/${key}`);
        if (!entry || entry.values.length !== w.size) {
          throw new Error(
            `optimizer state ${prefix}/${key} is missing or has the wrong size for ${w.name} [${w.shape}]`,
          );
        }
        target.assign(tf.tensor(entry.values, w.shape));
      }
    });
    this.t = step.values[0]!;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
