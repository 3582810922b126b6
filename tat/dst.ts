// Daylight saving time, as tatflow's schedules treat it. Temporal matches calendars literally in a
// zone: a wall time that does not exist that day (the hour skipped when clocks go forward) never
// fires, and one that occurs twice (the hour repeated when they go back) fires twice west of UTC
// (New York: 01:30 EDT and 01:30 EST) but once, at its second pass, east of it (Berlin: 02:30 CET
// only), as Go resolves an ambiguous wall time. tatflow follows Vixie cron instead: a fixed-time job
// (its minute and hour fields are not wildcards) whose time falls in a skipped hour runs once, at
// the first wall time after the gap; in a repeated hour it runs once. Jobs with a wildcard minute or
// hour run by the clock as Temporal runs them (an hourly job is not doubled by the change: each
// real hour has its fire).
//
// This module finds a zone's transitions with Intl (the zone data of the Node running it), the gaps
// and folds they make, the extra calendar for a gap, and the folds a schedule fires in (whose
// repeated fires the CLI then reads from Temporal itself). Pure: no I/O.

import { DAYS_OF_WEEK, MONTHS, type Calendar, type CalendarRange, type Crontab } from './cron.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A time on the clocks of a zone. */
export interface WallTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday */
  dayOfWeek: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall time in `zone` at the instant `ms`. */
export function wallTime(zone: string, ms: number): WallTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const naive = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return naiveWall(naive);
}

/** A wall time written as if it were UTC (`Date.UTC` of its fields): easy to step and compare. */
function naive(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

function naiveWall(n: number): WallTime {
  const d = new Date(n);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    dayOfWeek: d.getUTCDay(),
  };
}

