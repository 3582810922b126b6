// `tatflow schedule create|update` flags into a schedule's parts: when it fires (--cron or
// --calendar, --timezone, --start, --end, --jitter), its policies (--overlap, --catchup-window),
// and what each run does (exactly what `tatflow run` takes: client/run-options.ts and the
// runbook's flags from the registry). `update` changes only what its flags name: each schedule
// flag, each group of rollout flags (targets, shape, approval, window …), and each runbook
// parameter given (a parameter given replaces that parameter); the rest stays as it was.

import type { Command } from 'commander';
import type { RolloutOptions } from '../../workflows/engine/types.js';
import type { RunbookRegistry } from '../../workflows/registry.js';
import { parseDuration } from '../durations.js';
import { rolloutOptions, type RolloutFlags, type RunFlags } from '../run-options.js';
import { checkParams, paramsFromFlags, paramsGiven } from '../runbook-params.js';
import {
  DEFAULT_CATCHUP_SECONDS,
  OVERLAPS,
  type Overlap,
  type ScheduleDefinition,
  type ScheduleParts,
} from './definition.js';
import { checkCron, checkTimezone, parseCalendars, parseTime, type Timing, type When } from './spec.js';

export interface ScheduleFlags {
  cron?: string;
  calendar?: string[];
  timezone?: string;
  overlap?: string;
  catchupWindow?: string;
  jitter?: string;
  start?: string;
  end?: string;
  paused?: boolean;
  note?: string;
}

/** The schedule's own flags; `update` also takes `none` to clear --start, --end and --jitter. */
export function scheduleFlags(cmd: Command, o: { update: boolean }): Command {
  const clear = o.update ? '; "none" clears it' : '';
  cmd
    .option('--cron <expr>', 'classic 5-field crontab, read in --timezone: "30 2 * * 6" (Saturdays 02:30)')
    .option(
      '--calendar <json>',
      'calendar(s) as JSON instead of --cron: \'{"dayOfWeek":"SAT","hour":2,"minute":30}\' (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--timezone <zone>',
      `IANA time zone the times are read in${o.update ? '' : ' (default UTC)'}: Europe/Berlin, America/New_York`,
    )
    .option(
      '--overlap <policy>',
      `when a run is still going at the next fire: ${OVERLAPS.join(', ')}${o.update ? '' : ' (default skip)'}`,
    )
    .option(
      '--catchup-window <duration>',
      `a fire missed (Temporal down) is still run this late${o.update ? '' : ' (default 15m; at least 10s)'}`,
    )
    .option('--jitter <duration>', `start each run up to this much after its time, at random${clear}`)
    .option(
      '--start <time>',
      `no fire before this time (a date or date and time in --timezone, or an instant)${clear}`,
    )
    .option('--end <time>', `no fire after this time${clear}`);
  if (!o.update)
    cmd.option('--paused', 'create it paused').option('--note <text>', 'why it is paused (with --paused)');
  return cmd;
}

function overlap(v: string): Overlap {
  if (!(OVERLAPS as readonly string[]).includes(v))
    throw new Error(`--overlap: expected one of ${OVERLAPS.join(', ')}, got "${v}"`);
  return v as Overlap;
}

function catchup(v: string): number {
  const s = parseDuration('catchup-window', v);
  if (s < 10) throw new Error(`--catchup-window: ${v} is shorter than Temporal's minimum of 10s`);
  return s;
}

function when(f: ScheduleFlags): When | undefined {
  if (f.cron !== undefined && f.calendar !== undefined)
    throw new Error('give --cron or --calendar, not both');
  if (f.cron !== undefined) return { cron: checkCron(f.cron) };
  if (f.calendar !== undefined) return { calendars: f.calendar.flatMap((c) => parseCalendars(c)) };
  return undefined;
}

/** The timing from the flags, over `previous` (update) or from nothing (create). */
export function timingFrom(f: ScheduleFlags, previous?: Timing): Timing {
  const w = when(f) ?? previous?.when;
  if (!w) throw new Error("say when it fires: --cron '<5 fields>' or --calendar '<json>'");
  const timezone =
    f.timezone !== undefined ? checkTimezone('timezone', f.timezone) : (previous?.timezone ?? 'UTC');
  const t: Timing = { when: w, timezone };
  const time = (flag: 'start' | 'end', v: string | undefined, had: string | undefined) =>
    v === undefined ? had : previous && v === 'none' ? undefined : parseTime(flag, v, timezone);
  const start = time('start', f.start, previous?.start);
  const end = time('end', f.end, previous?.end);
  if (start) t.start = start;
  if (end) t.end = end;
  if (start && end && Date.parse(end) <= Date.parse(start))
    throw new Error(`--end: ${end} is not after --start ${start}`);
  const jitter =
    f.jitter === undefined
      ? previous?.jitterSeconds
      : (previous && f.jitter === 'none') || f.jitter === '0'
        ? undefined
        : parseDuration('jitter', f.jitter);
  if (jitter) t.jitterSeconds = jitter;
  return t;
}

