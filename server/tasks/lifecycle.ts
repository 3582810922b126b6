// The task state machine (tat-api.md §5.1, design decisions). Every transition is a conditional
// update (`WHERE status IN (...)`), so a late or repeated report can never move a task backwards,
// and the invocation's status is folded again from its tasks after each change.

import type { Kysely, Transaction } from 'kysely';
import {
  FINAL_TASK_STATUSES,
  STARTED_TASK_STATUSES,
  UNSTARTED_TASK_STATUSES,
  foldInvocationStatus,
  isFinalInvocationStatus,
  isFinalTaskStatus,
  type AgentResult,
  type TaskStatus,
} from '../../tat/index.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Folds the invocation's status from its tasks and stores it when it changed. */
export async function refreshInvocation(db: Q, invocationId: string, now: number): Promise<void> {
  const rows = await db
    .selectFrom('tasks')
    .select('status')
    .where('invocation_id', '=', invocationId)
    .execute();
  const status = foldInvocationStatus(rows.map((r) => r.status as TaskStatus));
  await db
    .updateTable('invocations')
    .set({ status, updated_at: now, end_at: isFinalInvocationStatus(status) ? now : null })
    .where('id', '=', invocationId)
    .where('status', '!=', status)
    .execute();
}

export interface AgentTask {
  InvocationTaskId: string;
  TimeOut: number;
  Command: string;
  CommandType: string;
  Username: string;
  WorkingDirectory: string;
  OutputCOSBucketUrl: string;
  OutputCOSKeyPrefix: string;
}

/**
 * DescribeTasks for one agent: every task not yet started (marked DELIVERING) and every started
 * task with a cancel pending.
 */
export async function tasksForAgent(
  server: ServerContext,
  instanceId: string,
): Promise<{ normal: AgentTask[]; cancel: string[] }> {
  const { db } = server;
  const now = server.now();
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('tasks')
      .innerJoin('invocations', 'invocations.id', 'tasks.invocation_id')
      .select([
        'tasks.id',
        'tasks.status',
        'tasks.script',
        'tasks.invocation_id',
        'invocations.timeout',
        'invocations.command_type',
        'invocations.username',
        'invocations.working_directory',
        'invocations.cos_bucket_url',
        'invocations.cos_key_prefix',
      ])
      .where('tasks.instance_id', '=', instanceId)
      .where('tasks.status', 'in', [...UNSTARTED_TASK_STATUSES, 'CANCELLING'])
      .orderBy('tasks.created_at')
      .execute();
    const normal: AgentTask[] = [];
    const cancel: string[] = [];
    const toMark: string[] = [];
    for (const r of rows) {
      if (r.status === 'CANCELLING') {
        cancel.push(r.id);
        continue;
      }
      if (r.status !== 'DELIVERING') toMark.push(r.id);
      normal.push({
        InvocationTaskId: r.id,
        TimeOut: r.timeout,
        Command: r.script ?? '',
        CommandType: r.command_type,
        Username: r.username,
        WorkingDirectory: r.working_directory,
        OutputCOSBucketUrl: r.cos_bucket_url,
        OutputCOSKeyPrefix: r.cos_key_prefix,
      });
    }
    if (toMark.length > 0)
      await trx
        .updateTable('tasks')
        .set({ status: 'DELIVERING', updated_at: now })
        .where('id', 'in', toMark)
        .where('status', 'in', ['PENDING', 'DELIVER_DELAYED'])
        .execute();
    return { normal, cancel };
  });
}

export type ReportOutcome =
  { ok: true } | { ok: false; code: 'ResourceNotFound' | 'UnsupportedOperation'; message: string };

async function taskOf(db: Q, instanceId: string, taskId: string) {
  return db
    .selectFrom('tasks')
    .innerJoin('invocations', 'invocations.id', 'tasks.invocation_id')
    .select(['tasks.id', 'tasks.status', 'tasks.invocation_id', 'tasks.instance_id', 'invocations.timeout'])
    .where('tasks.id', '=', taskId)
    .where('tasks.instance_id', '=', instanceId)
    .executeTakeFirst();
}

const notFound = (taskId: string): ReportOutcome => ({
  ok: false,
  code: 'ResourceNotFound',
  message: `task ${taskId} is not a task of this machine`,
});

/**
 * ReportTaskStart: the agent is about to run the task. Refused when the task was cancelled or
 * otherwise ended before it started, so the agent does not run it. A repeated report for a task
 * already started is accepted (the agent retries when an answer is lost).
 */
export async function reportStart(
  server: ServerContext,
  instanceId: string,
  taskId: string,
  agentTimestamp: number,
): Promise<ReportOutcome> {
  const now = server.now();
  const grace = server.config.timings.taskTimeoutGraceMs;
  return server.db.transaction().execute(async (trx) => {
    const t = await taskOf(trx, instanceId, taskId);
    if (!t) return notFound(taskId);
    if ((STARTED_TASK_STATUSES as readonly string[]).includes(t.status)) return { ok: true };
    if (!(UNSTARTED_TASK_STATUSES as readonly string[]).includes(t.status))
      return {
        ok: false,
        code: 'UnsupportedOperation',
        message: `task ${taskId} is ${t.status}; it must not run`,
      };
    await trx
      .updateTable('tasks')
      .set({
        status: 'RUNNING',
        start_at: now,
        exec_start_at: agentTimestamp > 0 ? agentTimestamp * 1000 : now,
        run_deadline: now + t.timeout * 1000 + grace,
        updated_at: now,
      })
      .where('id', '=', taskId)
      .where('status', 'in', [...UNSTARTED_TASK_STATUSES])
      .execute();
    await refreshInvocation(trx, t.invocation_id, now);
    return { ok: true };
  });
}

