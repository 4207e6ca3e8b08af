/**
 * The one interface every tokenrl agent environment implements: the AgentGym
 * HTTP adapters (real ALFWorld / WebShop servers) and the offline household and
 * shop. A multi-turn rollout loop needs nothing else:
 *
 *   const { observation } = await env.reset(taskId);      // first user turn
 *   const r = await env.step(modelTurnText);              // { observation, reward, done }
 *
 * `observation` is always the text to show the model as the next user turn
 * (for ALFWorld it already ends with `AVAILABLE ACTIONS: ...`, as AgentGym formats
 * it); the environment's own raw text is in `info.rawObservation`.
 */

/** One message of the AgentGym conversation format. `trained` is false for environment text. */
export interface ConversationMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
  /** Whether the policy is trained on this message's tokens (AgentGym's `loss`). */
  readonly trained: boolean;
}

/**
 * How `step` reads its argument.
 * - `"react"` (AgentGym's default): the argument is the model's whole turn;
 *   the action is the text after the last `Action:`. A turn without one is not
 *   sent to the environment: it yields `Invalid Action.` plus the current
 *   observation, reward 0, not done.
 * - `"plain"`: the argument is the action command itself.
 */
export type ActionFormat = "react" | "plain";

export type Split = "train" | "test";

export interface TaskInfo {
  /** The id passed to reset (ALFWorld `game`, WebShop `session_id`). */
  readonly taskId: number;
  /** ALFWorld: "pick_and_place", ...; WebShop: "webshop". */
  readonly taskType: string;
  /** The goal as the environment states it ("put a clean plate in shelf." / "Find me ..."). */
  readonly instruction: string;
  /** Whether taskId is a training or a held-out task, when the environment knows. */
  readonly split: Split | undefined;
  /** Anything else the environment reported (ALFWorld `task_type` path, catalogue ids, ...). */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface ResetResult {
  readonly observation: string;
  readonly availableActions: readonly string[];
  readonly info: TaskInfo;
}

export interface StepInfo {
  /** The command actually sent to the environment, or undefined when the turn was unparsable. */
  readonly action: string | undefined;
  /** The ReAct thought, when there was one. */
  readonly thought: string | undefined;
  /** The environment's own text for this step, before formatting for the model. */
  readonly rawObservation: string;
  /** True when the turn could not be parsed and nothing was sent (`Invalid Action.`). */
  readonly invalidFormat: boolean;
  /** Steps taken in this episode so far, this one included. */
  readonly steps: number;
}

export interface StepResult {
  readonly observation: string;
  readonly reward: number;
  readonly done: boolean;
  readonly availableActions: readonly string[];
  readonly info: StepInfo;
}

export interface Environment {
  /** "alfworld" | "webshop" | "household" | "shop" ... */
  readonly name: string;
  /** The fixed two-message AgentGym preamble (instructions, then the model's acknowledgement). */
  readonly preamble: readonly ConversationMessage[];
  /** Start the task `taskId`; allowed at any time, also after `done`. */
  reset(taskId: number): Promise<ResetResult>;
  /** Apply one model turn (or command, in "plain" format). Throws after `done` until the next reset. */
  step(action: string): Promise<StepResult>;
  /** Release what the environment holds (a pooled server id, nothing for offline ones). */
  close(): Promise<void>;
}
