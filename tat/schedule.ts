// TAT's ScheduleSettings (CreateInvoker, ModifyInvoker): Policy ONCE at InvokeTime, or RECURRENCE
// with a 5-field crontab read in Beijing time (UTC+8), as TAT does. Pure rules that throw
// TatError with the codes the invoker actions document; the crontab itself is ./cron.ts.

import { CronError, nextFireTime, parseCrontab, type Crontab } from './cron.js';
import { TatError } from './errors.js';

/** TAT evaluates every Recurrence in Beijing time. */
export const TAT_CRON_ZONE = 'Asia/Shanghai';

export const SCHEDULE_POLICIES = ['ONCE', 'RECURRENCE'] as const;
export type SchedulePolicy = (typeof SCHEDULE_POLICIES)[number];

export type InvokerSchedule =
  | { policy: 'ONCE'; /** epoch ms, a whole second */ invokeAt: number }
  | { policy: 'RECURRENCE'; crontab: Crontab };

export interface ScheduleSettingsInput {
  Policy: string;
  Recurrence?: string | undefined;
  InvokeTime?: string | undefined;
}

// `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm|±hhmm)`: an instant, so an offset is required.
const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * An ISO 8601 time with an offset as epoch ms, rounded up to a whole second (schedules fire on
 * seconds); `InvalidParameterValue.InvalidTimeFormat` otherwise.
 */
export function parseInvokeTime(text: string): number {
  const bad = () =>
    new TatError(
      'InvalidParameterValue.InvalidTimeFormat',
      `ScheduleSettings.InvokeTime "${text.slice(0, 64)}" is not an ISO 8601 time with an offset, like 2021-09-01T00:00:00+08:00 or 2021-08-31T16:00:00Z.`,
    );
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(local);
  // Date.UTC rolls 2021-02-30 over to March: a field out of range shows as a different date.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  )
    throw bad();
  let offsetMs = 0;
  const zone = m[8]!;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(-2));
    if (oh > 23 || om > 59) throw bad();
    offsetMs = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const fraction = m[7] !== undefined && Number(m[7]) > 0 ? 1000 : 0;
  return local - offsetMs + fraction;
}

/** A Recurrence as a crontab; `InvalidParameterValue.InvalidCronExpression` naming the field. */
export function parseRecurrence(text: string): Crontab {
  try {
    return parseCrontab(text);
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    throw new TatError(
      'InvalidParameterValue.InvalidCronExpression',
      `ScheduleSettings.Recurrence "${text.slice(0, 100)}": ${e.message}. It is read in Beijing time (UTC+8).`,
    );
  }
}

/**
 * Checks ScheduleSettings at `now`. The field the policy does not use is ignored (DescribeInvokers
 * answers all three, so a client may send back what it read).
 */
export function checkScheduleSettings(s: ScheduleSettingsInput, now: number): InvokerSchedule {
  if (s.Policy === 'ONCE') {
    if (s.InvokeTime === undefined || s.InvokeTime === '')
      throw new TatError('MissingParameter', 'ScheduleSettings.InvokeTime is required when Policy is ONCE.');
    const invokeAt = parseInvokeTime(s.InvokeTime);
    if (invokeAt <= now)
      throw new TatError(
        'InvalidParameterValue.InvokeTimeExpired',
        `ScheduleSettings.InvokeTime ${s.InvokeTime} is in the past; give a later time.`,
      );
    return { policy: 'ONCE', invokeAt };
  }
  if (s.Policy === 'RECURRENCE') {
    if (s.Recurrence === undefined || s.Recurrence.trim() === '')
      throw new TatError(
        'MissingParameter',
        'ScheduleSettings.Recurrence is required when Policy is RECURRENCE (a crontab like "0 3 * * *").',
      );
    return { policy: 'RECURRENCE', crontab: parseRecurrence(s.Recurrence) };
  }
  throw new TatError(
    'InvalidParameterValue',
    `ScheduleSettings.Policy "${s.Policy}" is not one of ${SCHEDULE_POLICIES.join(', ')}.`,
  );
}

/** The next time the schedule fires after `now`, or undefined when it never will again. */
export function nextInvokeTime(s: InvokerSchedule, now: number): number | undefined {
  if (s.policy === 'ONCE') return s.invokeAt > now ? s.invokeAt : undefined;
  return nextFireTime(s.crontab, TAT_CRON_ZONE, now);
}
