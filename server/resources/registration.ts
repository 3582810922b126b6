// Registration codes and managed (`rins-`) instances (docs/tat-api-reference.md, "Actions";
// "Managed (registered) instances and registration codes"): CreateRegisterCode,
// DescribeRegisterCodes, DisableRegisterCodes, DeleteRegisterCodes, DescribeRegisterInstances,
// ModifyRegisterInstance, DeleteRegisterInstance, and the agent side of registration:
// RegisterInstance (`tat_agent register`) and ValidateInstance (docs/agent-protocol-reference.md,
// "Registration and signed calls").
//
// A code is a credential: its value is shown once (CreateRegisterCode) and stored as a SHA-256
// hash. A machine registers with the code's id and value and an RSA public key; from then on it is
// the managed instance in the code's account and region, and signs every call with its key.

import { createHash, createPublicKey, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Selectable } from 'kysely';
import {
  TatError,
  apiTime,
  checkFilterValues,
  checkListRequest,
  checkPage,
  checkTags,
  isId,
  isRegisterCodeId,
  LIMITS,
  type RegisterCodeInfo,
  type RegisterInstanceInfo,
  type RequestOf,
  type Tag,
  tagFilterMatches,
} from '../../tat/index.js';
import type { AgentRequest } from '../../tat/agent-protocol.js';
import { isAddressOrBlock } from '../config.js';
import { creationTime, newId, type CallContext, type ServerContext } from '../context.js';
import { addressInRange } from '../gateway/addresses.js';
import { IdentityError } from '../gateway/signature.js';
import type { InstancesTable, RegisterCodesTable } from '../store/schema.js';
import { assertRegisterCodeQuota } from './quotas.js';

type CodeRow = Selectable<RegisterCodesTable>;
type InstanceRow = Selectable<InstancesTable>;

/** ExpiredTime of a code that never expires (EffectiveTime above 99999 hours). */
const NEVER = '9999-12-31T23:59:59Z';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

const expired = (row: Pick<CodeRow, 'expires_at'>, now: number) =>
  row.expires_at !== null && row.expires_at <= now;

function codeOut(r: CodeRow, now: number): RegisterCodeInfo {
  return {
    RegisterCodeId: r.id,
    Description: r.description,
    InstanceNamePrefix: r.instance_name_prefix,
    RegisterLimit: r.register_limit,
    ExpiredTime: r.expires_at === null ? NEVER : apiTime(r.expires_at),
    IpAddressRange: r.ip_address_range,
    // False once disabled, and (as in the official example) once expired.
    Enabled: r.enabled === 1 && !expired(r, now),
    RegisteredCount: r.registered_count,
    CreatedTime: apiTime(r.created_at),
    UpdatedTime: apiTime(r.updated_at),
  };
}

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

// ---------------------------------------------------------------- registration codes

export async function createRegisterCode(ctx: CallContext, req: RequestOf<'CreateRegisterCode'>) {
  const description = req.Description ?? '';
  if (description.length > LIMITS.registerCodeDescriptionChars)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `Description is longer than ${LIMITS.registerCodeDescriptionChars} characters.`,
    );
  const prefix = req.InstanceNamePrefix ?? '';
  if (prefix.length > LIMITS.instanceNamePrefixChars)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `InstanceNamePrefix is longer than ${LIMITS.instanceNamePrefixChars} characters.`,
    );
  const limit = req.RegisterLimit ?? LIMITS.registerLimitDefault;
  if (limit < LIMITS.registerLimitMin)
    throw new TatError(
      'InvalidParameterValue.TooSmall',
      `RegisterLimit must be at least ${LIMITS.registerLimitMin} (got ${limit}).`,
    );
  if (limit > LIMITS.registerLimitMax)
    throw new TatError(
      'InvalidParameterValue.TooLarge',
      `RegisterLimit must be at most ${LIMITS.registerLimitMax} (got ${limit}).`,
    );
  const hours = req.EffectiveTime ?? LIMITS.effectiveTimeDefaultHours;
  if (hours < LIMITS.effectiveTimeMinHours)
    throw new TatError(
      'InvalidParameterValue.TooSmall',
      `EffectiveTime must be at least ${LIMITS.effectiveTimeMinHours} hour (got ${hours}); above ${LIMITS.effectiveTimeNeverAboveHours} the code never expires.`,
    );
  const range = (req.IpAddressRange ?? '').trim();
  if (range !== '' && !isAddressOrBlock(range))
    throw new TatError(
      'InvalidParameter',
      `IpAddressRange "${range.slice(0, 64)}" must be an IPv4 address (10.0.0.1) or CIDR block (10.0.0.0/24), or empty.`,
    );
  const value = randomBytes(32).toString('hex');
  const now = creationTime(ctx.server.now());
  const row: CodeRow = {
    id: randomUUID(),
    account: ctx.account,
    region: ctx.region,
    value_sha256: sha256(value).toString('hex'),
    description,
    instance_name_prefix: prefix,
    register_limit: limit,
    registered_count: 0,
    ip_address_range: range,
    enabled: 1,
    expires_at:
      hours > LIMITS.effectiveTimeNeverAboveHours
        ? null
        : now + hours * ctx.server.config.timings.registerCodeHourMs,
    created_at: now,
    updated_at: now,
  };
  // Counting and inserting in one transaction: concurrent creates cannot overshoot the quota.
  await ctx.server.db.transaction().execute(async (trx) => {
    await assertRegisterCodeQuota(ctx, trx);
    await trx.insertInto('register_codes').values(row).execute();
  });
  ctx.log.info({ registerCodeId: row.id, limit, expiresAt: row.expires_at }, 'registration code created');
  return { RegisterCodeId: row.id, RegisterCodeValue: value };
}

