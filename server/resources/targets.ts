// The instances a RunCommand / InvokeCommand targets, with TAT's preconditions (RunCommand;
// docs/architecture.md, "tatd"): well-formed ids, one kind family, known in this account and
// region, agent Online, and an OS that runs the command type.

import { TatError, checkInstanceIdCount, instanceKindOf, type CommandType } from '../../tat/index.js';
import type { CallContext } from '../context.js';

export interface Target {
  id: string;
  kind: string;
}

const list = (ids: string[]) => ids.join(', ');

export async function resolveTargets(
  ctx: CallContext,
  ids: string[],
  max: number,
  commandType: CommandType,
): Promise<Target[]> {
  checkInstanceIdCount(ids, max);
  const bad = ids.filter((id) => instanceKindOf(id) === undefined);
  if (bad.length > 0)
    throw new TatError(
      'InvalidParameterValue.InvalidInstanceId',
      `Not instance ids (ins-, lhins- or rins-xxxxxxxx): ${list(bad)}.`,
    );
  const kinds = new Set(ids.map(instanceKindOf));
  if (kinds.has('CVM') && kinds.has('LIGHTHOUSE'))
    throw new TatError(
      'InvalidParameterValue.InconsistentInstance',
      'CVM (ins-) and Lighthouse (lhins-) instances cannot be targeted in one call.',
    );
  const rows = await ctx.server.db
    .selectFrom('instances')
    .select(['id', 'kind', 'environment'])
    .where('id', 'in', ids)
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0)
    throw new TatError(
      'ResourceNotFound.InstanceNotFound',
      `No such instance in ${ctx.region}: ${list(missing)}.`,
    );
  const offline = ids.filter((id) => !ctx.server.hub.isOnline(id));
  if (offline.length > 0)
    throw new TatError(
      'ResourceUnavailable.AgentStatusNotOnline',
      `The agent is not online on: ${list(offline)}.`,
    );
  const wantWindows = commandType !== 'SHELL';
  const unsupported = rows.filter((r) => (r.environment === 'Windows') !== wantWindows).map((r) => r.id);
  if (unsupported.length > 0)
    throw new TatError(
      'InvalidParameterValue.AgentUnsupportedCommandType',
      `${commandType} commands cannot run on ${list(unsupported)} (${wantWindows ? 'Linux' : 'Windows'}).`,
    );
  return ids.map((id) => ({ id, kind: byId.get(id)!.kind }));
}
