// Invokers (docs/api-coverage.md, "Invokers"): CreateInvoker, DescribeInvokers, ModifyInvoker,
// EnableInvoker, DisableInvoker, DeleteInvoker, DescribeInvokerRecords.
//
// tatd's database is the truth. Every action checks, commits and returns; it never waits for
// Temporal. `server.invokers.changed()` then has the reconciler (server/invokers/) make the
// invoker's Temporal Schedule match, in the background and again until it succeeds, so these
// actions answer the same whether Temporal is up or not. What a fire does is
// server/invokers/fire.ts.

import { newestFirst } from './paging.js';
import {
  LIMITS,
  TatError,
  apiTime,
  checkFilterValues,
  checkListRequest,
  checkTags,
  checkUsername,
  foldInvocationStatus,
  isId,
  recordedParameters,
  type CommandType,
  type Invoker,
  type InvokerRecord,
  type InvocationStatus,
  type Page,
  type ParameterValues,
  type RequestOf,
  type Tag,
  type TaskStatus,
} from '../../tat/index.js';
import { checkScheduleSettings, nextInvokeTime, type InvokerSchedule } from '../../tat/schedule.js';
import { creationTime, newId, type CallContext } from '../context.js';
import { invokerRow, invokerSchedule, type InvokerRow } from '../invokers/row.js';
import { checkCommandId, decodeScript, findCommand, type CommandRow } from './commands.js';
import { runParameters } from './invocations.js';
import { resolveTargets } from './targets.js';

function checkInvokerId(id: string): void {
  if (!isId('invoker', id))
    throw new TatError(
      'InvalidParameterValue.InvalidInvokerId',
      `"${id}" is not an invoker id (ivk-xxxxxxxx).`,
    );
}

/** A list of invoker ids with a malformed one in it. */
function checkInvokerIds(ids: string[]): void {
  const bad = ids.filter((id) => !isId('invoker', id));
  if (bad.length > 0)
    throw new TatError(
      'InvalidParameterValue.InconsistentID',
      `InvokerIds holds ids that are not invoker ids (ivk-xxxxxxxx): ${bad.slice(0, 5).join(', ')}.`,
    );
}

/** Limit and Offset of the invoker lists, whose documented codes are TooLarge / TooSmall. */
function invokerPage(limit: number | undefined, offset: number | undefined): Page {
  const l = limit ?? LIMITS.pageSizeDefault;
  const o = offset ?? 0;
  if (l > LIMITS.pageSizeMax)
    throw new TatError(
      'InvalidParameterValue.TooLarge',
      `Limit is at most ${LIMITS.pageSizeMax} (got ${l}).`,
    );
  if (l < 0) throw new TatError('InvalidParameterValue.TooSmall', `Limit must not be negative (got ${l}).`);
  if (o < 0) throw new TatError('InvalidParameterValue.TooSmall', `Offset must not be negative (got ${o}).`);
  return { limit: l, offset: o };
}

function checkName(name: string): void {
  if (name.trim().length === 0) throw new TatError('InvalidParameterValue', 'Name must not be empty.');
  if (name.length > LIMITS.invokerNameChars)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `Name is longer than ${LIMITS.invokerNameChars} characters (${name.length}).`,
    );
}

function checkType(type: string): void {
  if (type !== 'SCHEDULE')
    throw new TatError(
      'InvalidParameterValue',
      `Type "${type}" is not an invoker type; the only one is SCHEDULE.`,
    );
}

function checkInvokerUsername(name: string): void {
  if (name.length > LIMITS.usernameChars)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `Username is longer than ${LIMITS.usernameChars} characters.`,
    );
  checkUsername(name);
}

/** What a fire would refuse, refused now: parameters for the command, targets (kinds, known, online, OS). */
async function checkRun(
  ctx: CallContext,
  command: CommandRow,
  parameters: string,
  instanceIds: string[] | undefined,
): Promise<void> {
  runParameters(command, parameters === '' ? undefined : parameters);
  if (instanceIds)
    await resolveTargets(ctx, instanceIds, LIMITS.instancesPerInvoker, command.command_type as CommandType);
}

async function findInvoker(ctx: CallContext, id: string): Promise<InvokerRow> {
  checkInvokerId(id);
  const row = await invokerRow(ctx.server.db, ctx, id);
  if (!row) throw new TatError('ResourceNotFound', `Invoker ${id} does not exist in ${ctx.region}.`);
  return row;
}

function scheduleColumns(s: InvokerSchedule): Pick<InvokerRow, 'policy' | 'recurrence' | 'invoke_at'> {
  return s.policy === 'ONCE'
    ? { policy: 'ONCE', recurrence: '', invoke_at: s.invokeAt }
    : { policy: 'RECURRENCE', recurrence: s.crontab.expression, invoke_at: null };
}

