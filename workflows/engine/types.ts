// The data of a runbook run: what a runbook declares, the options of a run, the state the engine
// keeps (carried across continue-as-new) and the progress it reports. Plain, serialisable data.

import type { CommandSpec, TargetSelector, TaskResult } from '../../activities/types.js';
import type { OutcomeClass } from '../../tat/outcome.js';
import type { Shape, Size } from './plan.js';

export type { CommandSpec, TargetSelector };

/**
 * One thing done to every target of a batch, in order. A target that does not succeed stops. Its
 * role (a runbook step) comes from where it is declared, in `steps`; its name is free (`health`
 * included): the probe, the health check and the rollback are declared apart and never mistaken
 * for a step of the same name.
 */
export type TargetStep =
  | {
      kind: 'command';
      /** Unique in the runbook, 1-32 of `[A-Za-z0-9_-]` (`deploy`, `upgrade`): names the run's saved command. */
      name: string;
      command: CommandSpec;
      /** Running it changes the target, so a target that started it is rolled back. Default true. */
      changes?: boolean;
      /**
       * Values for the script's custom parameters `{{name}}`: given (even empty), the command is
       * made with TAT's custom parameters on, and every `{{name}}` of the script needs a value
       * (here or in `command.defaultParameters`). Without, the script runs as written.
       */
      parameters?: Record<string, string>;
    }
  | {
      kind: 'reboot';
      name: string;
      /** The command that reboots (it should return before the machine goes down). */
      command: CommandSpec;
      /** Seconds to wait for the agent to go offline, then to come back. */
      offlineWithinSeconds?: number;
      onlineWithinSeconds?: number;
    };

export interface HealthCheck {
  command: CommandSpec;
  /** Extra attempts after a failed check, `intervalSeconds` apart. */
  retries?: number;
  intervalSeconds?: number;
  /** Run the check once per batch on this instance (a load balancer, a monitor) instead of on every target. */
  onInstance?: string;
}

export interface Rollback {
  command: CommandSpec;
  /**
   * Group targets by the version the probe read and pass it in this custom parameter (one
   * invocation per version): the rollback's command is then made with custom parameters on.
   */
  versionParameter?: string;
}

/** What a runbook does to each target; built by the runbook from its parameters. */
export interface RunbookDefinition {
  /** Reads something before the change (stdout, trimmed, becomes the target's `version`); never changes the target. */
  probe?: CommandSpec;
  /**
   * A target whose probe reads exactly `probeReads` needs nothing: it is left alone and succeeds.
   * (Data, like the whole definition: it is kept in the run's history.)
   */
  alreadyDone?: { probeReads: string };
  steps: TargetStep[];
  healthCheck?: HealthCheck;
  rollback?: Rollback;
}

export interface ApprovalOptions {
  /** Gate before the first batch. */
  beforeStart?: boolean;
  /** Gate after the first (canary) batch. */
  afterCanary?: boolean;
  /** Gate before every batch (the first included). */
  everyBatch?: boolean;
  /** Give up after this long; then `onTimeout` decides. Default 24 h. */
  timeoutSeconds?: number;
  onTimeout?: 'fail' | 'continue';
}

/** Options of a run, common to every runbook. */
export interface RolloutOptions {
  region: string;
  targets: TargetSelector;
  /** Default: batches `[1, "10%", "50%"]`. */
  shape?: Shape;
  /** Counted errors allowed before the run breaches: a count or a percentage of all targets. Default 0. */
  maxErrors?: Size | 0;
  /** Cap in flight at remaining budget + 1, so errors never pass maxErrors + 1. */
  strictBudget?: boolean;
  /** DELIVER_FAILED and START_FAILED count against the budget too. */
  countUndeliverable?: boolean;
  /** Agents offline at plan time: skip them (default) or refuse to start. */
  offline?: 'skip' | 'refuse';
  /** An agent found offline when its batch is dispatched gets this long to come back (default 150 s). */
  offlineGraceSeconds?: number;
  approval?: ApprovalOptions;
  /** Wait after each batch before its health check. */
  bakeSeconds?: number;
  /** Breach when no batch turned healthy for this long (reset by each healthy batch). */
  progressDeadlineSeconds?: number;
  /** How often task results are polled. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Continue-as-new once the history has this many events (at a point where nothing is in flight). */
  historyEventLimit?: number;
  /** A maintenance window: batches start only while the run can finish them inside it (engine/window.ts). */
  maintenanceWindow?: MaintenanceWindow;
}

/**
 * The time a run may change things: from its scheduled start (its start, when no Schedule started
 * it) for `durationSeconds`. No batch starts in the last `cutoffSeconds`, nor one that the longest
 * batch of the run so far says would end after the window.
 */
export interface MaintenanceWindow {
  durationSeconds: number;
  /** Default 0. */
  cutoffSeconds?: number;
}

/** What a run started by a tatflow schedule is told about it (the Schedule's action input). */
export interface ScheduleRef {
  /** The Schedule's id, `tatflow-<name>`. */
  id: string;
  /** The zone its calendars are read in. */
  timezone: string;
  /**
   * Fires of a fixed-time schedule that repeat a wall time it already fired at, an hour (the fold)
   * before, when clocks went back: such a run ends at once as `skipped`, so the job runs once
   * (docs/schedules.md, "DST"). Temporal's own fire times, read when the schedule was made.
   */
  repeats?: RepeatedFire[];
}

