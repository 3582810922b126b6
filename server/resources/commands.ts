// Commands: CreateCommand, DescribeCommands, ModifyCommand, DeleteCommand(s),
// PreviewReplacedCommandContent (docs/tat-api-reference.md, "Actions" "Commands"), and the command
// fields RunCommand shares with CreateCommand.

import type { Selectable } from 'kysely';
import {
  FINAL_TASK_STATUSES,
  TatError,
  apiTime,
  checkCommandName,
  checkCommandType,
  checkContent,
  checkCosKeyPrefix,
  checkDescription,
  checkSubstitutedScript,
  checkFilterValues,
  checkListRequest,
  checkTags,
  tagFilterMatches,
  checkTimeout,
  checkUsername,
  checkWorkingDirectory,
  isId,
  LIMITS,
  parseParameterConfs,
  parseParameterJson,
  substitute,
  findPlaceholders,
  type Command,
  type CommandType,
  type ParameterValues,
  type RequestOf,
  type Tag,
} from '../../tat/index.js';
import { creationTime, newId, type CallContext } from '../context.js';
import type { CommandsTable } from '../store/schema.js';
import { publicCommand } from '../public/commands.js';
import {
  checkPublicParameters,
  isPublicCommandId,
  publicCommandRow,
  publicCommandRows,
  publicFields,
} from './public.js';
import { checkSceneId } from './scenes.js';
import { assertCommandQuota } from './quotas.js';
import { checkBucketUrlForm } from '../cos/buckets.js';

export type CommandRow = Selectable<CommandsTable>;

const decodeScript = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const encodeScript = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** The defaults of a command as values (from whichever of the two forms it was given). */
export function commandDefaults(
  row: Pick<CommandRow, 'default_parameters' | 'default_parameter_confs'>,
): ParameterValues {
  if (row.default_parameters) return JSON.parse(row.default_parameters) as ParameterValues;
  const confs = JSON.parse(row.default_parameter_confs) as {
    ParameterName: string;
    ParameterValue: string;
  }[];
  return Object.fromEntries(confs.map((c) => [c.ParameterName, c.ParameterValue]));
}

export function commandOut(r: CommandRow): Command {
  const confs = JSON.parse(r.default_parameter_confs) as Command['DefaultParameterConfs'];
  const defaults = commandDefaults(r);
  return {
    CommandId: r.id,
    CommandName: r.name,
    Description: r.description,
    Content: r.content,
    CommandType: r.command_type as CommandType,
    WorkingDirectory: r.working_directory,
    Timeout: r.timeout,
    CreatedTime: apiTime(r.created_at),
    UpdatedTime: apiTime(r.updated_at),
    EnableParameter: r.enable_parameter === 1,
    DefaultParameters: Object.keys(defaults).length > 0 ? JSON.stringify(defaults) : '',
    DefaultParameterConfs: confs.map((c) => ({
      ParameterName: c.ParameterName,
      ParameterValue: c.ParameterValue,
      ParameterDescription: c.ParameterDescription ?? '',
    })),
    ...publicFields(r.id),
    CreatedBy: r.created_by as 'USER' | 'TAT',
    Tags: JSON.parse(r.tags) as Tag[],
    Username: r.username,
    OutputCOSBucketUrl: r.cos_bucket_url,
    OutputCOSKeyPrefix: r.cos_key_prefix,
  };
}

type CommandFieldsInput = Partial<RequestOf<'CreateCommand'>> & { Content: string };

