// What activities take and return. Workflows import these types only (never the activity code), so
// everything here is plain, serialisable data that goes into workflow history: keep it small.

import type { TaskStatus } from '../tat/status.js';
import type { OutcomeClass } from '../tat/outcome.js';

/** Where the TAT API is: tatd (`endpoint`) or Tencent Cloud (no endpoint). Credentials come from the worker. */
export interface TatLocation {
  region: string;
}

/** A script to run: what CreateCommand takes (content in plain text, not base64). */
export interface CommandSpec {
  content: string;
  commandType?: 'SHELL' | 'POWERSHELL' | 'BAT';
  workingDirectory?: string;
  /** Seconds; the TAT default is 60. */
  timeout?: number;
  username?: string;
  /** Custom parameters `{{name}}` used by the content, with their default values. */
  defaultParameters?: Record<string, string>;
}

/** A run-scoped saved command for one (run, step): made once, found again on retry. */
export interface PrepareStepInput extends TatLocation {
  /** The workflow id of the run: with `step` it names the command. */
  runId: string;
  /** Short step key (`main`, `health`, `rollback`, `probe` ...). */
  step: string;
  command: CommandSpec;
  /**
   * The step passes values for custom parameters (`{{name}}`) when invoked: the command is made
   * with EnableParameter (so are commands whose `defaultParameters` are given). Otherwise the
   * script runs as written, `{{…}}` included.
   */
  parameters?: boolean;
}
export interface PreparedStep {
  commandId: string;
}

/** One invocation of a prepared step on at most 100 instances. */
export interface InvokeChunkInput extends TatLocation {
  commandId: string;
  /** One kind of instance (`ins-`, `lhins-` or `rins-`): TAT refuses some mixes in one call. */
  instanceIds: string[];
  /** Values for the command's custom parameters (only for a command made with them on). */
  parameters?: Record<string, string>;
  /**
   * Invocations of this command on exactly these instances that the run already holds (a health
   * check's earlier attempts): a retried attempt never takes one of them for its own.
   */
  known?: string[];
  /**
   * After invoking, look at the tasks at once and every `pollIntervalMs` for up to `waitMs`, and
   * return those that ended: a quick step then needs no poll of its own (one workflow task less).
   */
  watch?: { waitMs: number; pollIntervalMs: number; output: OutputCapture };
  /** Runs begun before 2026-12 passed an idempotency key here; it is not used any more. */
  key?: string;
}
export interface InvokedChunk {
  invocationId: string;
  /** True when a retried attempt found the invocation an earlier attempt made. */
  reused: boolean;
  /** With `watch`: the tasks that ended while the activity watched. */
  finished?: TaskResult[];
}

/** Which outputs come back with a final task. */
export type OutputCapture = 'failures' | 'all' | 'none';

export interface PollTasksInput extends TatLocation {
  invocationIds: string[];
  /** Task ids already returned as final: not returned again. */
  known: string[];
  /** Return as soon as one more task is final (`any`), or only once all are (`all`). */
  returnWhen: 'any' | 'all';
  output: OutputCapture;
  pollIntervalMs: number;
}

/** The final state of one task, as it goes into history. */
export interface TaskResult {
  instanceId: string;
  invocationId: string;
  taskId: string;
  status: TaskStatus;
  outcome: OutcomeClass;
  exitCode: number | null;
  /** The task reached RUNNING (its process started): the target may have changed. */
  started: boolean;
  /** Head and tail of the output (base64-decoded), capped; present per `output`. */
  output?: string;
  /** Bytes of output the task had in total (before the excerpt). */
  outputBytes?: number;
  /** When the task ran (not fetched for tasks that succeeded without their output asked for). */
  startTime: string | null;
  endTime: string | null;
  /** Error text TAT gave (START_FAILED, DELIVER_FAILED ...). */
  error?: string;
}

export interface PollTasksResult {
  /** Tasks final since `known`. */
  finished: TaskResult[];
  /** Tasks not final yet: instance id → status. */
  pending: Record<string, TaskStatus>;
}

export interface CancelInput extends TatLocation {
  invocationIds: string[];
  /** Give up waiting for the remote processes after this long. */
  waitMs: number;
  pollIntervalMs: number;
}
export interface CancelResult {
  /** Every task final (so no remote process is left). */
  settled: boolean;
  results: TaskResult[];
}

export interface AgentStatusInput extends TatLocation {
  instanceIds: string[];
}
export interface AgentStatusResult {
  online: string[];
  offline: string[];
  /** Ids TAT does not know at all. */
  unknown: string[];
  /**
   * Known instances whose agent runs on Windows (the rest run Linux): SHELL scripts cannot run
   * there, POWERSHELL and BAT only there. Absent in results recorded before it was asked.
   */
  windows?: string[];
}

/** How a run picks its targets, resolved through the TAT API only. */
export type TargetSelector =
  | { instanceIds: string[] }
  /** Every instance whose agent is online in the region. */
  | { online: true }
  /** Managed instances whose name contains the text (DescribeRegisterInstances). */
  | { managedName: string }
  /**
   * Selectors (activities/selector.ts, `--select`): the instances matching any of them, each a
   * comma-separated list of terms that must all hold (`tag:env=prod,os=linux,online`).
   */
  | { select: string[] };

export interface ResolveTargetsInput extends TatLocation {
  selector: TargetSelector;
}

export interface WaitRebootInput extends TatLocation {
  instanceIds: string[];
  /** Wait at most this long to see each agent go offline. */
  offlineWithinMs: number;
  /** Then wait at most this long for it to be online again. */
  onlineWithinMs: number;
  pollIntervalMs: number;
}
export interface WaitRebootResult {
  /** Went offline and came back. */
  back: string[];
  /** Never seen offline within `offlineWithinMs`. */
  notRebooted: string[];
  /** Went offline and did not come back within `onlineWithinMs`. */
  notBack: string[];
}

export interface CleanupInput extends TatLocation {
  commandIds: string[];
}