/** A fire at `at` (ISO 8601) that repeats the wall time of the fire at `first`. */
export interface RepeatedFire {
  at: string;
  first: string;
}

/** The input of every runbook workflow. */
export interface RunbookInput<P = unknown> {
  params: P;
  rollout: RolloutOptions;
  /** Set by the engine itself when it continues as new. */
  resume?: RolloutState;
  /**
   * The definition the run started with, carried by the engine through continue-as-new (runs
   * begun before the `definition-once` patch have none: they rebuild it).
   */
  definition?: RunbookDefinition;
  /** Set by a tatflow schedule on the runs it starts. */
  schedule?: ScheduleRef;
}

export type TargetPhase = 'pending' | 'running' | 'done' | 'skipped';

export interface TargetState {
  id: string;
  /** Batch (or wave, in window and ramp-up shapes) index. */
  batch: number;
  phase: TargetPhase;
  /** The step it is in or stopped at. */
  step?: string;
  outcome?: OutcomeClass;
  /** TAT status of its last task. */
  status?: string;
  exitCode?: number | null;
  invocationId?: string;
  taskId?: string;
  /** It started a changing step: rollback applies. */
  changed?: boolean;
  /** The health check failed on it. */
  unhealthy?: boolean;
  /** What the probe read before the change. */
  version?: string;
  /** Why it was skipped or failed, in words. */
  reason?: string;
  /** Head and tail of the output of the task that did not succeed. */
  output?: string;
  rollback?: { status: string; outcome: OutcomeClass; exitCode: number | null; output?: string };
}

export interface GateState {
  name: string;
  since: string;
  timeoutAt: string;
}

export interface Decision {
  by: string;
  comment?: string;
  at: string;
}

export type RunStatus =
  | 'planning'
  | 'running'
  | 'paused'
  | 'waiting for approval'
  | 'rolling back'
  | 'succeeded'
  | 'failed'
  /** Rejected at a gate, aborted, or cancelled (`aborted` says by whom and why). */
  | 'aborted'
  /** A fire of a schedule that did nothing: the second pass of a repeated wall time (`note` says). */
  | 'skipped'
  /** Ended without a failure, with targets left because the maintenance window closed (`note` says). */
  | 'window closed';

/** A run's maintenance window, fixed when it starts (ISO 8601 times). */
export interface WindowState {
  startsAt: string;
  endsAt: string;
  /** No batch starts from here on (`endsAt` minus the cutoff). */
  cutoffAt: string;
  /** When a batch was refused, and why: the window is closed for the rest of the run. */
  closedAt?: string;
  closedBecause?: string;
}

/** The schedule that started a run, and the fire it is. */
export interface ScheduledState {
  id: string;
  /** The time the Schedule meant the run for (ISO 8601). */
  scheduledAt: string;
  timezone: string;
}

export interface BatchState {
  index: number;
  targets: string[];
  /** `cancelled`: every target that started ended cancelled (an abort, or a stop before the check). */
  status: 'pending' | 'running' | 'healthy' | 'failed' | 'cancelled' | 'skipped';
  startedAt?: string;
  endedAt?: string;
}

/** Everything the engine knows; carried across continue-as-new; the progress query returns it. */
export interface RolloutState {
  status: RunStatus;
  reason?: string;
  shapeKind: Shape['kind'];
  batches: BatchState[];
  targets: Record<string, TargetState>;
  currentBatch: number;
  errors: number;
  maxErrors: number;
  gate?: GateState;
  decisions: Array<Decision & { gate: string; approved: boolean }>;
  paused?: Decision;
  aborted?: Decision;
  /** Saved commands of this run, by step key (engine/steps.ts: `commandKey`): deleted when it ends. */
  commands: Record<string, string>;
  /**
   * How `commands` is keyed: `role` (a runbook step under `step.<name>`, the probe, health check
   * and rollback under their role) since step roles became types; absent in states of older runs,
   * keyed by bare step names, which a continued run re-keys (engine/state.ts).
   */
  commandKeys?: 'role';
  /** Bytes of output excerpts kept in this state, across continue-as-new (engine/ledger.ts caps it). */
  outputBytes?: number;
  /**
   * The last health-check chunks (step key and instance set) with their invocations, carried
   * across continue-as-new: a check on one instance (`onInstance`) repeats batch after batch, and a
   * retried invokeChunk must not take an earlier batch's invocation for its own (engine/dispatch.ts).
   */
  recentHealth?: Array<[string, string[]]>;
  /** The run's clean-up (cancelling, rollback, deleting its saved commands) failed: what was left. */
  cleanupError?: string;
  /** Times in ISO 8601. */
  startedAt: string;
  endedAt?: string;
  progressDeadlineAt?: string;
  /** How many times the run continued as new. */
  generation: number;
  /** Set on runs a tatflow schedule started. */
  schedule?: ScheduledState;
  /** Set on runs with a maintenance window. */
  window?: WindowState;
  /** Why a run that did not fail did not do everything (status `skipped` or `window closed`). */
  note?: string;
  /** Next wave index in window / ramp-up shapes. */
  nextWave: number;
}

export type { TaskResult };