/** Checks the fields of a new command (CreateCommand, RunCommand) and applies the defaults. */
export function newCommandRow(ctx: CallContext, req: CommandFieldsInput, saved: boolean): CommandRow {
  if (req.CommandName !== undefined && (saved || req.CommandName !== '')) checkCommandName(req.CommandName);
  if (req.Description !== undefined) checkDescription(req.Description);
  checkContent(req.Content);
  const type = checkCommandType(req.CommandType ?? 'SHELL');
  const defaults = ctx.server.config.defaults;
  const wd =
    req.WorkingDirectory ?? (type === 'SHELL' ? defaults.workingDirectory : defaults.windowsWorkingDirectory);
  checkWorkingDirectory(wd, type);
  const timeout = req.Timeout ?? LIMITS.timeoutDefault;
  checkTimeout(timeout);
  const username = req.Username ?? (type === 'SHELL' ? defaults.username : 'System');
  checkUsername(username);
  if (req.OutputCOSBucketUrl) checkBucketUrlForm(ctx.server.config, req.OutputCOSBucketUrl);
  if (req.OutputCOSKeyPrefix) checkCosKeyPrefix(req.OutputCOSKeyPrefix);
  if (req.Tags) checkTags(req.Tags);
  const enable = req.EnableParameter ?? false;
  const { text: defaultParameters, confs } = checkDefaults(
    enable,
    req.DefaultParameters,
    req.DefaultParameterConfs,
  );
  const now = creationTime(ctx.server.now());
  let id = newId('cmd');
  while (isPublicCommandId(id)) id = newId('cmd');
  return {
    id,
    account: ctx.account,
    region: ctx.region,
    name: req.CommandName ?? '',
    description: req.Description ?? '',
    content: req.Content,
    command_type: type,
    working_directory: wd,
    timeout,
    enable_parameter: enable ? 1 : 0,
    default_parameters: defaultParameters,
    default_parameter_confs: confs,
    tags: JSON.stringify(req.Tags ?? []),
    username,
    cos_bucket_url: req.OutputCOSBucketUrl ?? '',
    cos_key_prefix: req.OutputCOSKeyPrefix ?? '',
    saved: saved ? 1 : 0,
    created_by: 'USER',
    created_at: now,
    updated_at: now,
  };
}

/** Checks DefaultParameters / DefaultParameterConfs; returns them as stored. */
function checkDefaults(
  enable: boolean,
  text: string | undefined,
  confs: RequestOf<'CreateCommand'>['DefaultParameterConfs'],
): { text: string; confs: string } {
  if (text === undefined && confs === undefined) return { text: '', confs: '[]' };
  if (!enable)
    throw new TatError(
      'InvalidParameterValue.SupportParametersOnlyIfEnableParameter',
      'DefaultParameters and DefaultParameterConfs need EnableParameter=true.',
    );
  if (text !== undefined && confs !== undefined)
    throw new TatError(
      'InvalidParameter.ConflictParameter',
      'Give DefaultParameters or DefaultParameterConfs, not both.',
    );
  if (text !== undefined) {
    parseParameterJson(text, 'DefaultParameters');
    return { text, confs: '[]' };
  }
  parseParameterConfs(confs!);
  return { text: '', confs: JSON.stringify(confs) };
}

export async function assertNameFree(ctx: CallContext, name: string, exceptId?: string): Promise<void> {
  let q = ctx.server.db
    .selectFrom('commands')
    .select('id')
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('saved', '=', 1)
    .where('name', '=', name);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst())
    throw new TatError(
      'InvalidParameterValue.CommandNameDuplicated',
      `A command named "${name}" already exists in ${ctx.region}.`,
    );
}

/** The COMMAND quota (server/resources/quotas.ts, shared with DescribeQuotas). */
export const assertQuota = assertCommandQuota;

export function checkCommandId(id: string): void {
  if (!isId('command', id))
    throw new TatError(
      'InvalidParameterValue.InvalidCommandId',
      `"${id}" is not a command id (cmd-xxxxxxxx).`,
    );
}

/** A command the caller may run or preview: a saved user command of theirs or a public command. */
export async function findCommand(ctx: CallContext, id: string): Promise<CommandRow> {
  checkCommandId(id);
  const pub = publicCommand(id);
  return pub ? publicCommandRow(ctx, pub) : findOwnCommand(ctx, id);
}

/** A command the caller may change or delete: a saved user command of theirs, or CommandNotFound. */
export async function findOwnCommand(ctx: CallContext, id: string): Promise<CommandRow> {
  checkCommandId(id);
  if (isPublicCommandId(id))
    throw new TatError(
      'InvalidParameterValue',
      `Command ${id} is a public command (CreatedBy=TAT): it cannot be modified or deleted.`,
    );
  const row = await ctx.server.db
    .selectFrom('commands')
    .selectAll()
    .where('id', '=', id)
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('saved', '=', 1)
    .executeTakeFirst();
  if (!row)
    throw new TatError('ResourceNotFound.CommandNotFound', `Command ${id} does not exist in ${ctx.region}.`);
  return row;
}

export async function createCommand(ctx: CallContext, req: RequestOf<'CreateCommand'>) {
  const row = newCommandRow(ctx, req, true);
  await assertNameFree(ctx, row.name);
  await assertQuota(ctx);
  await ctx.server.db.insertInto('commands').values(row).execute();
  return { CommandId: row.id };
}

