// Execution: RunCommand, InvokeCommand, CancelInvocation, DescribeInvocations,
// DescribeInvocationTasks (docs/tat-api-reference.md, "Actions" "Execution").

import { sql, type Selectable, type Transaction } from 'kysely';
import {
  TatError,
  apiTime,
  apiTimeOrNull,
  checkCosKeyPrefix,
  checkFilterValues,
  checkSubstitutedScript,
  checkListRequest,
  checkTimeout,
  checkUsername,
  checkWorkingDirectory,
  foldInvocationStatus,
  instanceKindOf,
  isFinalInvocationStatus,
  isId,
  LIMITS,
  parseParameterJson,
  recordedParameters,
  resolveRunParameters,
  substitute,
  type CommandType,
  type Invocation,
  type InvocationTask,
  type ParameterValues,
  type RequestOf,
  type TaskStatus,
} from '../../tat/index.js';
import { creationTime, newId, type CallContext } from '../context.js';
import type { Database, InvocationsTable, TasksTable } from '../store/schema.js';
import { cancelTasks } from '../tasks/lifecycle.js';
import {
  assertNameFree,
  assertQuota,
  commandDefaults,
  decodeScript,
  encodeScript,
  findCommand,
  newCommandRow,
  type CommandRow,
} from './commands.js';
import { resolveTargets } from './targets.js';
import { checkPublicParameters } from './public.js';
import { PUBLIC_COMMAND_IDS } from '../public/commands.js';
import { assertBucketExists, checkBucketUrlForm } from '../cos/buckets.js';
import { outputUrlFor } from '../cos/output.js';
import { outputObjectKey } from '../../tat/node/cos.js';

interface RunSettings {
  username: string;
  workingDirectory: string;
  timeout: number;
  cosBucketUrl: string;
  cosKeyPrefix: string;
}

/** Who starts an invocation: an API call, or an invoker's fire (which records it with the invocation). */
export interface InvocationOrigin {
  source: 'USER' | 'INVOKER';
  /** Runs in the transaction that inserts the invocation, with its id. */
  alongside?: (trx: Transaction<Database>, invocationId: string) => Promise<void>;
}

const BY_USER: InvocationOrigin = { source: 'USER' };

/** Parameters for one run of `command`: checked, merged over the defaults, every placeholder set. */
export function runParameters(
  command: CommandRow,
  given: string | undefined,
): { values: ParameterValues; template: string; script: string } {
  const template = decodeScript(command.content);
  if (command.enable_parameter !== 1) {
    if (given !== undefined)
      throw new TatError(
        'InvalidParameterValue.ParameterDisabled',
        'The command has EnableParameter=false; it takes no Parameters.',
      );
    return { values: {}, template, script: template };
  }
  const values = given !== undefined ? parseParameterJson(given, 'Parameters') : {};
  const merged = resolveRunParameters(template, commandDefaults(command), values);
  checkPublicParameters(command.id, merged);
  const script = substitute(template, merged);
  checkSubstitutedScript(script);
  return { values, template, script };
}

async function startInvocation(
  ctx: CallContext,
  command: CommandRow,
  instanceIds: string[],
  given: string | undefined,
  settings: RunSettings,
  insertCommand: boolean,
  origin: InvocationOrigin,
): Promise<string> {
  const { server } = ctx;
  const { values, template, script } = runParameters(command, given);
  // The output is going to be written there: the bucket must be one tatd has.
  if (settings.cosBucketUrl !== '') assertBucketExists(server.config, settings.cosBucketUrl, ctx.account);
  const targets = await resolveTargets(
    ctx,
    instanceIds,
    LIMITS.instancesPerRun,
    command.command_type as CommandType,
  );
  const defaults = commandDefaults(command);
  const now = creationTime(server.now());
  const invocation: Selectable<InvocationsTable> = {
    id: newId('inv'),
    account: ctx.account,
    region: ctx.region,
    command_id: command.id,
    command_name: command.name,
    description: command.description,
    parameters: recordedParameters(values, template),
    default_parameters: recordedParameters(defaults, template),
    instance_kind: instanceKindOf(targets[0]!.id) === 'LIGHTHOUSE' ? 'LIGHTHOUSE' : 'CVM',
    username: settings.username,
    source: origin.source,
    command_content: command.content,
    command_type: command.command_type,
    timeout: settings.timeout,
    working_directory: settings.workingDirectory,
    cos_bucket_url: settings.cosBucketUrl,
    cos_key_prefix: settings.cosKeyPrefix,
    created_at: now,
  };
  const scriptB64 = encodeScript(script);
  const tasks: Selectable<TasksTable>[] = targets.map((t, position) => ({
    id: newId('invt'),
    invocation_id: invocation.id,
    account: ctx.account,
    region: ctx.region,
    instance_id: t.id,
    command_id: command.id,
    position,
    // Targets were online a moment ago; one that dropped since waits for its agent.
    status: server.hub.isOnline(t.id) ? 'DELIVERING' : 'DELIVER_DELAYED',
    script: scriptB64,
    created_at: now,
    updated_at: now,
    start_at: null,
    end_at: null,
    exec_start_at: null,
    exec_end_at: null,
    exit_code: 0,
    error_info: '',
    dropped: 0,
    final_log_index: null,
    output_url: '',
    cos_error: '',
    deliver_deadline: now + server.config.timings.deliveryTimeoutMs,
    run_deadline: null,
    output_bytes: 0,
  }));
  await server.db.transaction().execute(async (trx) => {
    if (insertCommand) await trx.insertInto('commands').values(command).execute();
    await trx.insertInto('invocations').values(invocation).execute();
    // SQLite caps bound variables per statement; insert in slices.
    for (let i = 0; i < tasks.length; i += 25)
      await trx
        .insertInto('tasks')
        .values(tasks.slice(i, i + 25))
        .execute();
    await origin.alongside?.(trx, invocation.id);
  });
  for (const t of tasks) server.hub.kick(t.instance_id, t.id);
  ctx.log.info(
    { invocationId: invocation.id, commandId: command.id, tasks: tasks.length, source: origin.source },
    'invocation created',
  );
  return invocation.id;
}

