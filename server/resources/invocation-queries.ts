// Execution, the reading half: DescribeInvocations and DescribeInvocationTasks
// (docs/tat-api-reference.md, "Actions" "Execution"). An invocation's status is folded from its
// tasks here, and a task's output is read at most 24 KB per task in SQL.

import { newestFirst } from './paging.js';
import { sql } from 'kysely';
import {
  TatError,
  apiTime,
  apiTimeOrNull,
  checkFilterValues,
  checkListRequest,
  foldInvocationStatus,
  instanceKindOf,
  isFinalInvocationStatus,
  isId,
  LIMITS,
  type CommandType,
  type Invocation,
  type InvocationTask,
  type RequestOf,
  type TaskStatus,
} from '../../tat/index.js';
import { type CallContext } from '../context.js';
import type {} from '../store/schema.js';
import {} from './commands.js';
import { PUBLIC_COMMAND_IDS } from '../public/commands.js';
import { outputUrlFor } from '../cos/output.js';
import { outputObjectKey } from '../../tat/node/cos.js';
import { checkCommandId } from './commands.js';
import { checkInvocationId } from './invocations.js';

const INVOCATION_FILTERS = {
  filters: ['invocation-id', 'command-id', 'command-created-by', 'instance-kind'],
  idsField: 'InvocationIds',
  tooManyValuesCode: 'LimitExceeded.FilterValueExceeded',
} as const;

export async function describeInvocations(ctx: CallContext, req: RequestOf<'DescribeInvocations'>) {
  const page = checkListRequest(INVOCATION_FILTERS, req.InvocationIds, req.Filters, req.Limit, req.Offset);
  req.InvocationIds?.forEach(checkInvocationId);
  let q = ctx.server.db
    .selectFrom('invocations')
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region);
  if (req.InvocationIds) q = q.where('id', 'in', req.InvocationIds.length ? req.InvocationIds : ['']);
  for (const f of req.Filters ?? []) {
    if (f.Name === 'invocation-id') {
      f.Values.forEach(checkInvocationId);
      q = q.where('id', 'in', f.Values);
    } else if (f.Name === 'command-id') {
      f.Values.forEach(checkCommandId);
      q = q.where('command_id', 'in', f.Values);
    } else if (f.Name === 'command-created-by') {
      checkFilterValues(f, ['TAT', 'USER']);
      // Public commands are not stored: their fixed ids tell their invocations apart.
      const tat = f.Values.includes('TAT');
      const user = f.Values.includes('USER');
      if (tat && !user) q = q.where('command_id', 'in', [...PUBLIC_COMMAND_IDS]);
      if (user && !tat) q = q.where('command_id', 'not in', [...PUBLIC_COMMAND_IDS]);
    } else if (f.Name === 'instance-kind') {
      checkFilterValues(f, ['CVM', 'LIGHTHOUSE']);
      q = q.where('instance_kind', 'in', f.Values);
    }
  }
  const { total, rows } = await newestFirst(q, page);
  const tasks = rows.length
    ? await ctx.server.db
        .selectFrom('tasks')
        .select(['id', 'invocation_id', 'instance_id', 'status', 'updated_at', 'end_at'])
        .where(
          'invocation_id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('position')
        .execute()
    : [];
  const byInvocation = new Map<string, typeof tasks>();
  for (const t of tasks) {
    const l = byInvocation.get(t.invocation_id) ?? [];
    l.push(t);
    byInvocation.set(t.invocation_id, l);
  }
  const InvocationSet: Invocation[] = rows.map((r) => {
    const own = byInvocation.get(r.id) ?? [];
    const status = foldInvocationStatus(own.map((t) => t.status as TaskStatus));
    const updated = Math.max(r.created_at, ...own.map((t) => t.updated_at));
    return {
      InvocationId: r.id,
      CommandId: r.command_id,
      CommandName: r.command_name,
      InvocationStatus: status,
      InvocationTaskBasicInfoSet: own.map((t) => ({
        InvocationTaskId: t.id,
        TaskStatus: t.status as TaskStatus,
        InstanceId: t.instance_id,
      })),
      Description: r.description,
      StartTime: apiTime(r.created_at),
      EndTime: isFinalInvocationStatus(status)
        ? apiTime(Math.max(...own.map((t) => t.end_at ?? r.created_at)))
        : null,
      CreatedTime: apiTime(r.created_at),
      UpdatedTime: apiTime(updated),
      Parameters: r.parameters,
      DefaultParameters: r.default_parameters,
      InstanceKind: r.instance_kind,
      Username: r.username,
      InvocationSource: r.source as 'USER' | 'INVOKER',
      CommandContent: r.command_content,
      CommandType: r.command_type as CommandType,
      Timeout: r.timeout,
      WorkingDirectory: r.working_directory,
      OutputCOSBucketUrl: r.cos_bucket_url,
      OutputCOSKeyPrefix: r.cos_key_prefix,
    };
  });
  return { TotalCount: total, InvocationSet };
}

const TASK_FILTERS = {
  filters: ['invocation-task-id', 'invocation-id', 'instance-id', 'command-id'],
  idsField: 'InvocationTaskIds',
} as const;

function checkTaskId(id: string): void {
  if (!isId('invocationTask', id))
    throw new TatError(
      'InvalidParameterValue.InvalidInvocationTaskId',
      `"${id}" is not an invocation task id (invt-xxxxxxxx).`,
    );
}