const COMMAND_FILTERS = {
  filters: [
    'command-id',
    'command-name',
    'command-type',
    'scene-id',
    'created-by',
    'tag-key',
    'tag-value',
    'tag:',
  ],
  idsField: 'CommandIds',
} as const;

export async function describeCommands(ctx: CallContext, req: RequestOf<'DescribeCommands'>) {
  const page = checkListRequest(COMMAND_FILTERS, req.CommandIds, req.Filters, req.Limit, req.Offset);
  for (const id of req.CommandIds ?? []) checkCommandId(id);
  for (const f of req.Filters ?? []) {
    if (f.Name === 'command-type') checkFilterValues(f, ['SHELL', 'POWERSHELL', 'BAT']);
    if (f.Name === 'created-by') checkFilterValues(f, ['TAT', 'USER']);
    if (f.Name === 'scene-id') f.Values.forEach(checkSceneId);
    if (f.Name === 'command-id') f.Values.forEach(checkCommandId);
  }
  // At most COMMAND-quota rows per account and region: filtering in memory keeps tag rules simple.
  const own = await ctx.server.db
    .selectFrom('commands')
    .selectAll()
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('saved', '=', 1)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  // Both unless filtered (docs/tat-api-reference.md, "Actions"): the user's newest first, then the
  // public ones.
  const rows = [...own, ...publicCommandRows(ctx)];
  const ids = req.CommandIds ? new Set(req.CommandIds) : undefined;
  const matching = rows.filter((r) => {
    if (ids && !ids.has(r.id)) return false;
    const tags = JSON.parse(r.tags) as Tag[];
    return (req.Filters ?? []).every((f) => {
      const any = (v: string) => f.Values.includes(v);
      switch (f.Name) {
        case 'command-id':
          return any(r.id);
        case 'command-name':
          return any(r.name);
        case 'command-type':
          return any(r.command_type);
        case 'created-by':
          return any(r.created_by);
        case 'scene-id':
          return (publicCommand(r.id)?.scenes ?? []).some(any); // user commands belong to no scene
        default: // tag-key, tag-value, tag:<key>
          return tagFilterMatches(f, tags);
      }
    });
  });
  return {
    TotalCount: matching.length,
    CommandSet: matching.slice(page.offset, page.offset + page.limit).map(commandOut),
  };
}

export async function modifyCommand(ctx: CallContext, req: RequestOf<'ModifyCommand'>) {
  const row = await findOwnCommand(ctx, req.CommandId);
  const next = { ...row };
  if (req.CommandName !== undefined) {
    checkCommandName(req.CommandName);
    await assertNameFree(ctx, req.CommandName, row.id);
    next.name = req.CommandName;
  }
  if (req.Description !== undefined) {
    checkDescription(req.Description);
    next.description = req.Description;
  }
  if (req.Content !== undefined) {
    checkContent(req.Content);
    next.content = req.Content;
  }
  if (req.CommandType !== undefined) next.command_type = checkCommandType(req.CommandType);
  if (req.WorkingDirectory !== undefined) next.working_directory = req.WorkingDirectory;
  if (req.WorkingDirectory !== undefined || req.CommandType !== undefined)
    checkWorkingDirectory(next.working_directory, next.command_type as CommandType);
  if (req.Timeout !== undefined) {
    checkTimeout(req.Timeout);
    next.timeout = req.Timeout;
  }
  if (req.Username !== undefined) {
    checkUsername(req.Username);
    next.username = req.Username;
  }
  if (req.OutputCOSBucketUrl !== undefined) {
    if (req.OutputCOSBucketUrl) checkBucketUrlForm(ctx.server.config, req.OutputCOSBucketUrl);
    next.cos_bucket_url = req.OutputCOSBucketUrl;
  }
  if (req.OutputCOSKeyPrefix !== undefined) {
    if (req.OutputCOSKeyPrefix) checkCosKeyPrefix(req.OutputCOSKeyPrefix);
    next.cos_key_prefix = req.OutputCOSKeyPrefix;
  }
  if (req.EnableParameter !== undefined && req.EnableParameter !== (row.enable_parameter === 1))
    throw new TatError(
      'InvalidParameterValue',
      'EnableParameter cannot be changed after a command is created.',
    );
  if (req.Tags !== undefined) throw new TatError('InvalidParameter', 'ModifyCommand cannot change Tags.');
  if (req.DefaultParameters !== undefined || req.DefaultParameterConfs !== undefined) {
    // The new defaults replace the whole set.
    const d = checkDefaults(row.enable_parameter === 1, req.DefaultParameters, req.DefaultParameterConfs);
    next.default_parameters = d.text;
    next.default_parameter_confs = d.confs;
  }
  next.updated_at = ctx.server.now();
  await ctx.server.db.updateTable('commands').set(next).where('id', '=', row.id).execute();
  return {};
}