export async function runCommand(ctx: CallContext, req: RequestOf<'RunCommand'>) {
  const save = req.SaveCommand ?? false;
  if (save && req.CommandName === undefined)
    throw new TatError('MissingParameter', 'CommandName is required when SaveCommand is true.');
  const command = newCommandRow(ctx, req, save);
  if (save) {
    await assertNameFree(ctx, command.name);
    await assertQuota(ctx);
  }
  const invocationId = await startInvocation(
    ctx,
    command,
    req.InstanceIds,
    req.Parameters,
    {
      username: command.username,
      workingDirectory: command.working_directory,
      timeout: command.timeout,
      cosBucketUrl: command.cos_bucket_url,
      cosKeyPrefix: command.cos_key_prefix,
    },
    true,
    BY_USER,
  );
  return { CommandId: command.id, InvocationId: invocationId };
}

/**
 * InvokeCommand: every check, then the invocation. Invoker fires come through here too, with
 * their own origin, so a fire starts exactly what the same InvokeCommand call would.
 */
export async function invokeSavedCommand(
  ctx: CallContext,
  req: RequestOf<'InvokeCommand'>,
  origin: InvocationOrigin = BY_USER,
): Promise<string> {
  const command = await findCommand(ctx, req.CommandId);
  const type = command.command_type as CommandType;
  if (req.Username !== undefined) checkUsername(req.Username, 'InvalidParameter.InvalidUsername');
  if (req.WorkingDirectory !== undefined) checkWorkingDirectory(req.WorkingDirectory, type);
  if (req.Timeout !== undefined) checkTimeout(req.Timeout);
  if (req.OutputCOSBucketUrl) checkBucketUrlForm(ctx.server.config, req.OutputCOSBucketUrl);
  if (req.OutputCOSKeyPrefix) checkCosKeyPrefix(req.OutputCOSKeyPrefix);
  return startInvocation(
    ctx,
    command,
    req.InstanceIds,
    req.Parameters,
    {
      username: req.Username ?? command.username,
      workingDirectory: req.WorkingDirectory ?? command.working_directory,
      timeout: req.Timeout ?? command.timeout,
      cosBucketUrl: req.OutputCOSBucketUrl ?? command.cos_bucket_url,
      cosKeyPrefix: req.OutputCOSKeyPrefix ?? command.cos_key_prefix,
    },
    false,
    origin,
  );
}

export async function invokeCommand(ctx: CallContext, req: RequestOf<'InvokeCommand'>) {
  return { InvocationId: await invokeSavedCommand(ctx, req) };
}

function checkInvocationId(id: string): void {
  if (!isId('invocation', id))
    throw new TatError(
      'InvalidParameterValue.InvalidInvocationId',
      `"${id}" is not an invocation id (inv-xxxxxxxx).`,
    );
}

export async function cancelInvocation(ctx: CallContext, req: RequestOf<'CancelInvocation'>) {
  checkInvocationId(req.InvocationId);
  const ids = req.InstanceIds;
  // Parameter errors first, whatever the invocation.
  if (ids !== undefined) {
    if (ids.length === 0)
      throw new TatError('MissingParameter', 'InstanceIds is empty; omit it to cancel on every instance.');
    if (ids.length > LIMITS.instancesPerCancel)
      throw new TatError(
        'InvalidParameterValue.LimitExceeded',
        `InstanceIds names ${ids.length} instances; at most ${LIMITS.instancesPerCancel} are allowed.`,
      );
    const malformed = ids.filter((id) => instanceKindOf(id) === undefined);
    if (malformed.length > 0)
      throw new TatError(
        'InvalidParameterValue.InvalidInstanceId',
        `Not instance ids: ${malformed.join(', ')}.`,
      );
  }
  const inv = await ctx.server.db
    .selectFrom('invocations')
    .select('id')
    .where('id', '=', req.InvocationId)
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (!inv)
    throw new TatError(
      'ResourceNotFound.InvocationNotFound',
      `Invocation ${req.InvocationId} does not exist in ${ctx.region}.`,
    );
  const tasks = await ctx.server.db
    .selectFrom('tasks')
    .select(['id', 'instance_id'])
    .where('invocation_id', '=', inv.id)
    .execute();
  let chosen = tasks;
  if (ids !== undefined) {
    const targets = new Set(tasks.map((t) => t.instance_id));
    const unrelated = ids.filter((id) => !targets.has(id));
    if (unrelated.length > 0)
      throw new TatError(
        'InvalidParameterValue.InstanceIsNotRelatedToInvocation',
        `Invocation ${inv.id} does not target ${unrelated.join(', ')}.`,
      );
    const wanted = new Set(ids);
    chosen = tasks.filter((t) => wanted.has(t.instance_id));
  }
  if (chosen.length > 0)
    await cancelTasks(
      ctx.server,
      chosen.map((t) => t.id),
    );
  return {};
}

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
      for (const v of f.Values)
        if (!isId('command', v))
          throw new TatError(
            'InvalidParameterValue.InvalidCommandId',
            `"${v}" is not a command id (cmd-xxxxxxxx).`,
          );
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
  const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
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
  return { TotalCount: Number(count), InvocationSet };
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
      for (const v of f.Values)
        if (!isId('command', v))
          throw new TatError(
            'InvalidParameterValue.InvalidCommandId',
            `"${v}" is not a command id (cmd-xxxxxxxx).`,
          );
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