/** How an instant reads in a zone: `2026-11-01 01:30:00 EST`. */
export function localTime(zone: string, ms: number): string {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' })
      .formatToParts(new Date(ms))
      .find((p) => p.type === 'timeZoneName')?.value ?? zone;
  const w = wallTime(zone, ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}:${two(w.second)} ${name}`;
}

/** The zone's offset from UTC at `ms`, in minutes (east positive: Berlin in summer is 120). */
export function offsetMinutes(zone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return Math.round((naive(wallTime(zone, whole)) - whole) / MINUTE);
}

/**
 * The instant a wall time in `zone` names. A wall time in a gap does not exist: the instant it
 * would be with the offset before the gap (so it lands after the gap). One in a fold exists twice:
 * the first (`earlier`, default) or the second.
 */
export function instantOf(
  zone: string,
  w: Omit<WallTime, 'dayOfWeek'>,
  which: 'earlier' | 'later' = 'earlier',
): number {
  const n = naive({ ...w, dayOfWeek: 0 });
  // The offsets in force a day around it: at most two (zones change at most once a day).
  const offsets = [...new Set([offsetMinutes(zone, n - DAY), offsetMinutes(zone, n + DAY)])];
  const candidates = offsets
    .map((o) => n - o * MINUTE)
    .filter((ms) => naive(wallTime(zone, ms)) === n)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return which === 'earlier' ? candidates[0]! : candidates.at(-1)!;
  // In a gap: read with the offset before it (the smaller one), which lands after the gap.
  return n - Math.min(...offsets) * MINUTE;
}

/** A change of the zone's offset: at instant `at`, from `before` to `after` minutes. */
export interface Transition {
  at: number;
  before: number;
  after: number;
}

/**
 * The zone's transitions in [fromMs, toMs), found by stepping a day at a time and narrowing each
 * change down to the minute (zones change offset on whole minutes, at most once a day).
 */
export function transitions(zone: string, fromMs: number, toMs: number): Transition[] {
  const out: Transition[] = [];
  const end = Math.ceil(toMs / MINUTE) * MINUTE;
  let t = Math.floor(fromMs / MINUTE) * MINUTE;
  let off = offsetMinutes(zone, t);
  while (t < end) {
    const next = Math.min(t + DAY, end);
    const nextOff = offsetMinutes(zone, next);
    if (nextOff !== off) {
      let lo = t;
      let hi = next; // offset(lo) = off, offset(hi) = nextOff
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
        if (offsetMinutes(zone, mid) === off) lo = mid;
        else hi = mid;
      }
      if (hi >= fromMs && hi < toMs) out.push({ at: hi, before: off, after: nextOff });
    }
    t = next;
    off = nextOff;
  }
  return out;
}

/** Wall times skipped when clocks go forward: from `from` (inclusive) to `to` (exclusive). */
export interface Gap {
  at: number;
  /** The first wall time that does not exist. */
  from: WallTime;
  /** The first wall time after the gap (the clocks read it at `at`). */
  to: WallTime;
}

/** Wall times repeated when clocks go back: those in [from, to) occur twice. */
export interface Fold {
  at: number;
  from: WallTime;
  to: WallTime;
  /** How long the repeat is (the second pass begins at `at` and lasts this long). */
  ms: number;
}

export function gaps(zone: string, fromMs: number, toMs: number): Gap[] {
  return transitions(zone, fromMs, toMs)
    .filter((t) => t.after > t.before)
    .map((t) => ({
      at: t.at,
      from: naiveWall(t.at + t.before * MINUTE),
      to: naiveWall(t.at + t.after * MINUTE),
    }));
}

export function folds(zone: string, fromMs: number, toMs: number): Fold[] {
  return transitions(zone, fromMs, toMs)
    .filter((t) => t.after < t.before)
    .map((t) => ({
      at: t.at,
      from: naiveWall(t.at + t.after * MINUTE),
      to: naiveWall(t.at + t.before * MINUTE),
      ms: (t.before - t.after) * MINUTE,
    }));
}

// ---- calendars --------------------------------------------------------------------------------

function inRanges<T>(
  field: CalendarRange<T>[] | '*' | undefined,
  value: number,
  names?: readonly T[],
): boolean {
  if (field === undefined || field === '*') return true;
  const num = (v: T) => (names ? names.indexOf(v) : (v as unknown as number));
  return field.some((r) => {
    const start = num(r.start);
    const end = Math.max(num(r.end), start);
    const step = r.step >= 1 ? r.step : 1;
    return value >= start && value <= end && (value - start) % step === 0;
  });
}

/** Whether the calendar's day fields (year, month, day of month, day of week) match the date. */
export function calendarMatchesDay(c: Calendar, w: WallTime): boolean {
  return (
    inRanges(c.year, w.year) &&
    inRanges(c.month, w.month - 1, MONTHS) &&
    inRanges(c.dayOfMonth, w.day) &&
    inRanges(c.dayOfWeek, w.dayOfWeek, DAYS_OF_WEEK)
  );
}

/** Whether the calendar fires at the wall time, to the second. */
export function calendarMatches(c: Calendar, w: WallTime): boolean {
  return (
    calendarMatchesDay(c, w) &&
    inRanges(c.hour, w.hour) &&
    inRanges(c.minute, w.minute) &&
    inRanges(c.second, w.second)
  );
}

/** Whether the calendar fires at some second of the wall minute. */
function calendarMatchesMinute(c: Calendar, w: WallTime): boolean {
  if (!calendarMatchesDay(c, w) || !inRanges(c.hour, w.hour) || !inRanges(c.minute, w.minute)) return false;
  for (let s = 0; s < 60; s++) if (inRanges(c.second, s)) return true;
  return false;
}

/**
 * A fixed-time job in Vixie cron's sense: neither the minute nor the hour field is a wildcard
 * (starts with `*`: `*`, `*\/15`). Only fixed-time jobs get the DST rule.
 */
export function isFixedTimeCrontab(c: Crontab): boolean {
  const [minute, hour] = c.expression.split(' ');
  return !minute!.startsWith('*') && !hour!.startsWith('*');
}

/** The same for calendars: every calendar names its hours and minutes (neither is `*`). */
export function isFixedTimeCalendars(cals: Calendar[]): boolean {
  return cals.length > 0 && cals.every((c) => c.hour !== '*' && c.minute !== '*');
}

const two = (n: number) => String(n).padStart(2, '0');
export const wallDate = (w: WallTime): string => `${w.year}-${two(w.month)}-${two(w.day)}`;
export const wallClock = (w: WallTime): string => `${two(w.hour)}:${two(w.minute)}`;

/** The folds in [fromMs, toMs) in whose repeated wall times any of `cals` fires. */
export function foldsHit(cals: Calendar[], zone: string, fromMs: number, toMs: number): Fold[] {
  return folds(zone, fromMs, toMs).filter((f) => {
    for (let n = naive(f.from); n < naive(f.to); n += MINUTE)
      if (cals.some((c) => calendarMatchesMinute(c, naiveWall(n)))) return true;
    return false;
  });
}

/**
 * The calendars that cover DST gaps in [fromMs, toMs): for each gap in which any of `cals` fires
 * (a wall time that does not exist that day), one calendar pinned to the first wall time after
 * the gap, that day (03:00 when 02:00-03:00 is skipped), so the job runs once soon after the gap.
 * Several fires in one gap make one. When that wall time is a fire time anyway, the one fire covers
 * both (Temporal fires once per instant).
 */
export function gapCalendars(cals: Calendar[], zone: string, fromMs: number, toMs: number): Calendar[] {
  const out: Calendar[] = [];
  for (const g of gaps(zone, fromMs, toMs)) {
    let hit: WallTime | undefined;
    for (let n = naive(g.from); n < naive(g.to) && !hit; n += MINUTE) {
      const w = naiveWall(n);
      if (cals.some((c) => calendarMatchesMinute(c, w))) hit = w;
    }
    if (!hit) continue;
    const one = (v: number) => [{ start: v, end: v, step: 1 }];
    const to = g.to;
    out.push({
      second: one(to.second),
      minute: one(to.minute),
      hour: one(to.hour),
      dayOfMonth: one(to.day),
      month: [{ start: MONTHS[to.month - 1]!, end: MONTHS[to.month - 1]!, step: 1 }],
      dayOfWeek: '*',
      year: one(to.year),
      comment: `DST gap in ${zone} on ${wallDate(to)}: ${wallClock(g.from)}-${wallClock(to)} does not exist; the fire at ${wallClock(hit)} runs at ${wallClock(to)}`,
    });
  }
  return out;
}
