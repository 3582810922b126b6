// Task and invocation statuses (docs/tat-api-reference.md, "Task and invocation statuses") and the
// rule that folds the statuses of an invocation's tasks into the invocation's status.

export const TASK_STATUSES = [
  'PENDING',
  'DELIVERING',
  'DELIVER_DELAYED',
  'DELIVER_FAILED',
  'START_FAILED',
  'RUNNING',
  'SUCCESS',
  'FAILED',
  'TIMEOUT',
  'TASK_TIMEOUT',
  'CANCELLING',
  'CANCELLED',
  'TERMINATED',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const INVOCATION_STATUSES = [
  'PENDING',
  'RUNNING',
  'CANCELLING',
  'SUCCESS',
  'TIMEOUT',
  'FAILED',
  'CANCELLED',
  'PARTIAL_FAILED',
  'PARTIAL_CANCELLED',
] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** Not yet started on the agent: still ours to hand out (or to cancel without killing anything). */
export const UNSTARTED_TASK_STATUSES = ['PENDING', 'DELIVERING', 'DELIVER_DELAYED'] as const;
/** Started on the agent and not final: a process may be alive. */
export const STARTED_TASK_STATUSES = ['RUNNING', 'CANCELLING'] as const;
export const FINAL_TASK_STATUSES = [
  'DELIVER_FAILED',
  'START_FAILED',
  'SUCCESS',
  'FAILED',
  'TIMEOUT',
  'TASK_TIMEOUT',
  'CANCELLED',
  'TERMINATED',
] as const;

/** Results an agent may report in ReportTaskFinish (docs/agent-protocol-reference.md, "Running a task"). */
export const AGENT_RESULTS = ['START_FAILED', 'TIMEOUT', 'TERMINATED', 'SUCCESS', 'FAILED'] as const;
export type AgentResult = (typeof AGENT_RESULTS)[number];

const finalSet = new Set<string>(FINAL_TASK_STATUSES);
export function isFinalTaskStatus(s: string): boolean {
  return finalSet.has(s);
}

const FAILURE_LIKE = new Set<TaskStatus>([
  'FAILED',
  'START_FAILED',
  'DELIVER_FAILED',
  'TASK_TIMEOUT',
  'TIMEOUT',
]);
const CANCELLED_LIKE = new Set<TaskStatus>(['CANCELLED', 'TERMINATED']);

/**
 * The invocation status for a set of task statuses. TAT does not document the rule; this is the
 * one suggested in docs/tat-api-reference.md, "Task and invocation statuses":
 * - while a task is not final: CANCELLING if a cancel is in flight, PENDING if nothing has started
 *   or ended yet, else RUNNING;
 * - once all are final: SUCCESS / CANCELLED / TIMEOUT / FAILED when all agree, PARTIAL_CANCELLED
 *   for successes mixed with cancels, PARTIAL_FAILED for any other mix that contains a failure.
 */
export function foldInvocationStatus(tasks: Iterable<TaskStatus>): InvocationStatus {
  let total = 0;
  let unstarted = 0;
  let open = 0;
  let cancelling = 0;
  let success = 0;
  let cancelled = 0;
  let failed = 0;
  let timeout = 0;
  for (const s of tasks) {
    total++;
    if (s === 'CANCELLING') cancelling++;
    if (!finalSet.has(s)) {
      open++;
      if (s === 'PENDING' || s === 'DELIVERING' || s === 'DELIVER_DELAYED') unstarted++;
      continue;
    }
    if (s === 'SUCCESS') success++;
    else if (CANCELLED_LIKE.has(s)) cancelled++;
    else if (FAILURE_LIKE.has(s)) {
      failed++;
      if (s === 'TIMEOUT') timeout++;
    }
  }
  if (open > 0) {
    if (cancelling > 0) return 'CANCELLING';
    return unstarted === total ? 'PENDING' : 'RUNNING';
  }
  if (total === 0) return 'PENDING';
  if (failed === 0) {
    if (cancelled === 0) return 'SUCCESS';
    return success === 0 ? 'CANCELLED' : 'PARTIAL_CANCELLED';
  }
  if (success === 0 && cancelled === 0) return timeout === failed ? 'TIMEOUT' : 'FAILED';
  return 'PARTIAL_FAILED';
}

export function isFinalInvocationStatus(s: InvocationStatus): boolean {
  return s !== 'PENDING' && s !== 'RUNNING' && s !== 'CANCELLING';
}
