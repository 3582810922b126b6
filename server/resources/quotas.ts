// Quotas (docs/tat-api-reference.md, "Actions"): COMMAND (saved user commands) and REGISTER_CODE
// (registration codes), per account and region, totals from the configuration (`quotas.command`,
// default 500; `quotas.registerCode`, default 5000).

import {
  QUOTA_RESOURCE_NAMES,
  TatError,
  type GeneralResourceQuotaSet,
  type QuotaResourceName,
  type RequestOf,
} from '../../tat/index.js';
import type { CallContext } from '../context.js';
import type { Db } from '../store/db.js';

interface Scope {
  account: string;
  region: string;
}

/** How much of a quota the account uses in the region. `db` may be a transaction. */
export async function quotaUsed(db: Db, scope: Scope, name: QuotaResourceName): Promise<number> {
  const { count } =
    name === 'COMMAND'
      ? await db
          .selectFrom('commands')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('account', '=', scope.account)
          .where('region', '=', scope.region)
          .where('saved', '=', 1)
          // Public commands (created by TAT) are not the user's.
          .where('created_by', '=', 'USER')
          .executeTakeFirstOrThrow()
      : await db
          .selectFrom('register_codes')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('account', '=', scope.account)
          .where('region', '=', scope.region)
          .executeTakeFirstOrThrow();
  return Number(count);
}

export function quotaTotal(ctx: CallContext, name: QuotaResourceName): number {
  return name === 'COMMAND' ? ctx.server.config.quotas.command : ctx.server.config.quotas.registerCode;
}

/** Saved commands: ResourceUnavailable.UserHasNoQuotaCode once the quota is used up. */
export async function assertCommandQuota(ctx: CallContext): Promise<void> {
  const quota = quotaTotal(ctx, 'COMMAND');
  if ((await quotaUsed(ctx.server.db, ctx, 'COMMAND')) >= quota)
    throw new TatError(
      'ResourceUnavailable.UserHasNoQuotaCode',
      `The command quota of ${quota} saved commands in ${ctx.region} is used up; delete commands first.`,
    );
}

/**
 * Registration codes: CreateRegisterCode documents no quota code of its own, so the common
 * `LimitExceeded` ("quota exceeded") answers.
 */
export async function assertRegisterCodeQuota(ctx: CallContext, db: Db): Promise<void> {
  const quota = quotaTotal(ctx, 'REGISTER_CODE');
  if ((await quotaUsed(db, ctx, 'REGISTER_CODE')) >= quota)
    throw new TatError(
      'LimitExceeded',
      `The quota of ${quota} registration codes in ${ctx.region} is used up; delete codes first (DeleteRegisterCodes).`,
    );
}

export async function describeQuotas(ctx: CallContext, req: RequestOf<'DescribeQuotas'>) {
  if (req.ResourceNames.length === 0)
    throw new TatError(
      'MissingParameter',
      'ResourceNames must name at least one quota: COMMAND or REGISTER_CODE.',
    );
  const unknown = req.ResourceNames.filter((n) => !(QUOTA_RESOURCE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new TatError(
      'ResourceUnavailable.InvalidResourceQuotaResourceCode',
      `Unknown quota ${unknown.map((n) => `"${n}"`).join(', ')}; the quotas are ${QUOTA_RESOURCE_NAMES.join(' and ')}.`,
    );
  const names = [...new Set(req.ResourceNames)] as QuotaResourceName[];
  const GeneralResourceQuotaSet: GeneralResourceQuotaSet[] = [];
  for (const name of names)
    GeneralResourceQuotaSet.push({
      ResourceName: name,
      ResourceQuotaUsed: await quotaUsed(ctx.server.db, ctx, name),
      ResourceQuotaTotal: quotaTotal(ctx, name),
    });
  return { GeneralResourceQuotaSet };
}
