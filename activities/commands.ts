// The saved command of one (run, step). Its name is derived from the run and the step, so a
// retried activity finds it again by name instead of creating a second one. Its script is the
// runbook's, as written: a `{{…}}` in it (a Go template, a Helm chart, a heredoc) reaches the
// machine untouched, unless the step uses TAT's custom parameters (the runbook gives it values), in
// which case the command is made with EnableParameter and TAT fills the `{{name}}`s it has values
// for. How a retried invocation is found again without any marker: invoke.ts.

import { createHash } from 'node:crypto';
import type { TatClient } from '../tat/node/client.js';
import { LIMITS } from '../tat/limits.js';
import { badInput, errorCode, tatCall } from './errors.js';
import { allPages } from './pages.js';
import type { CleanupInput, CommandSpec, PreparedStep, PrepareStepInput } from './types.js';

/**
 * The custom parameter that commands made by tatflow before 2026-12 carried on a first comment
 * line (`# tatflow {{tatflow_key}}`): runs begun then may still find such a command by name.
 */
const LEGACY_KEY_PARAMETER = 'tatflow_key';

const NAME_PREFIX = 'tatflow-';
const NAME_CHARS = /^[A-Za-z0-9_.-]+$/;

const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex');

/**
 * `tatflow-<12 hex of sha1(runId)>-<step>`, at most 60 bytes (CommandName's limit). A step key
 * that does not fit, or has characters CommandName refuses, is replaced by a cleaned prefix of it
 * and 8 hex of its own hash, so the name stays deterministic.
 */
export function stepCommandName(runId: string, step: string): string {
  const prefix = `${NAME_PREFIX}${sha1(runId).slice(0, 12)}-`;
  const room = LIMITS.commandNameBytes - prefix.length;
  if (NAME_CHARS.test(step) && step.length <= room) return prefix + step;
  const cleaned = step.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, room - 9);
  return `${prefix}${cleaned}-${sha1(step).slice(0, 8)}`;
}

/**
 * The script as tatflow made step commands before 2026-12: a key line first, or right after a `#!`
 * line. A command of a run begun then, found again by name, has this content.
 */
export function legacyContent(content: string, type: CommandSpec['commandType'] = 'SHELL'): string {
  const marker = `${type === 'BAT' ? '@REM' : '#'} tatflow {{${LEGACY_KEY_PARAMETER}}}`;
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  if (!content.startsWith('#!')) return `${marker}${eol}${content}`;
  const end = content.indexOf('\n');
  if (end < 0) return `${content}${eol}${marker}${eol}`;
  return `${content.slice(0, end + 1)}${marker}${eol}${content.slice(end + 1)}`;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

type Command = NonNullable<Awaited<ReturnType<TatClient['DescribeCommands']>>['CommandSet']>[number];

/** The saved command with exactly this name (a `command-name` filter may match more loosely). */
async function commandNamed(tat: TatClient, name: string): Promise<Command | undefined> {
  const found = await allPages(async (Offset, Limit) => {
    const r = await tatCall(tat, 'DescribeCommands', () =>
      tat.DescribeCommands({ Filters: [{ Name: 'command-name', Values: [name] }], Offset, Limit }),
    );
    return { items: r.CommandSet ?? [], total: r.TotalCount ?? 0 };
  });
  return found.find((c) => c.CommandName === name);
}

/** Custom parameters are on when the step passes values or the script declares defaults. */
export const usesParameters = (input: PrepareStepInput): boolean =>
  input.parameters === true || input.command.defaultParameters !== undefined;

function createRequest(name: string, input: PrepareStepInput) {
  const c = input.command;
  const params = usesParameters(input);
  return {
    CommandName: name,
    Description: `tatflow run ${input.runId}, step ${input.step}`.slice(0, LIMITS.commandDescriptionChars),
    Content: b64(c.content),
    CommandType: c.commandType ?? 'SHELL',
    EnableParameter: params,
    ...(params ? { DefaultParameters: JSON.stringify(c.defaultParameters ?? {}) } : {}),
    ...(c.workingDirectory !== undefined ? { WorkingDirectory: c.workingDirectory } : {}),
    ...(c.timeout !== undefined ? { Timeout: c.timeout } : {}),
    ...(c.username !== undefined ? { Username: c.username } : {}),
  };
}

/**
 * A command found by name must be the one this step would create (or the one tatflow made for it
 * before 2026-12, with its key line and parameters on); else it is another run's.
 */
function checkSame(found: Command, wanted: ReturnType<typeof createRequest>, input: PrepareStepInput): void {
  const differs: string[] = [];
  const content = unb64(found.Content ?? '');
  const legacy =
    found.EnableParameter === true &&
    content === legacyContent(input.command.content, input.command.commandType);
  if (!legacy) {
    if (content !== unb64(wanted.Content)) differs.push('content');
    if ((found.EnableParameter ?? false) !== wanted.EnableParameter) differs.push('EnableParameter');
  }
  if ((found.CommandType ?? 'SHELL') !== wanted.CommandType) differs.push('command type');
  // Settings the step leaves to TAT's defaults are not compared.
  if (wanted.Timeout !== undefined && found.Timeout !== wanted.Timeout) differs.push('timeout');
  if (wanted.WorkingDirectory !== undefined && found.WorkingDirectory !== wanted.WorkingDirectory)
    differs.push('working directory');
  if (wanted.Username !== undefined && found.Username !== wanted.Username) differs.push('username');
  if (differs.length > 0)
    throw badInput(
      `Command ${found.CommandId} (${wanted.CommandName}) exists with another ${differs.join(', ')}: ` +
        'it was made for another run with the same id. Delete it, or give the run a new id.',
      'tatflow.StepCommandConflict',
    );
}

export async function prepareStep(tat: TatClient, input: PrepareStepInput): Promise<PreparedStep> {
  const name = stepCommandName(input.runId, input.step);
  const wanted = createRequest(name, input);
  const existing = await commandNamed(tat, name);
  if (existing) {
    checkSame(existing, wanted, input);
    return { commandId: existing.CommandId! };
  }
  try {
    const r = await tatCall(tat, 'CreateCommand', () => tat.CreateCommand(wanted));
    return { commandId: r.CommandId! };
  } catch (e) {
    // Made meanwhile by an attempt whose answer was lost or that runs concurrently: use it.
    if (errorCode(e) !== 'InvalidParameterValue.CommandNameDuplicated') throw e;
    const again = await commandNamed(tat, name);
    if (!again) throw e;
    checkSame(again, wanted, input);
    return { commandId: again.CommandId! };
  }
}

/** Deletes the run's commands; one already gone is fine. */
export async function deleteCommands(tat: TatClient, input: CleanupInput): Promise<void> {
  for (const id of input.commandIds) {
    try {
      await tatCall(tat, 'DeleteCommand', () => tat.DeleteCommand({ CommandId: id }));
    } catch (e) {
      if (errorCode(e) !== 'ResourceNotFound.CommandNotFound') throw e;
    }
  }
}
