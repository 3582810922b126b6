// What a run started by a schedule asks about its fire: whether it is the second pass of a
// repeated wall time (clocks went back) of a fire time of its schedule, and how the time reads in
// the schedule's zone. Zone data (Intl) may differ between workers and releases, so the engine
// asks here, as a local activity whose answer is recorded in the run's history, never in workflow
// code (docs/engine.md).

import type { Calendar } from '../tat/cron.js';
import { calendarMatches, firstPassOf, wallTime } from '../tat/dst.js';

export interface ScheduledFireInput {
  /** The time the Schedule meant the run for (ISO 8601). */
  scheduledAt: string;
  timezone: string;
  /** The schedule's calendars: a time off them (a manual trigger) is never a repeat. */
  calendars?: Calendar[];
}

export interface ScheduledFire {
  /** The time in the zone, `2026-11-01 01:30:00 EST`. */
  local: string;
  /** Set when the time is the second pass of a repeated wall time: the first pass (ISO 8601). */
  firstPassAt?: string;
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

export function scheduledFire(i: ScheduledFireInput): ScheduledFire {
  const ms = Date.parse(i.scheduledAt);
  if (Number.isNaN(ms)) throw new Error(`scheduledAt "${i.scheduledAt}" is not a time`);
  const local = localTime(i.timezone, ms);
  const first = firstPassOf(i.timezone, ms);
  if (first === undefined) return { local };
  const w = wallTime(i.timezone, ms);
  if (i.calendars && !i.calendars.some((c) => calendarMatches(c, w))) return { local };
  return { local, firstPassAt: new Date(first).toISOString() };
}
