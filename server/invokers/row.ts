// An invoker row, looked up in its account and region, and its schedule: the ScheduleSettings it
// was created with, read back, and whether a time is one of its fires. Shared by the API, the fire
// activity and the reconciler.

import type { Kysely, Selectable } from 'kysely';
import { isFireTime, parseCrontab, type Crontab } from '../../tat/cron.js';
import { TAT_CRON_ZONE, type InvokerSchedule } from '../../tat/schedule.js';
import type { Database, InvokersTable } from '../store/schema.js';

export type InvokerRow = Selectable<InvokersTable>;
type ScheduleColumns = Pick<InvokerRow, 'policy' | 'recurrence' | 'invoke_at'>;

// Stored crontabs were checked when written; parsing them again on every read is wasted work.
const parsed = new Map<string, Crontab>();
function crontab(expression: string): Crontab {
  let c = parsed.get(expression);
  if (!c) {
    c = parseCrontab(expression);
    if (parsed.size >= 1000) parsed.delete(parsed.keys().next().value!);
    parsed.set(expression, c);
  }
  return c;
}

export function invokerSchedule(r: ScheduleColumns): InvokerSchedule {
  return r.policy === 'ONCE'
    ? { policy: 'ONCE', invokeAt: r.invoke_at! }
    : { policy: 'RECURRENCE', crontab: crontab(r.recurrence) };
}

/** Whether the invoker's current schedule fires at `t` (epoch ms). */
export function firesAt(r: ScheduleColumns, t: number): boolean {
  const s = invokerSchedule(r);
  return s.policy === 'ONCE' ? s.invokeAt === t : isFireTime(s.crontab, TAT_CRON_ZONE, t);
}

/** Invoker `id` of an account and region, or undefined. */
export function invokerRow(
  db: Kysely<Database>,
  scope: { account: string; region: string },
  id: string,
): Promise<InvokerRow | undefined> {
  return db
    .selectFrom('invokers')
    .selectAll()
    .where('id', '=', id)
    .where('account', '=', scope.account)
    .where('region', '=', scope.region)
    .executeTakeFirst();
}