async function assertInvokerQuota(ctx: CallContext): Promise<void> {
  const quota = ctx.server.config.quotas.invoker;
  const { count } = await ctx.server.db
    .selectFrom('invokers')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirstOrThrow();
  if (Number(count) >= quota)
    throw new TatError(
      'LimitExceeded',
      `The quota of ${quota} invokers in ${ctx.region} is used up; delete invokers first (DeleteInvoker).`,
    );
}

export async function createInvoker(ctx: CallContext, req: RequestOf<'CreateInvoker'>) {
  checkName(req.Name);
  checkType(req.Type);
  if (!req.ScheduleSettings)
    throw new TatError('MissingParameter', 'ScheduleSettings is required for an invoker of Type SCHEDULE.');
  const now = ctx.server.now();
  const schedule = checkScheduleSettings(req.ScheduleSettings, now);
  if (req.Username !== undefined) checkInvokerUsername(req.Username);
  if (req.Tags) checkTags(req.Tags);
  const command = await findCommand(ctx, req.CommandId);
  await checkRun(ctx, command, req.Parameters ?? '', req.InstanceIds);
  await assertInvokerQuota(ctx);
  const created = creationTime(now);
  const row: InvokerRow = {
    id: newId('ivk'),
    account: ctx.account,
    region: ctx.region,
    name: req.Name,
    type: 'SCHEDULE',
    command_id: command.id,
    username: req.Username ?? '',
    parameters: req.Parameters ?? '',
    instance_ids: JSON.stringify(req.InstanceIds),
    enabled: 1,
    ...scheduleColumns(schedule),
    tags: JSON.stringify(req.Tags ?? []),
    created_at: created,
    updated_at: created,
    revision: 1,
    schedule_since: now,
    checked_until: now,
  };
  await ctx.server.db.insertInto('invokers').values(row).execute();
  ctx.server.invokers.changed(ctx, row.id);
  return { InvokerId: row.id };
}

/** The scripts of the commands of `rows` that have Parameters: they say which values are hidden. */
async function templatesOf(ctx: CallContext, rows: InvokerRow[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of new Set(rows.filter((r) => r.parameters !== '').map((r) => r.command_id)))
    out.set(id, decodeScript((await findCommand(ctx, id)).content));
  return out;
}

function invokerOut(r: InvokerRow, now: number, templates: Map<string, string>): Invoker {
  const schedule = invokerSchedule(r);
  const next = schedule.policy === 'ONCE' ? schedule.invokeAt : nextInvokeTime(schedule, now);
  return {
    InvokerId: r.id,
    Name: r.name,
    Type: 'SCHEDULE',
    CommandId: r.command_id,
    Username: r.username,
    // `{{tat-hidden:x}}` values are shown as ******, as in Invocation.Parameters.
    Parameters:
      r.parameters === ''
        ? ''
        : recordedParameters(JSON.parse(r.parameters) as ParameterValues, templates.get(r.command_id) ?? ''),
    InstanceIds: JSON.parse(r.instance_ids) as string[],
    Enable: r.enabled === 1,
    ScheduleSettings: {
      Policy: schedule.policy,
      Recurrence: r.recurrence,
      InvokeTime: next === undefined ? '' : apiTime(next),
    },
    CreatedTime: apiTime(r.created_at),
    UpdatedTime: apiTime(r.updated_at),
    Tags: JSON.parse(r.tags) as Tag[],
  };
}

const INVOKER_FILTERS = {
  filters: ['invoker-id', 'command-id', 'invoker-type'],
  idsField: 'InvokerIds',
} as const;

export async function describeInvokers(ctx: CallContext, req: RequestOf<'DescribeInvokers'>) {
  const page = invokerPage(req.Limit, req.Offset);
  checkListRequest(INVOKER_FILTERS, req.InvokerIds, req.Filters, undefined, undefined);
  if (req.InvokerIds) checkInvokerIds(req.InvokerIds);
  let q = ctx.server.db
    .selectFrom('invokers')
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region);
  if (req.InvokerIds) q = q.where('id', 'in', req.InvokerIds.length ? req.InvokerIds : ['']);
  for (const f of req.Filters ?? []) {
    if (f.Name === 'invoker-id') {
      f.Values.forEach(checkInvokerId);
      q = q.where('id', 'in', f.Values);
    } else if (f.Name === 'command-id') {
      f.Values.forEach(checkCommandId);
      q = q.where('command_id', 'in', f.Values);
    } else {
      checkFilterValues(f, ['SCHEDULE']);
      q = q.where('type', 'in', f.Values);
    }
  }
  const { total, rows } = await newestFirst(q, page);
  const now = ctx.server.now();
  const templates = await templatesOf(ctx, rows);
  return { TotalCount: total, InvokerSet: rows.map((r) => invokerOut(r, now, templates)) };
}