function checkCodeIds(ids: string[]): void {
  const bad = ids.filter((id) => !isRegisterCodeId(id));
  if (bad.length > 0)
    throw new TatError(
      'InvalidParameterValue.InvalidRegisterCodeId',
      `Not registration code ids (UUID form): ${bad.map((id) => `"${id.slice(0, 64)}"`).join(', ')}.`,
    );
}

export async function describeRegisterCodes(ctx: CallContext, req: RequestOf<'DescribeRegisterCodes'>) {
  const ids = req.RegisterCodeIds;
  if (ids && ids.length > LIMITS.idsPerDescribe)
    throw new TatError(
      'InvalidParameterValue',
      `RegisterCodeIds holds ${ids.length} ids; at most ${LIMITS.idsPerDescribe} are allowed.`,
    );
  if (ids) checkCodeIds(ids);
  const page = checkPage(req.Limit, req.Offset);
  let q = ctx.server.db
    .selectFrom('register_codes')
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region);
  if (ids) {
    if (ids.length === 0) return { TotalCount: 0, RegisterCodeSet: [] };
    q = q.where('id', 'in', ids);
  }
  const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const now = ctx.server.now();
  return { TotalCount: Number(count), RegisterCodeSet: rows.map((r) => codeOut(r, now)) };
}

/** The codes named, all of them in the caller's account and region, or an error naming the rest. */
async function findCodes(ctx: CallContext, ids: string[], max: number): Promise<void> {
  if (ids.length === 0)
    throw new TatError('MissingParameter', 'RegisterCodeIds must name at least one registration code.');
  if (ids.length > max)
    throw new TatError(
      'InvalidParameterValue',
      `RegisterCodeIds names ${ids.length} codes; at most ${max} are allowed per call.`,
    );
  checkCodeIds(ids);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length > 0)
    throw new TatError(
      'InvalidParameterValue.ParameterKeyDuplicated',
      `RegisterCodeIds names ${[...new Set(twice)].join(', ')} more than once.`,
    );
  const found = await ctx.server.db
    .selectFrom('register_codes')
    .select('id')
    .where('id', 'in', ids)
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .execute();
  const known = new Set(found.map((r) => r.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0)
    throw new TatError(
      'ResourceNotFound.RegisterCodesNotFoundCode',
      `No such registration code in ${ctx.region}: ${missing.join(', ')}.`,
    );
}

export async function disableRegisterCodes(ctx: CallContext, req: RequestOf<'DisableRegisterCodes'>) {
  // All or nothing, like DeleteRegisterCodes: every code must exist before any is disabled.
  await findCodes(ctx, req.RegisterCodeIds, LIMITS.idsPerDescribe);
  await ctx.server.db
    .updateTable('register_codes')
    .set({ enabled: 0, updated_at: ctx.server.now() })
    .where('id', 'in', req.RegisterCodeIds)
    .where('enabled', '=', 1)
    .execute();
  return {};
}

