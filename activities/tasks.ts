// Reading tasks: their statuses from DescribeInvocations (one call covers 100 invocations and all
// their tasks, without outputs), and the details of final tasks from DescribeInvocationTasks,
// turned into the TaskResults that go into workflow history.

import type { TatClient } from '../tat/node/client.js';
import { isFinalTaskStatus, type TaskStatus } from '../tat/status.js';
import { outcomeOf } from '../tat/outcome.js';
import { tatCall } from './errors.js';
import { OutputBudget, outputExcerpt } from './output.js';
import { slices } from './pages.js';
import type { OutputCapture, TaskResult } from './types.js';

/** What DescribeInvocations tells of one task. */
export interface TaskState {
  invocationId: string;
  taskId: string;
  instanceId: string;
  status: TaskStatus;
}

export interface TaskSnapshot {
  tasks: TaskState[];
  /** Invocations the API does not know (in this account and region). */
  missing: string[];
}

/** Excerpts in one activity result stay under this, far from Temporal's ~2 MB payload limit. */
export const OUTPUT_BUDGET_BYTES = 512 * 1024;

export async function snapshot(tat: TatClient, invocationIds: string[]): Promise<TaskSnapshot> {
  const tasks: TaskState[] = [];
  const seen = new Set<string>();
  for (const ids of slices(invocationIds)) {
    const r = await tatCall(tat, 'DescribeInvocations', () =>
      tat.DescribeInvocations({ InvocationIds: ids, Limit: ids.length }),
    );
    for (const inv of r.InvocationSet ?? []) {
      seen.add(inv.InvocationId!);
      for (const t of inv.InvocationTaskBasicInfoSet ?? [])
        tasks.push({
          invocationId: inv.InvocationId!,
          taskId: t.InvocationTaskId!,
          instanceId: t.InstanceId!,
          status: t.TaskStatus as TaskStatus,
        });
    }
  }
  return { tasks, missing: invocationIds.filter((id) => !seen.has(id)) };
}

export const isFinal = (t: TaskState) => isFinalTaskStatus(t.status);

/**
 * Statuses reached only once the task's process ran. START_FAILED is not one of them although
 * our agent reports the start before it tries to spawn (the task shows an ExecStartTime), and
 * TASK_TIMEOUT is: it follows a reported start.
 */
const STARTED = new Set<TaskStatus>(['SUCCESS', 'FAILED', 'TIMEOUT', 'TASK_TIMEOUT', 'TERMINATED']);
/** Statuses whose ExitCode the agent reported; for the others TAT shows a placeholder. */
const EXIT_REPORTED = new Set<TaskStatus>(['SUCCESS', 'FAILED', 'TIMEOUT', 'TERMINATED', 'START_FAILED']);

const wantsOutput = (capture: OutputCapture, status: TaskStatus) =>
  capture === 'all' || (capture === 'failures' && status !== 'SUCCESS');

type Task = NonNullable<
  Awaited<ReturnType<TatClient['DescribeInvocationTasks']>>['InvocationTaskSet']
>[number];

async function describeTasks(tat: TatClient, taskIds: string[], withOutput: boolean): Promise<Task[]> {
  const out: Task[] = [];
  for (const ids of slices(taskIds)) {
    const r = await tatCall(tat, 'DescribeInvocationTasks', () =>
      tat.DescribeInvocationTasks({ InvocationTaskIds: ids, Limit: ids.length, HideOutput: !withOutput }),
    );
    out.push(...(r.InvocationTaskSet ?? []));
  }
  return out;
}

function resultOf(t: Task, capture: OutputCapture, budget: OutputBudget): TaskResult {
  const status = t.TaskStatus as TaskStatus;
  const r = t.TaskResult;
  const result: TaskResult = {
    instanceId: t.InstanceId!,
    invocationId: t.InvocationId!,
    taskId: t.InvocationTaskId!,
    status,
    outcome: outcomeOf(status)!,
    exitCode: EXIT_REPORTED.has(status) ? (r?.ExitCode ?? null) : null,
    started: STARTED.has(status),
    startTime: r?.ExecStartTime ?? t.StartTime ?? null,
    endTime: r?.ExecEndTime ?? t.EndTime ?? null,
  };
  if (t.ErrorInfo) result.error = t.ErrorInfo;
  if (wantsOutput(capture, status) && r) {
    const raw = Buffer.from(r.Output ?? '', 'base64');
    const dropped = r.Dropped ?? 0;
    result.outputBytes = raw.length + dropped;
    const excerpt = budget.take(outputExcerpt(raw, dropped));
    if (excerpt !== undefined) result.output = excerpt;
  }
  return result;
}

/** A task that succeeded, from its status alone (its times are not fetched). */
function successOf(t: TaskState): TaskResult {
  return {
    instanceId: t.instanceId,
    invocationId: t.invocationId,
    taskId: t.taskId,
    status: 'SUCCESS',
    outcome: 'succeeded',
    exitCode: 0,
    started: true,
    startTime: null,
    endTime: null,
  };
}

/** The results of final tasks, with output excerpts as `capture` asks. */
export async function resultsOf(
  tat: TatClient,
  tasks: TaskState[],
  capture: OutputCapture,
): Promise<TaskResult[]> {
  if (tasks.length === 0) return [];
  // Outputs are fetched only for the tasks that want one (up to 24 KB each on the wire); a task
  // that succeeded and whose output is not wanted needs no details at all (exit code 0, started).
  const withOutput = tasks.filter((t) => wantsOutput(capture, t.status)).map((t) => t.taskId);
  const plainSuccess = new Set(
    tasks.filter((t) => t.status === 'SUCCESS' && !wantsOutput(capture, t.status)).map((t) => t.taskId),
  );
  const without = tasks
    .filter((t) => !wantsOutput(capture, t.status) && !plainSuccess.has(t.taskId))
    .map((t) => t.taskId);
  const details = [
    ...(await describeTasks(tat, withOutput, true)),
    ...(await describeTasks(tat, without, false)),
  ];
  const byId = new Map(details.map((d) => [d.InvocationTaskId!, d]));
  const budget = new OutputBudget(OUTPUT_BUDGET_BYTES);
  return tasks.flatMap((t) => {
    if (plainSuccess.has(t.taskId)) return [successOf(t)];
    const d = byId.get(t.taskId);
    return d ? [resultOf(d, capture, budget)] : [];
  });
}
