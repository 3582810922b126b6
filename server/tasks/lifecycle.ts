// The task state machine (docs/tat-api-reference.md, "Task and invocation statuses", design
// decisions). Every transition is one conditional update (`WHERE status IN (...)`), so a late or
// repeated report can never move a task backwards, and concurrent writers (later: several tatd
// replicas) need no locks. An invocation's status is not stored: it is folded from its tasks when
// read (server/resources/invocations.ts).

import { sql } from 'kysely';
import {
  FINAL_TASK_STATUSES,
  STARTED_TASK_STATUSES,
  UNSTARTED_TASK_STATUSES,
  type AgentResult,
} from '../../tat/index.js';
import type { ServerContext } from '../context.js';

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
  const rows = await db
    .selectFrom('tasks')
    .innerJoin('invocations', 'invocations.id', 'tasks.invocation_id')
    .select([
      'tasks.id',
      'tasks.status',
      'tasks.script',
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
  // Usually nothing: tasks for a connected agent are created DELIVERING.
  if (toMark.length > 0)
    await db
      .updateTable('tasks')
      .set({ status: 'DELIVERING', updated_at: server.now() })
      .where('id', 'in', toMark)
      .where('status', 'in', ['PENDING', 'DELIVER_DELAYED'])
      .execute();
  return { normal, cancel };
}

export type ReportOutcome =
  | { ok: true }
  | { ok: false; code: 'ResourceNotFound' | 'UnsupportedOperation' | 'LimitExceeded'; message: string };

const OK: ReportOutcome = { ok: true };

async function statusOf(
  server: ServerContext,
  instanceId: string,
  taskId: string,
): Promise<string | undefined> {
  const row = await server.db
    .selectFrom('tasks')
    .select('status')
    .where('id', '=', taskId)
    .where('instance_id', '=', instanceId)
    .executeTakeFirst();
  return row?.status;
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
  const deadlineBase = now + server.config.timings.taskTimeoutGraceMs;
  const r = await server.db
    .updateTable('tasks')
    .set({
      status: 'RUNNING',
      start_at: now,
      exec_start_at: agentTimestamp > 0 ? agentTimestamp * 1000 : now,
      run_deadline: sql<number>`${deadlineBase} + (select i.timeout from invocations i where i.id = tasks.invocation_id) * 1000`,
      updated_at: now,
    })
    .where('id', '=', taskId)
    .where('instance_id', '=', instanceId)
    .where('status', 'in', [...UNSTARTED_TASK_STATUSES])
    .executeTakeFirst();
  if (r.numUpdatedRows > 0n) return OK;
  const status = await statusOf(server, instanceId, taskId);
  if (status === undefined) return notFound(taskId);
  if ((STARTED_TASK_STATUSES as readonly string[]).includes(status)) return OK;
  return { ok: false, code: 'UnsupportedOperation', message: `task ${taskId} is ${status}; it must not run` };
}

/** Where output chunks are taken: a task that runs, or that tatd gave up on (the agent may be back). */
const TAKES_OUTPUT: readonly string[] = [...STARTED_TASK_STATUSES, 'TASK_TIMEOUT'];

/**
 * UploadTaskLog: one output chunk, stored by index (chunks may arrive out of order or twice).
 * At most `agents.outputBytesPerTask` bytes are kept per task; a chunk beyond that is refused
 * (LimitExceeded), one that does not fit whole is cut. Output is taken only while the task runs;
 * the last report of an agent that dropped output (empty Output, the final Dropped) is accepted
 * after the task ended too.
 */
export async function storeOutputChunk(
  server: ServerContext,
  instanceId: string,
  taskId: string,
  index: number,
  data: Buffer,
  dropped: number,
): Promise<ReportOutcome> {
  const cap = server.config.agents.outputBytesPerTask;
  return server.db.transaction().execute(async (trx): Promise<ReportOutcome> => {
    const task = await trx
      .selectFrom('tasks')
      .select(['status', 'output_bytes'])
      .where('id', '=', taskId)
      .where('instance_id', '=', instanceId)
      .executeTakeFirst();
    if (!task) return notFound(taskId);
    if ((UNSTARTED_TASK_STATUSES as readonly string[]).includes(task.status))
      return {
        ok: false,
        code: 'UnsupportedOperation',
        message: `task ${taskId} has not started (ReportTaskStart first)`,
      };
    if (data.length > 0) {
      if (!TAKES_OUTPUT.includes(task.status))
        return {
          ok: false,
          code: 'UnsupportedOperation',
          message: `task ${taskId} is ${task.status}: output is taken only while it runs`,
        };
      const room = cap - task.output_bytes;
      const repeat = async () =>
        (await trx
          .selectFrom('task_output')
          .select('idx')
          .where('task_id', '=', taskId)
          .where('idx', '=', index)
          .executeTakeFirst()) !== undefined;
      // A chunk sent again (its answer was lost) is acknowledged, full or not.
      if (room <= 0 && (await repeat())) return OK;
      if (room <= 0)
        return {
          ok: false,
          code: 'LimitExceeded',
          message: `task ${taskId} already has the ${cap} bytes of output tatd keeps; count the rest in Dropped`,
        };
      const kept = data.length > room ? data.subarray(0, room) : data;
      const r = await trx
        .insertInto('task_output')
        .values({ task_id: taskId, idx: index, data: kept })
        .onConflict((oc) => oc.columns(['task_id', 'idx']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0)
        await trx
          .updateTable('tasks')
          .set((eb) => ({ output_bytes: eb('output_bytes', '+', kept.length) }))
          .where('id', '=', taskId)
          .execute();
    }
    await trx
      .updateTable('tasks')
      .set({ dropped, updated_at: server.now() })
      .where('id', '=', taskId)
      .where('dropped', '<', dropped)
      .execute();
    return OK;
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

/** Final states a finish report does not replace: all but TASK_TIMEOUT. */
const SETTLED = FINAL_TASK_STATUSES.filter((s) => s !== 'TASK_TIMEOUT');

/**
 * ReportTaskFinish. Accepted from any non-final state, and over TASK_TIMEOUT: that status is
 * only the server's guess that the agent was lost, and the agent's own report is the truth
 * (it may arrive late, after a restart of tatd). A repeat for a final task is acknowledged.
 */
export async function reportFinish(
  server: ServerContext,
  instanceId: string,
  taskId: string,
  f: FinishReport,
): Promise<ReportOutcome> {
  const now = server.now();
  const r = await server.db
    .updateTable('tasks')
    .set({
      status: f.result,
      exit_code: f.exitCode,
      error_info: f.errorInfo,
      exec_end_at: f.agentTimestamp > 0 ? f.agentTimestamp * 1000 : now,
      final_log_index: f.finalLogIndex,
      output_url: f.outputUrl,
      cos_error: f.cosError,
      // A START_FAILED may come without a start report.
      start_at: sql<number>`coalesce(start_at, ${now})`,
      end_at: now,
      script: null,
      run_deadline: null,
      updated_at: now,
    })
    .where('id', '=', taskId)
    .where('instance_id', '=', instanceId)
    .where('status', 'not in', SETTLED)
    .executeTakeFirst();
  if (r.numUpdatedRows > 0n) return OK;
  return (await statusOf(server, instanceId, taskId)) === undefined ? notFound(taskId) : OK;
}

/**
 * CancelInvocation on some tasks: not started → CANCELLED at once; started → CANCELLING, and the
 * agent is kicked so it fetches the cancel and kills the process (→ TERMINATED).
 */
export async function cancelTasks(server: ServerContext, taskIds: string[]): Promise<void> {
  const now = server.now();
  await server.db
    .updateTable('tasks')
    .set({ status: 'CANCELLED', end_at: now, script: null, updated_at: now })
    .where('id', 'in', taskIds)
    .where('status', 'in', [...UNSTARTED_TASK_STATUSES])
    .execute();
  const running = await server.db
    .updateTable('tasks')
    .set({ status: 'CANCELLING', updated_at: now })
    .where('id', 'in', taskIds)
    .where('status', '=', 'RUNNING')
    .returning(['id', 'instance_id'])
    .execute();
  for (const t of running) server.hub.kick(t.instance_id, t.id);
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
    // One kick fetches everything; look for a pending cancel only when nothing waits.
    const first =
      waiting[0] ??
      (await server.db
        .selectFrom('tasks')
        .select('id')
        .where('instance_id', '=', instanceId)
        .where('status', '=', 'CANCELLING')
        .executeTakeFirst());
    if (first) server.hub.kick(instanceId, first.id);
  } else await waitForAgent(server, instanceId);
}

/**
 * Undelivered tasks of an agent that is not connected (of every agent when `instanceId` is
 * omitted: at start-up none is connected yet) wait as DELIVER_DELAYED.
 */
export async function waitForAgent(server: ServerContext, instanceId?: string): Promise<void> {
  let q = server.db
    .updateTable('tasks')
    .set({ status: 'DELIVER_DELAYED', updated_at: server.now() })
    .where('status', 'in', ['PENDING', 'DELIVERING']);
  if (instanceId !== undefined) q = q.where('instance_id', '=', instanceId);
  await q.execute();
}
