// When a runbook schedule fires (docs/schedules.md): a classic 5-field crontab (`--cron`, turned
// into calendars with its classic meaning by tat/cron.ts, never handed to Temporal as a cron string)
// or calendars (`--calendar`, JSON), read in an IANA zone, with optional start and end times and
// jitter; then tatflow's DST rule on top (tat/dst.ts): a fixed-time schedule gets one extra fire
// after each DST gap it would fire in, from a year before it starts (or now) to ten years after
// (`update` computes them again); the folds it fires in are where its runs may repeat a wall time
// (client/schedules/install.ts asks Temporal which fires do).

import type { ScheduleSpec } from '@temporalio/client';
import {
  CronError,
  crontabCalendars,
  DAYS_OF_WEEK,
  MONTHS,
  parseCrontab,
  type Calendar,
} from '../../tat/cron.js';
import type { CalendarRange } from '../../tat/cron.js';
import {
  foldsHit,
  gapCalendars,
  instantOf,
  isFixedTimeCalendars,
  isFixedTimeCrontab,
  type Fold,
} from '../../tat/dst.js';
import type { ScheduleRef } from '../../workflows/engine/types.js';

export type When = { cron: string } | { calendars: Calendar[] };

/** A schedule's times, as tatflow keeps them (the Schedule's calendars are compiled from this). */
export interface Timing {
  when: When;
  timezone: string;
  /** ISO 8601 instants. */
  start?: string;
  end?: string;
  jitterSeconds?: number;
}

/** DST gap fires are computed this far ahead of the schedule's start (or now). */
export const DST_HORIZON_YEARS = 10;
const YEAR_MS = 365.25 * 24 * 3600 * 1000;

// ---- time zones and times ----------------------------------------------------------------------

/** An IANA zone name, as Temporal will read it (canonical spelling); an Error naming the flag otherwise. */
export function checkTimezone(flag: string, zone: string): string {
  let canonical: string | undefined;
  // Offsets (+08:00) and abbreviations (CST) are not zones Temporal knows.
  const plausible = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone) && !/^[A-Z]{3,4}$/.test(zone);
  if (plausible || zone === 'UTC')
    try {
      canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      canonical = undefined;
    }
  if (canonical) return canonical;
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');
  const near = Intl.supportedValuesOf('timeZone').filter(
    (z) => editDistance(squash(z), squash(zone)) <= 2 || squash(z.split('/').at(-1)!) === squash(zone),
  );
  throw new Error(
    `--${flag}: "${zone}" is not an IANA time zone (like UTC, Europe/Berlin, America/New_York, Asia/Shanghai)` +
      (near.length ? `; did you mean ${near.slice(0, 3).join(' or ')}?` : ''),
  );
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const WALL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * A time given as an ISO 8601 instant (with Z or an offset), or as a date or date and time on the
 * clocks of `zone` (`2027-01-04`, `2027-01-04T02:00`). Returns the ISO instant.
 */
export function parseTime(flag: string, text: string, zone: string): string {
  if (ISO_INSTANT.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  const m = WALL.exec(text);
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as number[];
    const check = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
    if (check.getUTCMonth() === mo! - 1 && check.getUTCDate() === d! && h! < 24 && mi! < 60 && s! < 60)
      return new Date(
        instantOf(zone, { year: y!, month: mo!, day: d!, hour: h!, minute: mi!, second: s! }),
      ).toISOString();
  }
  throw new Error(
    `--${flag}: "${text}" is not a time: give a date or date and time in the schedule's zone (2027-01-04, 2027-01-04T02:00) or an instant (2027-01-04T02:00:00Z)`,
  );
}

// ---- calendars in JSON -------------------------------------------------------------------------

type FieldName = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek' | 'year';
const BOUNDS: Record<FieldName, [number, number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
  month: [1, 12],
  dayOfWeek: [0, 6],
  year: [1970, 9999],
};
const FIELDS = Object.keys(BOUNDS) as FieldName[];

