// The Temporal Schedule an invoker row should have, or none. Never a cron string: RECURRENCE
// becomes calendars with the classic crontab meaning in Asia/Shanghai (tat/cron.ts), ONCE one
// calendar pinned to its second, year included.

import { ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { crontabCalendars, instantCalendar } from '../../tat/cron.js';
import { apiTime } from '../../tat/index.js';
import { TAT_CRON_ZONE } from '../../tat/schedule.js';
import { scheduleId, TASK_QUEUE, WORKFLOW_TYPE, type FireInput } from './names.js';
import { invokerSchedule, type InvokerRow } from './row.js';

/** A fire's workflow that no worker picks up for this long is given up (missed.ts records it). */
const FIRE_WORKFLOW_TIMEOUT = '10 minutes';

export function desiredSchedule(
  row: InvokerRow,
  catchUpMs: number,
  now: number,
): ScheduleOptions | undefined {
  const s = invokerSchedule(row);
  // A ONCE invoker past its time and its catch-up window will never fire again.
  if (s.policy === 'ONCE' && s.invokeAt < now - catchUpMs) return undefined;
  const id = scheduleId(row.account, row.region, row.id);
  const input: FireInput = {
    account: row.account,
    region: row.region,
    invokerId: row.id,
    revision: row.revision,
  };
  return {
    scheduleId: id,
    spec:
      s.policy === 'ONCE'
        ? {
            calendars: [instantCalendar(s.invokeAt, `once at ${apiTime(s.invokeAt)}`)],
            timezone: 'UTC',
          }
        : { calendars: crontabCalendars(s.crontab, TAT_CRON_ZONE), timezone: TAT_CRON_ZONE },
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      taskQueue: TASK_QUEUE,
      workflowId: id,
      args: [input],
      workflowExecutionTimeout: FIRE_WORKFLOW_TIMEOUT,
    },
    policies: {
      // Each fire is its own short workflow; one waiting for tatd must not hold up the next.
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
      catchupWindow: catchUpMs,
      pauseOnFailure: false,
    },
    state: {
      paused: row.enabled !== 1,
      note:
        row.enabled === 1
          ? `tatd invoker ${row.id} "${row.name}" (revision ${row.revision})`
          : `disabled in tatd (DisableInvoker), revision ${row.revision}`,
    },
  };
}

/** The revision a Schedule was made from (its action's argument), if it is one of ours. */
export function revisionOf(args: readonly unknown[] | undefined): number | undefined {
  const input = args?.[0] as Partial<FireInput> | undefined;
  return typeof input?.revision === 'number' ? input.revision : undefined;
}