async function assertDeletable(ctx: CallContext, ids: string[]): Promise<void> {
  const used = await ctx.server.db
    .selectFrom('invokers')
    .select(['id', 'command_id'])
    .where('command_id', 'in', ids)
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (used)
    throw new TatError(
      'ResourceUnavailable.CommandInInvoker',
      `Command ${used.command_id} is used by invoker ${used.id}; delete the invoker (DeleteInvoker) or point it at another command (ModifyInvoker) first.`,
    );
  const busy = await ctx.server.db
    .selectFrom('tasks')
    .select(['command_id', 'invocation_id'])
    .where('command_id', 'in', ids)
    .where('status', 'not in', [...FINAL_TASK_STATUSES])
    .executeTakeFirst();
  if (busy)
    throw new TatError(
      'ResourceUnavailable.CommandInExecuting',
      `Command ${busy.command_id} is running in invocation ${busy.invocation_id}; delete it after the invocation ends.`,
    );
}

export async function deleteCommand(ctx: CallContext, req: RequestOf<'DeleteCommand'>) {
  await findOwnCommand(ctx, req.CommandId);
  await assertDeletable(ctx, [req.CommandId]);
  await ctx.server.db.deleteFrom('commands').where('id', '=', req.CommandId).execute();
  return {};
}

export async function deleteCommands(ctx: CallContext, req: RequestOf<'DeleteCommands'>) {
  if (req.CommandIds.length === 0)
    throw new TatError('MissingParameter', 'CommandIds must name at least one command.');
  if (req.CommandIds.length > LIMITS.idsPerDescribe)
    throw new TatError(
      'InvalidParameterValue',
      `CommandIds names ${req.CommandIds.length} commands; at most ${LIMITS.idsPerDescribe} are allowed.`,
    );
  const ids = [...new Set(req.CommandIds)];
  // Malformed ids are a parameter error whatever their place in the list, so check them all
  // before looking any up.
  ids.forEach(checkCommandId);
  // All or nothing: every command must exist and be idle before any is deleted.
  for (const id of ids) await findOwnCommand(ctx, id);
  await assertDeletable(ctx, ids);
  await ctx.server.db.deleteFrom('commands').where('id', 'in', ids).execute();
  return {};
}

export async function previewReplacedCommandContent(
  ctx: CallContext,
  req: RequestOf<'PreviewReplacedCommandContent'>,
) {
  // Neither is a missing parameter, not a conflict: clients report the two differently.
  if (req.CommandId === undefined && req.Content === undefined)
    throw new TatError('MissingParameter', 'Give CommandId or Content: the script to preview.');
  if (req.CommandId !== undefined && req.Content !== undefined)
    throw new TatError('InvalidParameter.ConflictParameter', 'Give exactly one of CommandId and Content.');
  let content: string;
  let defaults: ParameterValues = {};
  if (req.CommandId !== undefined) {
    const row = await findCommand(ctx, req.CommandId);
    if (row.enable_parameter !== 1 && req.Parameters !== undefined)
      throw new TatError(
        'InvalidParameterValue.ParameterDisabled',
        `Command ${row.id} was created without EnableParameter; it takes no Parameters.`,
      );
    // Without EnableParameter a saved command's `{{x}}` is plain text, run as written.
    if (row.enable_parameter !== 1) return { ReplacedContent: row.content };
    content = row.content;
    defaults = commandDefaults(row);
  } else {
    checkContent(req.Content!);
    content = req.Content!;
  }
  const given = req.Parameters !== undefined ? parseParameterJson(req.Parameters, 'Parameters') : {};
  const script = decodeScript(content);
  if (
    req.Parameters === undefined &&
    Object.keys(defaults).length === 0 &&
    findPlaceholders(script).length > 0
  )
    throw new TatError(
      'InvalidParameterValue.LackOfParameters',
      'The script has parameters but neither Parameters nor command defaults were given.',
    );
  const values = { ...defaults, ...given };
  if (req.CommandId !== undefined) checkPublicParameters(req.CommandId, values);
  const replaced = substitute(script, values);
  checkSubstitutedScript(replaced);
  return { ReplacedContent: encodeScript(replaced) };
}

export { decodeScript, encodeScript };
