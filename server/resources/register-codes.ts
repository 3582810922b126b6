// Registration codes (docs/tat-api-reference.md, "Managed (registered) instances and
// registration codes"): CreateRegisterCode, DescribeRegisterCodes, DisableRegisterCodes,
// DeleteRegisterCodes.
//
// A code is a credential: its value is shown once (CreateRegisterCode) and stored as a SHA-256
// hash. The machine side (RegisterInstance) is in registration.ts, the instances a code made in
// managed-instances.ts.

import { newestFirst } from './paging.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import {
  TatError,
  apiTime,
  checkPage,
  isRegisterCodeId,
  LIMITS,
  type RegisterCodeInfo,
  type RequestOf,
} from '../../tat/index.js';
import type {} from '../../tat/agent-protocol.js';
import { isAddressOrBlock } from '../config.js';
import { creationTime, type CallContext } from '../context.js';
import type { RegisterCodesTable } from '../store/schema.js';
import { assertRegisterCodeQuota } from './quotas.js';

export type CodeRow = Selectable<RegisterCodesTable>;

/** ExpiredTime of a code that never expires (EffectiveTime above 99999 hours). */
export const NEVER = '9999-12-31T23:59:59Z';

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export const expired = (row: Pick<CodeRow, 'expires_at'>, now: number) =>
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

export function checkCodeIds(ids: string[]): void {
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
  const { total, rows } = await newestFirst(q, page);
  const now = ctx.server.now();
  return { TotalCount: total, RegisterCodeSet: rows.map((r) => codeOut(r, now)) };
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
