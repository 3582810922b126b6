// Classic 5-field crontabs (minute hour day-of-month month day-of-week), read in a time zone:
// checked with cron-parser, converted into Temporal calendar specs, and walked for fire times.
//
// Why not hand the string to Temporal: Temporal's cron strings mean something else. A 6th field
// is the year there (cron-parser reads a 6-field expression as seconds first), and with both
// day-of-month and day-of-week restricted Temporal fires when both match, classic cron when either
// does (`0 0 1 * 1`: the 1st of the month and every Monday). So the expression is parsed here and
// turned into calendars with the classic meaning: one calendar when either day field is `*`, two
// (one per day field) when both are restricted. Fire times (next run, missed runs) come from
// cron-parser over the same parse, so what tatd computes and what Temporal fires agree.
//
// Pure (cron-parser is plain JavaScript): TAT invokers use it with Asia/Shanghai, runbook schedules
// with any IANA zone. Not re-exported from tat/index.ts, so workflow bundles do not carry it.

import { CronExpressionParser, type CronExpression } from 'cron-parser';

/** The five fields, in order, as messages name them. */
export const CRON_FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
export type CronFieldName = (typeof CRON_FIELDS)[number];

/** A crontab that cannot be used; `field` names the field at fault, when one is. */
export class CronError extends Error {
  readonly field: CronFieldName | undefined;
  constructor(message: string, field?: CronFieldName) {
    super(message);
    this.name = 'CronError';
    this.field = field;
  }
}