function nameValue(field: FieldName, word: string): number | undefined {
  const w = word.toUpperCase();
  const names: readonly string[] = field === 'month' ? MONTHS : field === 'dayOfWeek' ? DAYS_OF_WEEK : [];
  const i = names.findIndex((n) => n === w || n.slice(0, 3) === w);
  return i < 0 ? undefined : field === 'month' ? i + 1 : i;
}

/** One value of a field: a number or (months, days of the week) a name; Sunday may be 7. */
function valueOf(field: FieldName, v: unknown, bad: (why: string) => Error): number {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d+$/.test(v.trim())) n = Number(v);
  else if (typeof v === 'string') n = nameValue(field, v.trim());
  if (n === undefined || !Number.isInteger(n))
    throw bad(
      `${JSON.stringify(v)} is not ${field === 'month' ? 'a month (1-12, JAN, january)' : field === 'dayOfWeek' ? 'a day of the week (0-6, SUN, monday)' : 'a whole number'}`,
    );
  if (field === 'dayOfWeek' && n === 7) n = 0;
  const [lo, hi] = BOUNDS[field];
  if (n < lo || n > hi) throw bad(`${n} is out of range ${lo}-${hi}`);
  return n;
}

function rangesOf(
  field: FieldName,
  raw: unknown,
  bad: (why: string) => Error,
): CalendarRange<number>[] | '*' {
  const [lo, hi] = BOUNDS[field];
  const items = Array.isArray(raw)
    ? raw
    : typeof raw === 'string'
      ? raw.split(',').map((s) => s.trim())
      : [raw];
  if (items.length === 0) throw bad('an empty list');
  const out: CalendarRange<number>[] = [];
  for (const item of items) {
    if (item === '*') {
      if (items.length > 1) throw bad('"*" cannot be part of a list');
      return '*';
    }
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const o = item as { start?: unknown; end?: unknown; step?: unknown };
      const start = valueOf(field, o.start, bad);
      const end = o.end === undefined ? start : valueOf(field, o.end, bad);
      const step = o.step === undefined ? 1 : Number(o.step);
      if (!Number.isInteger(step) || step < 1)
        throw bad(`step ${JSON.stringify(o.step)} is not a whole number ≥ 1`);
      if (end < start) throw bad(`range ${start}-${end} ends before it starts`);
      out.push({ start, end, step });
      continue;
    }
    if (typeof item === 'string') {
      const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item);
      if (!m) throw bad(`"${item}" is not a value, a range (1-5) or a step (*/15, 0-30/10)`);
      const step = m[3] === undefined ? 1 : Number(m[3]);
      if (step < 1) throw bad(`step /${m[3]} must be ≥ 1`);
      const start = m[1] === '*' ? lo : valueOf(field, m[1], bad);
      const end = m[1] === '*' ? hi : m[2] !== undefined ? valueOf(field, m[2], bad) : m[3] ? hi : start;
      if (m[1] === '*' && m[2] !== undefined) throw bad(`"${item}": "*" takes a step, not a range`);
      if (end < start) throw bad(`range ${item} ends before it starts`);
      if (m[1] === '*' && step === 1) return '*';
      out.push({ start, end, step });
      continue;
    }
    out.push(...[valueOf(field, item, bad)].map((v) => ({ start: v, end: v, step: 1 })));
  }
  return out;
}

const named = <T>(r: CalendarRange<number>[] | '*', names: readonly T[], offset: number) =>
  r === '*'
    ? '*'
    : r.map((x) => ({ start: names[x.start - offset]!, end: names[x.end - offset]!, step: x.step }));

/**
 * `--calendar`: a JSON object, or an array of them, with any of second, minute, hour, dayOfMonth,
 * month, dayOfWeek, year and comment. A field is a number, a name (months and days), `"*"`, a
 * string in crontab style (`"1-5"`, `"MON-FRI"`, `"*\/15"`, `"0,30"`), `{start, end, step}`, or a
 * list of these. Left out: second, minute and hour are 0, the others any (Temporal's defaults).
 */
