// Fires that never reached tatd: while Temporal was down past the catch-up window, Temporal never
// starts them; while tatd was down long enough, their workflows time out. The Schedule's
// catch-up window (and the activity's own lateness check) settle every fire up to that window
// late; whatever is older and still has no record is written here as skipped, from the invoker's
// own schedule (cron-parser over the gap). It needs only the database, so it runs while Temporal
// is down too.
//
// `checked_until` is each invoker's watermark: every fire time up to it has a record or never will
// get one. Only the latest MAX_PER_PASS missed fires of a long gap are written (a log line counts
// the rest), so a minutely invoker after a week away does not write ten thousand records.

import { fireTimesBetween } from '../../tat/cron.js';
import { TAT_CRON_ZONE } from '../../tat/schedule.js';
import type { ServerContext } from '../context.js';
import { insertRecord, skippedReason, trimRecords } from './fire.js';
import { invokerSchedule } from './row.js';

export const MAX_PER_PASS = 100;
/** Stay this far behind the catch-up window, clear of a fire the activity is handling right now. */
const MARGIN_MS = 5_000;

/** One pass over the enabled invokers; returns how many skipped fires it recorded. */
export async function recordMissedFires(server: ServerContext): Promise<number> {
  const catchUp = server.config.timings.invokerCatchUpMs;
  const to = server.now() - catchUp - MARGIN_MS;
  const rows = await server.db
    .selectFrom('invokers')
    .selectAll()
    .where('enabled', '=', 1)
    .where('checked_until', '<', to)
    .execute();
  let total = 0;
  for (const row of rows) {
    const from = Math.max(row.checked_until, row.schedule_since);
    const s = invokerSchedule(row);
    const { times, more } =
      s.policy === 'ONCE'
        ? { times: s.invokeAt > from && s.invokeAt <= to ? [s.invokeAt] : [], more: false }
        : fireTimesBetween(s.crontab, TAT_CRON_ZONE, from, to, MAX_PER_PASS);
    let written = 0;
    for (const t of times)
      if (
        await insertRecord(server.db, {
          invoker_id: row.id,
          account: row.account,
          region: row.region,
          invoke_at: t,
          invocation_id: '',
          result: 'FAILED',
          reason: skippedReason(server.now() - t, catchUp),
          created_at: server.now(),
        })
      )
        written++;
    // Only if the invoker was not changed meanwhile (a change moves the watermark itself).
    await server.db
      .updateTable('invokers')
      .set({ checked_until: to })
      .where('id', '=', row.id)
      .where('revision', '=', row.revision)
      .execute();
    if (written > 0) {
      server.log.warn(
        { invokerId: row.id, skipped: written, moreNotRecorded: more },
        'invoker fires missed while tatd or Temporal was unavailable; recorded as skipped',
      );
      await trimRecords(server, row.id);
    }
    total += written;
  }
  return total;
}
