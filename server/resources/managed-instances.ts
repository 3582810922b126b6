// Managed (`rins-`) instances (docs/tat-api-reference.md, "Managed (registered) instances and
// registration codes"): DescribeRegisterInstances, ModifyRegisterInstance, DeleteRegisterInstance.
// A machine becomes one by registering with a code (registration.ts); Online comes from the live
// agent connections, not from the database.

import type { Selectable } from 'kysely';
import {
  TatError,
  apiTime,
  checkFilterValues,
  checkListRequest,
  checkTags,
  isId,
  LIMITS,
  type RegisterInstanceInfo,
  type RequestOf,
  type Tag,
  tagFilterMatches,
} from '../../tat/index.js';
import type {} from '../../tat/agent-protocol.js';
import { type CallContext } from '../context.js';
import type { InstancesTable } from '../store/schema.js';

import { checkCodeIds } from './register-codes.js';

type InstanceRow = Selectable<InstancesTable>;

function instanceOut(ctx: CallContext, r: InstanceRow): RegisterInstanceInfo {
  return {
    RegisterCodeId: r.register_code_id ?? '',
    InstanceId: r.id,
    InstanceName: r.name,
    MachineId: r.agent_machine_id,
    SystemName: r.environment === 'Windows' ? 'Windows' : 'Linux',
    HostName: r.hostname,
    LocalIp: r.local_ip,
    PublicKey: r.public_key ?? '',
    Status: ctx.server.hub.isOnline(r.id) ? 'Online' : 'Offline',
    CreatedTime: apiTime(r.created_at),
    UpdatedTime: apiTime(r.updated_at ?? r.created_at),
    Tags: JSON.parse(r.tags) as Tag[],
  };
}

// ---------------------------------------------------------------- managed instances

const INSTANCE_FILTERS = {
  filters: [
    'instance-name',
    'instance-id',
    'register-status',
    'local-ip',
    'register-code-id',
    'sys-name',
    'tag-key',
    'tag-value',
    'tag:',
  ],
  idsField: 'InstanceIds',
} as const;

function checkInstanceIds(ids: string[]): void {
  const bad = ids.filter((id) => !isId('managed', id));
  if (bad.length > 0)
    throw new TatError(
      'InvalidParameterValue.InvalidRegisterInstanceId',
      `Not managed instance ids (rins-xxxxxxxx): ${bad.map((id) => `"${id.slice(0, 64)}"`).join(', ')}.`,
    );
}

export async function describeRegisterInstances(
  ctx: CallContext,
  req: RequestOf<'DescribeRegisterInstances'>,
) {
  const page = checkListRequest(INSTANCE_FILTERS, req.InstanceIds, req.Filters, req.Limit, req.Offset);
  if (req.InstanceIds) checkInstanceIds(req.InstanceIds);
  for (const f of req.Filters ?? []) {
    if (f.Name === 'instance-id') checkInstanceIds(f.Values);
    if (f.Name === 'register-status') checkFilterValues(f, ['Online', 'Offline']);
    if (f.Name === 'sys-name') checkFilterValues(f, ['Linux', 'Windows']);
    if (f.Name === 'register-code-id') checkCodeIds(f.Values);
  }
  // Online comes from the live connections, so filtering is done here, on this region's rows.
  const rows = await ctx.server.db
    .selectFrom('instances')
    .selectAll()
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('kind', '=', 'MANAGED')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const ids = req.InstanceIds ? new Set(req.InstanceIds) : undefined;
  const matching = rows
    .map((r) => instanceOut(ctx, r))
    .filter(
      (i) =>
        (!ids || ids.has(i.InstanceId)) &&
        (req.Filters ?? []).every((f) => {
          const any = (v: string) => f.Values.includes(v);
          switch (f.Name) {
            case 'instance-name':
              return any(i.InstanceName);
            case 'instance-id':
              return any(i.InstanceId);
            case 'register-status':
              return any(i.Status);
            case 'local-ip':
              return any(i.LocalIp);
            case 'register-code-id':
              return any(i.RegisterCodeId);
            case 'sys-name':
              return any(i.SystemName);
            default: // tag-key, tag-value, tag:<key>
              return tagFilterMatches(f, i.Tags);
          }
        }),
    );
  return {
    TotalCount: matching.length,
    RegisterInstanceSet: matching.slice(page.offset, page.offset + page.limit),
  };
}

async function findManaged(ctx: CallContext, id: string): Promise<InstanceRow> {
  checkInstanceIds([id]);
  const row = await ctx.server.db
    .selectFrom('instances')
    .selectAll()
    .where('id', '=', id)
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('kind', '=', 'MANAGED')
    .executeTakeFirst();
  if (!row)
    throw new TatError(
      'ResourceNotFound.RegisterInstanceNotFoundCode',
      `Managed instance ${id} does not exist in ${ctx.region}.`,
    );
  return row;
}

/**
 * ModifyRegisterInstance renames a managed instance, as in TAT. tatd extension: `Tags`, when given,
 * replaces the instance's tags (`[]` removes them all); TAT itself has no action that sets them
 * (docs/api-coverage.md, "Managed instances: tags").
 */
export async function modifyRegisterInstance(ctx: CallContext, req: RequestOf<'ModifyRegisterInstance'>) {
  const name = req.InstanceName;
  if (name.length === 0) throw new TatError('InvalidParameterValue', 'InstanceName must not be empty.');
  if (name.length > LIMITS.managedInstanceNameChars)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `InstanceName is longer than ${LIMITS.managedInstanceNameChars} characters.`,
    );
  if (req.Tags) checkTags(req.Tags);
  const row = await findManaged(ctx, req.InstanceId);
  await ctx.server.db
    .updateTable('instances')
    .set({ name, ...(req.Tags ? { tags: JSON.stringify(req.Tags) } : {}), updated_at: ctx.server.now() })
    .where('id', '=', row.id)
    .execute();
  return {};
}

export async function deleteRegisterInstance(ctx: CallContext, req: RequestOf<'DeleteRegisterInstance'>) {
  const row = await findManaged(ctx, req.InstanceId);
  // Its signatures are refused from now on (the key is gone with the row); its connection is cut.
  // Tasks it had not finished end by the usual deadlines (DELIVER_FAILED, TASK_TIMEOUT).
  await ctx.server.db.deleteFrom('instances').where('id', '=', row.id).execute();
  ctx.server.hub.disconnect(row.id);
  ctx.log.info({ instanceId: row.id }, 'managed instance deleted');
  return {};
}
