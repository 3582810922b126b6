// Names shared by tatd's invoker parts and its workflow code (which imports nothing else): the task
// queue, the workflow type, Schedule ids, and what a fire carries. Pure: no Node built-ins.

/** The task queue of the worker inside tatd. */
export const TASK_QUEUE = 'tatd-invokers';
/** The workflow each fire starts (server/invokers/workflow.ts). */
export const WORKFLOW_TYPE = 'tatdInvoker';
/** Every Schedule tatd makes starts with this; tatd touches no other Schedule. */
export const SCHEDULE_PREFIX = 'tatd-';

/**
 * `tatd-<account>-<region>-<ivk-id>`: the invoker's Schedule, and the workflow id of its fires
 * (Temporal appends each fire's time), so the Temporal UI shows the invoker by its id.
 */
export function scheduleId(account: string, region: string, invokerId: string): string {
  return `${SCHEDULE_PREFIX}${account}-${region}-${invokerId}`;
}

/** What a Schedule's action carries: which invoker, and the revision the Schedule was made from. */
export interface FireInput {
  account: string;
  region: string;
  invokerId: string;
  revision: number;
}

/** One fire: the invoker and the time Temporal scheduled it for (epoch ms). */
export interface FireRequest extends FireInput {
  scheduledAt: number;
}

export interface FireOutcome {
  /**
   * started: an invocation was created; failed: InvokeCommand would have refused (recorded);
   * skipped: too late (recorded); ignored: not the invoker's fire any more (deleted, disabled,
   * schedule changed; nothing recorded); duplicate: this fire was handled before.
   */
  outcome: 'started' | 'failed' | 'skipped' | 'ignored' | 'duplicate';
  invocationId?: string;
  reason: string;
}
