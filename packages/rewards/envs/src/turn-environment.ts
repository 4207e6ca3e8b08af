/**
 * The bookkeeping every Environment shares: parse the model's turn, answer an
 * unparsable one with `Invalid Action.` without touching the environment, count
 * steps, refuse to step before reset or after done. Concrete environments only
 * say how to start a task and how to apply a command.
 */
import type {
  ActionFormat,
  ConversationMessage,
  Environment,
  ResetResult,
  StepResult,
  TaskInfo,
} from "./environment.js";
import { EpisodeStateError } from "./errors.js";
import { invalidActionText, parseTurn } from "./react.js";

export interface AppliedAction {
  /** Text for the model (formatted). */
  readonly observation: string;
  /** The environment's own text. */
  readonly rawObservation: string;
  readonly reward: number;
  readonly done: boolean;
  readonly availableActions: readonly string[];
}

export interface StartedTask {
  readonly observation: string;
  readonly availableActions: readonly string[];
  readonly info: TaskInfo;
}

export abstract class TurnEnvironment implements Environment {
  abstract readonly name: string;
  abstract readonly preamble: readonly ConversationMessage[];
  readonly actionFormat: ActionFormat;
  private current: { observation: string; availableActions: readonly string[] } | undefined;
  private finished = false;
  private steps = 0;

  protected constructor(actionFormat: ActionFormat = "react") {
    this.actionFormat = actionFormat;
  }

  protected abstract startTask(taskId: number): Promise<StartedTask>;
  protected abstract applyAction(action: string): Promise<AppliedAction>;

  async reset(taskId: number): Promise<ResetResult> {
    this.current = undefined;
    const started = await this.startTask(taskId);
    this.current = { observation: started.observation, availableActions: started.availableActions };
    this.finished = false;
    this.steps = 0;
    return { observation: started.observation, availableActions: [...started.availableActions], info: started.info };
  }

  async step(turn: string): Promise<StepResult> {
    if (!this.current) throw new EpisodeStateError(`${this.name}: step() called before reset()`);
    if (this.finished)
      throw new EpisodeStateError(`${this.name}: step() called after the episode finished; reset() first`);
    this.steps++;
    const parsed = parseTurn(turn, this.actionFormat);
    if (!parsed) {
      return {
        observation: invalidActionText(this.current.observation),
        reward: 0,
        done: false,
        availableActions: [...this.current.availableActions],
        info: { action: undefined, thought: undefined, rawObservation: "", invalidFormat: true, steps: this.steps },
      };
    }
    const applied = await this.applyAction(parsed.action);
    this.current = { observation: applied.observation, availableActions: applied.availableActions };
    this.finished = applied.done;
    return {
      observation: applied.observation,
      reward: applied.reward,
      done: applied.done,
      availableActions: [...applied.availableActions],
      info: {
        action: parsed.action,
        thought: parsed.thought,
        rawObservation: applied.rawObservation,
        invalidFormat: false,
        steps: this.steps,
      },
    };
  }

  async close(): Promise<void> {
    this.current = undefined;
  }
}