/** A new schedule's parts from `create`'s flags; every bad flag gets an error naming it. */
export function partsFromFlags(
  name: string,
  runbook: string,
  f: ScheduleFlags & RunFlags,
  ctx: { registry: RunbookRegistry; region: string; taskQueue: string },
): ScheduleParts {
  if (f.note !== undefined && !f.paused)
    throw new Error('--note: goes with --paused (or use `schedule pause --note`)');
  const entry = ctx.registry.require(runbook);
  const def: ScheduleDefinition = {
    version: 1,
    name,
    runbook: entry.name,
    timing: timingFrom(f),
    overlap: f.overlap !== undefined ? overlap(f.overlap) : 'skip',
    catchupWindowSeconds: f.catchupWindow !== undefined ? catchup(f.catchupWindow) : DEFAULT_CATCHUP_SECONDS,
  };
  const input = {
    params: paramsFromFlags(entry, f, ctx.registry),
    rollout: rolloutOptions(f, ctx.region),
  };
  // The runbook's own queue (a runbook file's runbooks have theirs), as `run` picks it.
  return { def, taskQueue: ctx.registry.taskQueue(entry.name, ctx.taskQueue), input };
}

/** Rollout flags by what they set: a group given replaces those options, as `run` would set them. */
const ROLLOUT_GROUPS: [(keyof RolloutFlags)[], (keyof RolloutOptions)[]][] = [
  [['targets', 'online', 'managedName', 'select'], ['targets']],
  [['batches', 'window', 'rampUp'], ['shape']],
  [['maxErrors'], ['maxErrors']],
  [['strictBudget'], ['strictBudget']],
  [['countUndeliverable'], ['countUndeliverable']],
  [['refuseOffline'], ['offline']],
  [['offlineGrace'], ['offlineGraceSeconds']],
  [
    ['approveBeforeStart', 'approveAfterCanary', 'approveEveryBatch', 'approvalTimeout', 'onApprovalTimeout'],
    ['approval'],
  ],
  [['bake'], ['bakeSeconds']],
  [['progressDeadline'], ['progressDeadlineSeconds']],
  [['pollInterval'], ['pollIntervalMs']],
  [['maintenanceWindow', 'maintenanceCutoff'], ['maintenanceWindow']],
];

/** `update`: the flags given laid over the schedule's parts, checked as `create` checks them. */
export function updatedParts(
  prev: ScheduleParts,
  f: ScheduleFlags & RunFlags & { region?: string; taskQueue?: string },
  registry: RunbookRegistry,
): ScheduleParts {
  const def: ScheduleDefinition = {
    ...prev.def,
    timing: timingFrom(f, prev.def.timing),
    ...(f.overlap !== undefined ? { overlap: overlap(f.overlap) } : {}),
    ...(f.catchupWindow !== undefined ? { catchupWindowSeconds: catchup(f.catchupWindow) } : {}),
  };
  const given = (k: keyof RolloutFlags) => f[k] !== undefined;
  const targetsGiven = ROLLOUT_GROUPS[0]![0].some(given);
  // A new cutoff alone keeps the window's length.
  const had = prev.input.rollout.maintenanceWindow;
  if (f.maintenanceCutoff !== undefined && f.maintenanceWindow === undefined && had)
    f = { ...f, maintenanceWindow: String(had.durationSeconds) };
  // Rollout options as `run` would make them from these flags (a stand-in target when none is given).
  const fresh = rolloutOptions(
    targetsGiven ? f : { ...f, targets: 'ins-0' },
    f.region ?? prev.input.rollout.region,
  );
  const rollout: RolloutOptions = { ...prev.input.rollout, region: fresh.region };
  const out = rollout as unknown as Record<string, unknown>;
  for (const [flags, keys] of ROLLOUT_GROUPS)
    if (flags.some(given))
      for (const k of keys) {
        if (fresh[k] === undefined) delete out[k];
        else out[k] = fresh[k];
      }
  const entry = registry.require(prev.def.runbook);
  const params = {
    ...(prev.input.params as Record<string, unknown>),
    ...paramsGiven(entry, f, registry),
  };
  checkParams(entry, params);
  return { def, taskQueue: f.taskQueue ?? prev.taskQueue, input: { params, rollout } };
}