export interface Crontab {
  /** The expression as given, whitespace normalised to single spaces. */
  expression: string;
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  /** 0 = Sunday … 6 = Saturday (a 7 in the expression is Sunday too). */
  dayOfWeek: number[];
  /** False when the field is `*`: then only the other day field restricts the day. */
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FORM = 'a crontab has 5 fields: minute hour day-of-month month day-of-week, like "0 3 * * 1-5"';

function checkCharacters(field: CronFieldName, text: string): void {
  const bad = (why: string) => new CronError(`the ${field} field "${text}" ${why}`, field);
  const odd = /[?#]/.exec(text);
  if (odd) throw bad(`uses "${odd[0]}", which classic crontab does not have`);
  if (/[^A-Za-z0-9*,/-]/.test(text))
    throw bad('may only hold numbers, names, "*", ranges (a-b), steps (/n) and lists (a,b)');
  const names = field === 'month' ? MONTH_NAMES : field === 'day-of-week' ? DAY_NAMES : [];
  for (const word of text.match(/[A-Za-z]+/g) ?? [])
    if (!names.includes(word.toUpperCase()))
      throw bad(
        names.length === 0
          ? `uses "${word}"; this field takes numbers only`
          : `uses "${word}", which is not one of ${names.join(' ')}`,
      );
}

function parse(expression: string, tz?: string, currentDate?: number): CronExpression {
  return CronExpressionParser.parse(expression, {
    ...(tz ? { tz } : {}),
    ...(currentDate !== undefined ? { currentDate: new Date(currentDate) } : {}),
  });
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Checks a 5-field crontab and returns its expanded fields; throws {@link CronError} naming the
 * field at fault. Macros (`@daily`), a seconds or year field and the `? L W # H` extensions are
 * refused: they mean different things to different tools.
 */
export function parseCrontab(input: string): Crontab {
  const fields = input.trim().split(/\s+/).filter(Boolean);
  if (fields.length === 0) throw new CronError(`the expression is empty; ${FORM}`);
  if (fields[0]!.startsWith('@')) throw new CronError(`macros like "${fields[0]}" are not accepted; ${FORM}`);
  if (fields.length !== 5)
    throw new CronError(
      fields.length === 6
        ? `it has 6 fields; ${FORM} (a 6th field would be seconds to some tools and the year to others)`
        : `it has ${fields.length} field${fields.length === 1 ? '' : 's'}; ${FORM}`,
    );
  fields.forEach((text, i) => checkCharacters(CRON_FIELDS[i]!, text));
  // cron-parser's own message names a value, not the field: try each field alone to find it.
  for (let i = 0; i < 5; i++) {
    const alone = ['*', '*', '*', '*', '*'];
    alone[i] = fields[i]!;
    try {
      parse(alone.join(' '));
    } catch (e) {
      throw new CronError(
        `the ${CRON_FIELDS[i]} field "${fields[i]}" is not valid: ${reason(e)}`,
        CRON_FIELDS[i],
      );
    }
  }
  const expression = fields.join(' ');
  let parsed: CronExpression;
  try {
    parsed = parse(expression);
  } catch (e) {
    throw new CronError(`"${expression}" is not valid: ${reason(e)}`);
  }
  const f = parsed.fields;
  const numbers = (values: readonly (number | string)[]) =>
    values.filter((v): v is number => typeof v === 'number');
  return {
    expression,
    minute: numbers(f.minute.values),
    hour: numbers(f.hour.values),
    dayOfMonth: numbers(f.dayOfMonth.values),
    month: numbers(f.month.values),
    dayOfWeek: [...new Set(numbers(f.dayOfWeek.values).map((d) => d % 7))].sort((a, b) => a - b),
    dayOfMonthRestricted: !f.dayOfMonth.isWildcard,
    dayOfWeekRestricted: !f.dayOfWeek.isWildcard,
  };
}

// ---- Temporal calendar specs -------------------------------------------------------------------

export const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;
export type MonthName = (typeof MONTHS)[number];
export const DAYS_OF_WEEK = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
] as const;
export type DayName = (typeof DAYS_OF_WEEK)[number];

export interface CalendarRange<T> {
  start: T;
  end: T;
  step: number;
}
type Field<T> = CalendarRange<T>[] | '*';

/** The shape of `@temporalio/client`'s CalendarSpec (structurally assignable to it). */
export interface Calendar {
  second: Field<number>;
  minute: Field<number>;
  hour: Field<number>;
  dayOfMonth: Field<number>;
  month: Field<MonthName>;
  dayOfWeek: Field<DayName>;
  year?: Field<number>;
  comment: string;
}

/**
 * Values as few ranges as possible: '*' when they cover [min, max], else runs of equal steps
 * (every 15th minute → 0-45 step 15, `1-5` → 1-5 step 1, `1,3,7` → 1, 3 and 7).
 */
export function toRanges(values: number[], min: number, max: number): CalendarRange<number>[] | '*' {
  const v = [...new Set(values)].sort((a, b) => a - b);
  if (v.length === max - min + 1) return '*';
  const out: CalendarRange<number>[] = [];
  let i = 0;
  while (i < v.length) {
    const start = v[i]!;
    if (i + 1 >= v.length) {
      out.push({ start, end: start, step: 1 });
      break;
    }
    const step = v[i + 1]! - start;
    let j = i + 1;
    while (j + 1 < v.length && v[j + 1]! - v[j]! === step) j++;
    // Two values a step apart form a range only when adjacent; otherwise the second value may
    // start a longer run of its own.
    if (j - i >= 2 || step === 1) {
      out.push({ start, end: v[j]!, step });
      i = j + 1;
    } else {
      out.push({ start, end: start, step: 1 });
      i++;
    }
  }
  return out;
}

function named<T>(ranges: CalendarRange<number>[] | '*', names: readonly T[], offset: number): Field<T> {
  if (ranges === '*') return '*';
  return ranges.map((r) => ({ start: names[r.start - offset]!, end: names[r.end - offset]!, step: r.step }));
}

/**
 * Temporal calendar specs that fire exactly when the crontab does (classic meaning). Put them in a
 * ScheduleSpec with `timezone: zone`; `zone` only goes into the comments here.
 */
export function crontabCalendars(c: Crontab, zone: string): Calendar[] {
  const base = {
    second: [{ start: 0, end: 0, step: 1 }],
    minute: toRanges(c.minute, 0, 59),
    hour: toRanges(c.hour, 0, 23),
    month: named(toRanges(c.month, 1, 12), MONTHS, 1),
  };
  const dom = toRanges(c.dayOfMonth, 1, 31);
  const dow = named(toRanges(c.dayOfWeek, 0, 6), DAYS_OF_WEEK, 0);
  const comment = `crontab "${c.expression}" in ${zone}`;
  if (c.dayOfMonthRestricted && c.dayOfWeekRestricted)
    return [
      { ...base, dayOfMonth: dom, dayOfWeek: '*', comment: `${comment}: its day-of-month` },
      { ...base, dayOfMonth: '*', dayOfWeek: dow, comment: `${comment}: or its day-of-week` },
    ];
  return [
    {
      ...base,
      dayOfMonth: c.dayOfMonthRestricted ? dom : '*',
      dayOfWeek: c.dayOfWeekRestricted ? dow : '*',
      comment,
    },
  ];
}

/** One calendar matching exactly the UTC second `ms` falls in (use with `timezone: 'UTC'`). */
export function instantCalendar(ms: number, comment: string): Calendar {
  const d = new Date(ms);
  const one = (n: number) => [{ start: n, end: n, step: 1 }];
  return {
    second: one(d.getUTCSeconds()),
    minute: one(d.getUTCMinutes()),
    hour: one(d.getUTCHours()),
    dayOfMonth: one(d.getUTCDate()),
    month: [{ start: MONTHS[d.getUTCMonth()]!, end: MONTHS[d.getUTCMonth()]!, step: 1 }],
    dayOfWeek: '*',
    year: one(d.getUTCFullYear()),
    comment,
  };
}

// ---- Fire times --------------------------------------------------------------------------------

/** The first fire time strictly after `afterMs` (epoch ms). */
export function nextFireTime(c: Crontab, zone: string, afterMs: number): number {
  return parse(c.expression, zone, afterMs).next().getTime();
}

/** Whether the crontab fires at `ms` exactly (a whole minute). */
export function isFireTime(c: Crontab, zone: string, ms: number): boolean {
  return ms % 60_000 === 0 && nextFireTime(c, zone, ms - 1) === ms;
}

/**
 * The fire times in (`fromMs`, `toMs`], oldest first; when there are more than `max`, only the
 * latest `max` of them (with `more` set).
 */
export function fireTimesBetween(
  c: Crontab,
  zone: string,
  fromMs: number,
  toMs: number,
  max: number,
): { times: number[]; more: boolean } {
  const times: number[] = [];
  if (toMs <= fromMs) return { times, more: false };
  const walk = parse(c.expression, zone, toMs + 1);
  for (;;) {
    const t = walk.prev().getTime();
    if (t <= fromMs) return { times: times.reverse(), more: false };
    if (times.length === max) return { times: times.reverse(), more: true };
    times.push(t);
  }
}