/** UploadTaskLog: one output chunk, stored by index (chunks may arrive out of order or twice). */
export async function storeOutputChunk(
  server: ServerContext,
  instanceId: string,
  taskId: string,
  index: number,
  data: Buffer,
  dropped: number,
): Promise<ReportOutcome> {
  const { db } = server;
  return db.transaction().execute(async (trx) => {
    const t = await taskOf(trx, instanceId, taskId);
    if (!t) return notFound(taskId);
    await trx
      .insertInto('task_output')
      .values({ task_id: taskId, idx: index, data })
      .onConflict((oc) => oc.columns(['task_id', 'idx']).doNothing())
      .execute();
    await trx
      .updateTable('tasks')
      .set({ dropped, updated_at: server.now() })
      .where('id', '=', taskId)
      .where('dropped', '<', dropped)
      .execute();
    return { ok: true };
  });
}

export interface FinishReport {
  result: AgentResult;
  exitCode: number;
  errorInfo: string;
  agentTimestamp: number;
  finalLogIndex: number | null;
  outputUrl: string;
  cosError: string;
}

/**
 * ReportTaskFinish. Accepted from any non-final state, and over TASK_TIMEOUT: that status is
 * only the server's guess that the agent was lost, and the agent's own report is the truth
 * (it may arrive late, after a restart of tatd). A repeat for a final task is acknowledged.
 */
export async function reportFinish(
  server: ServerContext,
  instanceId: string,
  taskId: string,
  r: FinishReport,
): Promise<ReportOutcome> {
  const now = server.now();
  return server.db.transaction().execute(async (trx) => {
    const t = await taskOf(trx, instanceId, taskId);
    if (!t) return notFound(taskId);
    if (isFinalTaskStatus(t.status) && t.status !== 'TASK_TIMEOUT') return { ok: true };
    await trx
      .updateTable('tasks')
      .set({
        status: r.result,
        exit_code: r.exitCode,
        error_info: r.errorInfo,
        exec_end_at: r.agentTimestamp > 0 ? r.agentTimestamp * 1000 : now,
        final_log_index: r.finalLogIndex,
        output_url: r.outputUrl,
        cos_error: r.cosError,
        end_at: now,
        start_at:
          t.status === 'RUNNING' || t.status === 'CANCELLING' || t.status === 'TASK_TIMEOUT'
            ? undefined
            : now,
        script: null,
        run_deadline: null,
        updated_at: now,
      })
      .where('id', '=', taskId)
      .where(
        'status',
        'not in',
        FINAL_TASK_STATUSES.filter((s) => s !== 'TASK_TIMEOUT'),
      )
      .execute();
    await refreshInvocation(trx, t.invocation_id, now);
    return { ok: true };
  });
}

/**
 * CancelInvocation on some tasks: not started → CANCELLED at once; started → CANCELLING, and the
 * agent is kicked so it fetches the cancel and kills the process (→ TERMINATED).
 */
export async function cancelTasks(
  server: ServerContext,
  invocationId: string,
  taskIds: string[],
): Promise<void> {
  const now = server.now();
  const toKick = await server.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('tasks')
      .set({ status: 'CANCELLED', end_at: now, script: null, updated_at: now })
      .where('id', 'in', taskIds)
      .where('status', 'in', [...UNSTARTED_TASK_STATUSES])
      .execute();
    const running = await trx
      .updateTable('tasks')
      .set({ status: 'CANCELLING', updated_at: now })
      .where('id', 'in', taskIds)
      .where('status', '=', 'RUNNING')
      .returning(['id', 'instance_id'])
      .execute();
    await refreshInvocation(trx, invocationId, now);
    return running;
  });
  for (const t of toKick) server.hub.kick(t.instance_id, t.id);
}

/** An agent came online: its waiting tasks are delivered now; went offline: they wait. */
export async function onPresence(server: ServerContext, instanceId: string, online: boolean): Promise<void> {
  const now = server.now();
  if (online) {
    const waiting = await server.db
      .updateTable('tasks')
      .set({ status: 'DELIVERING', updated_at: now })
      .where('instance_id', '=', instanceId)
      .where('status', 'in', ['PENDING', 'DELIVER_DELAYED'])
      .returning('id')
      .execute();
    const cancelling = await server.db
      .selectFrom('tasks')
      .select('id')
      .where('instance_id', '=', instanceId)
      .where('status', '=', 'CANCELLING')
      .execute();
    const first = waiting[0] ?? cancelling[0];
    if (first) server.hub.kick(instanceId, first.id);
  } else {
    await server.db
      .updateTable('tasks')
      .set({ status: 'DELIVER_DELAYED', updated_at: now })
      .where('instance_id', '=', instanceId)
      .where('status', 'in', ['PENDING', 'DELIVERING'])
      .execute();
  }
}

/** At start-up no agent is connected yet: every undelivered task waits for its agent. */
export async function markAllUndelivered(server: ServerContext): Promise<void> {
  await server.db
    .updateTable('tasks')
    .set({ status: 'DELIVER_DELAYED', updated_at: server.now() })
    .where('status', 'in', ['PENDING', 'DELIVERING'])
    .execute();
}