export function parseCalendars(text: string): Calendar[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `--calendar: not JSON (${(e as Error).message}); give e.g. '{"dayOfWeek":"SAT","hour":2,"minute":30}'`,
    );
  }
  const list = Array.isArray(json) ? json : [json];
  if (list.length === 0) throw new Error('--calendar: an empty list');
  return list.map((c, i) => {
    const where = list.length > 1 ? `--calendar [${i}]` : '--calendar';
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new Error(`${where}: expected an object like {"hour":2,"minute":30}`);
    const o = c as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !FIELDS.includes(k as FieldName) && k !== 'comment');
    if (unknown.length)
      throw new Error(
        `${where}: unknown field ${unknown.join(', ')} (fields: ${FIELDS.join(', ')}, comment)`,
      );
    const field = (f: FieldName, dflt: unknown) =>
      rangesOf(f, o[f] ?? dflt, (why) => new Error(`${where}: ${f}: ${why}`));
    const cal: Calendar = {
      second: field('second', 0),
      minute: field('minute', 0),
      hour: field('hour', 0),
      dayOfMonth: field('dayOfMonth', '*'),
      month: named(field('month', '*'), MONTHS, 1),
      dayOfWeek: named(field('dayOfWeek', '*'), DAYS_OF_WEEK, 0),
      comment: typeof o.comment === 'string' ? o.comment : '',
    };
    if (o.year !== undefined) cal.year = field('year', '*');
    return cal;
  });
}

/** `--cron`, checked; an Error naming the field at fault. */
export function checkCron(expression: string): string {
  try {
    return parseCrontab(expression).expression;
  } catch (e) {
    if (e instanceof CronError) throw new Error(`--cron: ${e.message}`);
    throw e;
  }
}

// ---- the Schedule's spec -----------------------------------------------------------------------

/** The calendars the schedule means, before the DST rule. */
export function baseCalendars(when: When, zone: string): Calendar[] {
  return 'cron' in when ? crontabCalendars(parseCrontab(when.cron), zone) : when.calendars;
}

/** Whether tatflow's DST rule applies: a fixed-time schedule (neither minute nor hour a wildcard). */
export function isFixedTime(when: When, zone: string): boolean {
  return 'cron' in when
    ? isFixedTimeCrontab(parseCrontab(when.cron))
    : isFixedTimeCalendars(baseCalendars(when, zone));
}

export interface Compiled {
  spec: ScheduleSpec;
  /** What each run is told about its schedule (without its repeated fires: install.ts adds them). */
  ref: ScheduleRef;
  /** Whether tatflow's DST rule applies (a fixed-time schedule). */
  fixed: boolean;
  /** The extra fires after DST gaps, and the end of the horizon they were computed for. */
  gapFires: Calendar[];
  gapFiresUntil?: string;
  /** The folds in the horizon it fires in (fixed-time schedules only). */
  folds: Fold[];
}

/** The Temporal spec of a schedule's timing at `nowMs`, with tatflow's DST rule. */
export function compileTiming(t: Timing, id: string, nowMs: number): Compiled {
  const base = baseCalendars(t.when, t.timezone);
  const fixed = isFixedTime(t.when, t.timezone);
  const from = t.start ? Date.parse(t.start) : nowMs;
  const horizon = [
    Math.min(from, nowMs) - YEAR_MS,
    Math.max(from, nowMs) + DST_HORIZON_YEARS * YEAR_MS,
  ] as const;
  const gapFires = fixed ? gapCalendars(base, t.timezone, ...horizon) : [];
  const folds = fixed ? foldsHit(base, t.timezone, ...horizon) : [];
  return {
    spec: {
      calendars: [...base, ...gapFires],
      timezone: t.timezone,
      ...(t.start ? { startAt: new Date(t.start) } : {}),
      ...(t.end ? { endAt: new Date(t.end) } : {}),
      ...(t.jitterSeconds ? { jitter: t.jitterSeconds * 1000 } : {}),
    },
    ref: { id, timezone: t.timezone },
    fixed,
    gapFires,
    folds,
    ...(fixed ? { gapFiresUntil: new Date(horizon[1]).toISOString() } : {}),
  };
}
