// Execution, the changing half: RunCommand, InvokeCommand, CancelInvocation
// (docs/tat-api-reference.md, "Actions" "Execution"). Invokers start invocations through
// `invokeSavedCommand` too. The reading half is in invocation-queries.ts.

import { type Selectable, type Transaction } from 'kysely';
import {
  TatError,
  checkCosKeyPrefix,
  checkSubstitutedScript,
  checkTimeout,
  checkUsername,
  checkWorkingDirectory,
  instanceKindOf,
  isId,
  LIMITS,
  parseParameterJson,
  recordedParameters,
  resolveRunParameters,
  substitute,
  type CommandType,
  type ParameterValues,
  type RequestOf,
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
import { assertBucketExists, checkBucketUrlForm } from '../cos/buckets.js';

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

export function checkInvocationId(id: string): void {
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