/**
 * The kept output of tasks: their chunks in index order, at most `agents.outputBytesPerTask` (24
 * KB) each. The cut is made in SQL, so a task stored with more (by an older tatd) costs no more.
 */
async function outputsOf(ctx: CallContext, taskIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (taskIds.length === 0) return out;
  const cap = Math.min(ctx.server.config.agents.outputBytesPerTask, LIMITS.outputBytes);
  // The running sum is taken over lengths only (SQLite reads a blob's length from the record
  // header), then each chunk that starts below the cap is read cut to the room left.
  const { rows } = await sql<{ task_id: string; data: Buffer }>`
    select o.task_id, substr(o.data, 1, w.room) as data
      from task_output o join (
        select task_id, idx, ${cap} - coalesce(sum(length(data)) over (partition by task_id order by idx
            rows between unbounded preceding and 1 preceding), 0) as room
          from task_output where task_id in (${sql.join(taskIds)})
      ) w on w.task_id = o.task_id and w.idx = o.idx
     where w.room > 0
     order by o.task_id, o.idx`.execute(ctx.server.db);
  const parts = new Map<string, Buffer[]>();
  for (const c of rows) {
    const l = parts.get(c.task_id) ?? [];
    l.push(Buffer.from(c.data));
    parts.set(c.task_id, l);
  }
  for (const [id, l] of parts) out.set(id, Buffer.concat(l).toString('base64'));
  return out;
}

export async function describeInvocationTasks(ctx: CallContext, req: RequestOf<'DescribeInvocationTasks'>) {
  const page = checkListRequest(TASK_FILTERS, req.InvocationTaskIds, req.Filters, req.Limit, req.Offset);
  req.InvocationTaskIds?.forEach(checkTaskId);
  let q = ctx.server.db
    .selectFrom('tasks')
    .innerJoin('invocations', 'invocations.id', 'tasks.invocation_id')
    .where('tasks.account', '=', ctx.account)
    .where('tasks.region', '=', ctx.region);
  if (req.InvocationTaskIds)
    q = q.where('tasks.id', 'in', req.InvocationTaskIds.length ? req.InvocationTaskIds : ['']);
  for (const f of req.Filters ?? []) {
    if (f.Name === 'invocation-task-id') {
      f.Values.forEach(checkTaskId);
      q = q.where('tasks.id', 'in', f.Values);
    } else if (f.Name === 'invocation-id') {
      f.Values.forEach(checkInvocationId);
      q = q.where('tasks.invocation_id', 'in', f.Values);
    } else if (f.Name === 'instance-id') {
      for (const v of f.Values)
        if (instanceKindOf(v) === undefined)
          throw new TatError('InvalidParameterValue.InvalidInstanceId', `"${v}" is not an instance id.`);
      q = q.where('tasks.instance_id', 'in', f.Values);
    } else if (f.Name === 'command-id') {
      f.Values.forEach(checkCommandId);
      q = q.where('tasks.command_id', 'in', f.Values);
    }
  }
  const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll('tasks')
    .select([
      'invocations.command_name',
      'invocations.command_content',
      'invocations.command_type',
      'invocations.timeout',
      'invocations.working_directory',
      'invocations.username',
      'invocations.cos_bucket_url',
      'invocations.cos_key_prefix',
      'invocations.source',
    ])
    .orderBy('tasks.created_at', 'desc')
    .orderBy('tasks.invocation_id', 'desc')
    .orderBy('tasks.position')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const hide = req.HideOutput ?? true;
  const outputs = hide
    ? new Map<string, string>()
    : await outputsOf(
        ctx,
        rows.map((r) => r.id),
      );
  const InvocationTaskSet: InvocationTask[] = rows.map((r) => ({
    InvocationId: r.invocation_id,
    InvocationTaskId: r.id,
    CommandId: r.command_id,
    TaskStatus: r.status as TaskStatus,
    InstanceId: r.instance_id,
    TaskResult: {
      ExitCode: r.exit_code,
      Output: outputs.get(r.id) ?? '',
      ExecStartTime: apiTimeOrNull(r.exec_start_at),
      ExecEndTime: apiTimeOrNull(r.exec_end_at),
      Dropped: Number(r.dropped),
      OutputUrl: outputUrlFor(
        ctx.server,
        ctx.account,
        r.cos_bucket_url,
        r.output_url,
        outputObjectKey(r.cos_key_prefix, r.invocation_id, r.id),
      ),
      OutputUploadCOSErrorInfo: r.cos_error,
    },
    StartTime: apiTimeOrNull(r.start_at),
    EndTime: apiTimeOrNull(r.end_at),
    CreatedTime: apiTime(r.created_at),
    UpdatedTime: apiTime(r.updated_at),
    CommandDocument: {
      Content: r.command_content,
      CommandType: r.command_type as CommandType,
      Timeout: r.timeout,
      WorkingDirectory: r.working_directory,
      Username: r.username,
      OutputCOSBucketUrl: r.cos_bucket_url,
      OutputCOSKeyPrefix: r.cos_key_prefix,
    },
    ErrorInfo: r.error_info,
    InvocationSource: r.source as 'USER' | 'INVOKER',
    CommandName: r.command_name,
  }));
  return { TotalCount: Number(count), InvocationTaskSet };
}
