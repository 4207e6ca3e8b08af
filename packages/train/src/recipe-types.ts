import type { AggregationMode } from "@tokenrl/core";
import type { KlEstimator } from "@tokenrl/objectives";

// The recipe as data (a leaf module: presets and the resolver both read it).

/** A registered algorithm by name, with its options (checked by the algorithm itself). */
export interface NamedOptions {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** The KL-to-reference loss term (verl `use_kl_loss`, `kl_loss_coef`, `kl_loss_type`). */
export interface KlSpec {
  readonly coef: number;
  /** k1 ("kl"), abs, k2 ("mse"), k3 ("low_var_kl"). */
  readonly estimator: KlEstimator;
}

/** The entropy bonus (verl `entropy_coeff`): `loss -= coef * aggregate(H)`. */
export interface EntropySpec {
  readonly coef: number;
}

/** DAPO's soft overlong penalty (verl `reward_model.overlong_buffer`: `len` = bufferLength, `penalty_factor` = factor, max_response_length = maxLength). */
export interface OverlongSpec {
  readonly maxLength: number;
  readonly bufferLength: number;
  readonly factor: number;
}

/** Every part of an RL recipe; a preset is a named value of this. */
export interface RecipeSpec {
  readonly advantage: NamedOptions;
  /** A partitioner whose partition is handed to the objective (null: the objective partitions itself, if it does). */
  readonly partition: NamedOptions | null;
  readonly objective: NamedOptions;
  /** How per-token losses become the scalar (verl `loss_agg_mode`), also used by the KL and entropy terms. */
  readonly aggregation: AggregationMode;
  readonly kl: KlSpec | null;
  readonly entropy: EntropySpec | null;
  /** DAPO dynamic sampling: drop groups whose rewards are all equal and sample more. */
  readonly dynamicSampling: boolean;
  readonly overlong: OverlongSpec | null;
}

/** A resolved recipe: the preset it started from (if any) and every part. */
export interface Recipe extends RecipeSpec {
  readonly preset: string | null;
}