export async function deleteRegisterCodes(ctx: CallContext, req: RequestOf<'DeleteRegisterCodes'>) {
  await findCodes(ctx, req.RegisterCodeIds, LIMITS.registerCodeIdsPerDelete);
  // Instances registered with a code stay registered; they keep naming it in RegisterCodeId.
  await ctx.server.db.deleteFrom('register_codes').where('id', 'in', req.RegisterCodeIds).execute();
  return {};
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

// ---------------------------------------------------------------- the agent side

export interface RegistrationSource {
  /** The agent's address (after trusted proxies): what IpAddressRange is checked against. */
  address: string;
  agentVersion: string;
}

/** The smallest RSA key a machine may register. */
const MIN_KEY_BITS = 2048;

function checkPublicKey(pem: string): void {
  let bits: number | undefined;
  try {
    const key = createPublicKey(pem);
    bits = key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  } catch {
    bits = undefined;
  }
  if (bits === undefined || bits < MIN_KEY_BITS)
    throw new IdentityError(
      `PublicKey must be an RSA public key of at least ${MIN_KEY_BITS} bits in PEM (-----BEGIN RSA PUBLIC KEY-----)`,
      'InvalidParameter',
    );
}

/**
 * `RegisterInstance`: the code (id and value) must exist, be enabled, unexpired, not used up,
 * and allow the agent's address; the machine then becomes a new managed instance of the code's
 * account and region. Registering again makes another instance; the earlier one stays (Offline)
 * until DeleteRegisterInstance.
 */
export async function registerInstance(
  server: ServerContext,
  p: AgentRequest<'RegisterInstance'>,
  source: RegistrationSource,
): Promise<{ InstanceId: string }> {
  checkPublicKey(p.PublicKey);
  // tatd extension: the machine's tags, given at registration (`tatflow agent register --tag`).
  const tags = p.Tags ?? [];
  try {
    checkTags(tags);
  } catch (e) {
    if (e instanceof TatError) throw new IdentityError(e.message, 'InvalidParameterValue');
    throw e;
  }
  const notFound = () =>
    new IdentityError(
      `there is no registration code ${p.ActiveCode.slice(0, 64)} with this value`,
      'ResourceNotFound.RegisterCodesNotFoundCode',
    );
  if (!isRegisterCodeId(p.ActiveCode)) throw notFound();
  const { db } = server;
  const code = await db
    .selectFrom('register_codes')
    .selectAll()
    .where('id', '=', p.ActiveCode)
    .executeTakeFirst();
  const given = sha256(p.ActiveValue);
  if (!code || !timingSafeEqual(given, Buffer.from(code.value_sha256, 'hex'))) throw notFound();
  const refusal = (row: CodeRow, now: number): IdentityError | undefined => {
    if (row.enabled !== 1)
      return new IdentityError(`registration code ${row.id} is disabled`, 'ResourceUnavailable');
    if (expired(row, now))
      return new IdentityError(
        `registration code ${row.id} expired at ${apiTime(row.expires_at!)}`,
        'ResourceUnavailable',
      );
    if (!addressInRange(source.address, row.ip_address_range))
      return new IdentityError(
        `this machine's address ${source.address} is not in the IpAddressRange ${row.ip_address_range} of registration code ${row.id}`,
        'IpNotInWhitelist',
      );
    if (row.registered_count >= row.register_limit)
      return new IdentityError(
        `registration code ${row.id} is used up: ${row.registered_count} of ${row.register_limit} machines registered`,
        'LimitExceeded',
      );
    return undefined;
  };
  const now = server.now();
  const early = refusal(code, now);
  if (early) throw early;

  const instanceId = newId('rins');
  const hostname = p.Hostname.trim();
  const name = (code.instance_name_prefix + hostname).slice(0, LIMITS.managedInstanceNameChars) || instanceId;
  await db.transaction().execute(async (trx) => {
    // One conditional update: concurrent registrations cannot exceed RegisterLimit.
    const taken = await trx
      .updateTable('register_codes')
      .set((eb) => ({ registered_count: eb('registered_count', '+', 1) }))
      .where('id', '=', code.id)
      .where('enabled', '=', 1)
      .where('registered_count', '<', (eb) => eb.ref('register_limit'))
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) {
      const again = await trx
        .selectFrom('register_codes')
        .selectAll()
        .where('id', '=', code.id)
        .executeTakeFirst();
      throw (again && refusal(again, now)) ?? notFound();
    }
    const at = creationTime(now);
    await trx
      .insertInto('instances')
      .values({
        id: instanceId,
        account: code.account,
        region: code.region,
        kind: 'MANAGED',
        // machine_id is unique; a managed row keeps its instance id there, the MachineId apart.
        machine_id: instanceId,
        agent_machine_id: p.MachineId,
        name,
        created_at: at,
        updated_at: at,
        agent_version: source.agentVersion,
        environment: p.SystemName === 'Windows' ? 'Windows' : 'Linux',
        last_seen_at: at,
        hostname,
        local_ip: p.LocalIp,
        register_code_id: code.id,
        public_key: p.PublicKey,
        tags: JSON.stringify(tags),
      })
      .execute();
  });
  server.log.info(
    {
      instanceId,
      machineId: p.MachineId,
      registerCodeId: code.id,
      account: code.account,
      region: code.region,
      peer: source.address,
    },
    'machine registered',
  );
  return { InstanceId: instanceId };
}

/**
 * `ValidateInstance` (the reference agent's check at start-up): succeeds for a registered agent
 * (its signature was verified already) and records what it says of itself.
 */
export async function validateInstance(
  server: ServerContext,
  instanceId: string,
  p: AgentRequest<'ValidateInstance'>,
): Promise<object> {
  if (!isId('managed', instanceId))
    throw new IdentityError(
      `${instanceId} is not a registered (rins-) instance; it works as an unregistered machine`,
      'UnauthorizedOperation',
    );
  const row = await server.db
    .selectFrom('instances')
    .select(['hostname', 'local_ip', 'environment'])
    .where('id', '=', instanceId)
    .executeTakeFirst();
  if (!row) return {};
  const next = {
    hostname: p.Hostname ?? row.hostname,
    local_ip: p.LocalIp ?? row.local_ip,
    environment: p.SysName === undefined ? row.environment : p.SysName === 'Windows' ? 'Windows' : 'Linux',
  };
  if (
    next.hostname !== row.hostname ||
    next.local_ip !== row.local_ip ||
    next.environment !== row.environment
  )
    await server.db
      .updateTable('instances')
      .set({ ...next, updated_at: server.now() })
      .where('id', '=', instanceId)
      .execute();
  return {};
}
