// Public commands as the command resources see them: a row shaped like a stored command (built
// for the caller's account and region, with this server's default user and working directory),
// the fields only public commands have, and the check of their parameter values.

import { TatError, type ParameterValues } from '../../tat/index.js';
import type { CallContext } from '../context.js';
import { PUBLIC_COMMANDS, publicCommand, type PublicCommand } from '../public/commands.js';
import { PUBLIC_SINCE } from '../public/scenes.js';
import type { CommandRow } from './commands.js';

export function isPublicCommandId(id: string): boolean {
  return publicCommand(id) !== undefined;
}

const encoded = new Map(PUBLIC_COMMANDS.map((c) => [c.id, Buffer.from(c.script, 'utf8').toString('base64')]));

const defaultConfs = (c: PublicCommand) =>
  c.parameters.flatMap((p) =>
    p.default === undefined
      ? []
      : [{ ParameterName: p.name, ParameterValue: p.default, ParameterDescription: p.description }],
  );

/**
 * The command as a row. Username and WorkingDirectory are this server's defaults for commands
 * that name none (`root` and `/root` unless configured otherwise), as for a user command.
 */
export function publicCommandRow(ctx: CallContext, c: PublicCommand): CommandRow {
  const defaults = ctx.server.config.defaults;
  return {
    id: c.id,
    account: ctx.account,
    region: ctx.region,
    name: c.name,
    description: c.description,
    content: encoded.get(c.id)!,
    command_type: 'SHELL',
    working_directory: defaults.workingDirectory,
    timeout: c.timeout,
    enable_parameter: 1,
    default_parameters: '',
    default_parameter_confs: JSON.stringify(defaultConfs(c)),
    tags: '[]',
    username: defaults.username,
    cos_bucket_url: '',
    cos_key_prefix: '',
    saved: 1,
    created_by: 'TAT',
    created_at: PUBLIC_SINCE,
    updated_at: PUBLIC_SINCE,
  };
}

export function publicCommandRows(ctx: CallContext): CommandRow[] {
  return PUBLIC_COMMANDS.map((c) => publicCommandRow(ctx, c));
}

/** `Scenes` and `FormattedDescription` of a command: empty for user commands. */
export function publicFields(id: string): { Scenes: string[]; FormattedDescription: string } {
  const c = publicCommand(id);
  if (!c) return { Scenes: [], FormattedDescription: '' };
  return {
    Scenes: [...c.scenes],
    FormattedDescription: JSON.stringify({
      scenes: c.scenes,
      cmd_description: { en: c.description, 'zh-cn': c.descriptionZh },
      parameters: c.parameters.map((p) => ({
        name: p.name,
        description: p.description,
        required: p.default === undefined,
        ...(p.default !== undefined ? { default: p.default } : {}),
        rule: p.rule,
      })),
    }),
  };
}

/**
 * Checks the values a public command will run with (the call's over the defaults): each must
 * follow its parameter's rule, since values are substituted into the script as text.
 */
export function checkPublicParameters(id: string, values: ParameterValues): void {
  const c = publicCommand(id);
  if (!c) return;
  for (const p of c.parameters) {
    const v = values[p.name];
    if (v === undefined || p.test(v)) continue;
    const shown = v.length > 80 ? `${JSON.stringify(v.slice(0, 80))}…` : JSON.stringify(v);
    throw new TatError(
      'InvalidParameterValue',
      `Parameter "${p.name}" of ${c.name} must be ${p.rule}; got ${shown}.`,
    );
  }
}