export async function modifyInvoker(ctx: CallContext, req: RequestOf<'ModifyInvoker'>) {
  const row = await findInvoker(ctx, req.InvokerId);
  const now = ctx.server.now();
  const next: InvokerRow = { ...row };
  if (req.Name !== undefined) {
    checkName(req.Name);
    next.name = req.Name;
  }
  if (req.Type !== undefined) checkType(req.Type);
  if (req.Username !== undefined) {
    checkInvokerUsername(req.Username);
    next.username = req.Username;
  }
  const scheduleChanged = req.ScheduleSettings !== undefined;
  if (req.ScheduleSettings)
    Object.assign(next, scheduleColumns(checkScheduleSettings(req.ScheduleSettings, now)));
  let command: CommandRow | undefined;
  if (req.CommandId !== undefined) {
    command = await findCommand(ctx, req.CommandId);
    // The old command's parameters mean nothing to another command.
    if (command.id !== row.command_id && req.Parameters === undefined) next.parameters = '';
    next.command_id = command.id;
  }
  if (req.Parameters !== undefined) next.parameters = req.Parameters;
  if (req.InstanceIds !== undefined) next.instance_ids = JSON.stringify(req.InstanceIds);
  if (command || req.Parameters !== undefined || req.InstanceIds !== undefined) {
    command ??= await findCommand(ctx, next.command_id);
    // Targets are checked again when they or the command (its type) change.
    const targetsChanged = req.InstanceIds !== undefined || command.id !== row.command_id;
    await checkRun(
      ctx,
      command,
      next.parameters,
      targetsChanged ? (JSON.parse(next.instance_ids) as string[]) : undefined,
    );
  }
  next.updated_at = now;
  next.revision = row.revision + 1;
  if (scheduleChanged) {
    next.schedule_since = now;
    next.checked_until = now;
  }
  await ctx.server.db.updateTable('invokers').set(next).where('id', '=', row.id).execute();
  ctx.server.invokers.changed(ctx, row.id);
  return {};
}

async function setEnabled(ctx: CallContext, id: string, enabled: boolean): Promise<object> {
  const row = await findInvoker(ctx, id);
  if ((row.enabled === 1) === enabled) return {};
  const now = ctx.server.now();
  await ctx.server.db
    .updateTable('invokers')
    .set({
      enabled: enabled ? 1 : 0,
      updated_at: now,
      revision: row.revision + 1,
      // Fires missed while disabled are not missed: they were not due.
      ...(enabled ? { schedule_since: now, checked_until: now } : {}),
    })
    .where('id', '=', row.id)
    .execute();
  ctx.server.invokers.changed(ctx, row.id);
  return {};
}

export const enableInvoker = (ctx: CallContext, req: RequestOf<'EnableInvoker'>) =>
  setEnabled(ctx, req.InvokerId, true);

export const disableInvoker = (ctx: CallContext, req: RequestOf<'DisableInvoker'>) =>
  setEnabled(ctx, req.InvokerId, false);

export async function deleteInvoker(ctx: CallContext, req: RequestOf<'DeleteInvoker'>) {
  const row = await findInvoker(ctx, req.InvokerId);
  // Its records go with it; the invocations it started stay (InvocationSource=INVOKER).
  await ctx.server.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('invoker_records').where('invoker_id', '=', row.id).execute();
    await trx.deleteFrom('invokers').where('id', '=', row.id).execute();
  });
  ctx.server.invokers.changed(ctx, row.id);
  return {};
}

export async function describeInvokerRecords(ctx: CallContext, req: RequestOf<'DescribeInvokerRecords'>) {
  const page = invokerPage(req.Limit, req.Offset);
  const ids = req.InvokerIds;
  if (ids && ids.length > LIMITS.idsPerDescribe)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `InvokerIds holds ${ids.length} ids; at most ${LIMITS.idsPerDescribe} are allowed.`,
    );
  if (ids) checkInvokerIds(ids);
  let q = ctx.server.db
    .selectFrom('invoker_records')
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region);
  if (ids) q = q.where('invoker_id', 'in', ids.length ? ids : ['']);
  const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('invoke_at', 'desc')
    .orderBy('invoker_id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const started = rows.map((r) => r.invocation_id).filter((id) => id !== '');
  const statuses = new Map<string, TaskStatus[]>();
  if (started.length > 0)
    for (const t of await ctx.server.db
      .selectFrom('tasks')
      .select(['invocation_id', 'status'])
      .where('invocation_id', 'in', started)
      .execute())
      statuses.set(t.invocation_id, [...(statuses.get(t.invocation_id) ?? []), t.status as TaskStatus]);
  const InvokerRecordSet: InvokerRecord[] = rows.map((r) => ({
    InvokerId: r.invoker_id,
    InvokeTime: apiTime(r.invoke_at),
    Reason: r.reason,
    InvocationId: r.invocation_id,
    Result: (r.result || foldInvocationStatus(statuses.get(r.invocation_id) ?? [])) as InvocationStatus,
  }));
  return { TotalCount: Number(count), InvokerRecordSet };
}
