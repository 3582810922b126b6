// A runbook schedule as tatflow keeps it, and the Temporal Schedule made from it. The Schedule's
// action starts the runbook's workflow (type = the runbook's name, on the worker's task queue) with
// the same input `tatflow run` would give it, plus what the run needs to know about its schedule;
// the definition itself (the crontab or calendars as given, zone, policies) rides in the action's
// memo, so `describe` and `update` read it back as it was given, and every run carries it.

import { createHash } from 'node:crypto';
import { ScheduleOverlapPolicy, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import { z } from 'zod';
import { MONTHS, type Calendar } from '../../tat/cron.js';
import { instantOf } from '../../tat/dst.js';
import type { RepeatedFire, RunbookInput, ScheduleRef } from '../../workflows/engine/types.js';
import { scheduleIdOf } from './ids.js';
import { compileTiming, type Timing } from './spec.js';

export const OVERLAPS = [
  'skip',
  'buffer-one',
  'buffer-all',
  'cancel-other',
  'terminate-other',
  'allow-all',
] as const;
export type Overlap = (typeof OVERLAPS)[number];

export const temporalOverlap = (o: Overlap): ScheduleOverlapPolicy =>
  o.toUpperCase().replace('-', '_') as ScheduleOverlapPolicy;
export const overlapName = (p: ScheduleOverlapPolicy | undefined): Overlap =>
  (p ?? 'SKIP').toLowerCase().replace('_', '-') as Overlap;

/** Default catch-up window: a fire more than this late (Temporal was down) is missed, and counted. */
export const DEFAULT_CATCHUP_SECONDS = 15 * 60;

/** The action memo keys. */
const DEFINITION_MEMO = 'tatflowSchedule';
const DST_MEMO = 'tatflowDst';

const range = z.object({
  start: z.union([z.number(), z.string()]),
  end: z.union([z.number(), z.string()]),
  step: z.number(),
});
const field = z.union([z.literal('*'), z.array(range)]);
const calendarSchema = z.object({
  second: field,
  minute: field,
  hour: field,
  dayOfMonth: field,
  month: field,
  dayOfWeek: field,
  year: field.optional(),
  comment: z.string(),
});

export const definitionSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  runbook: z.string(),
  timing: z.object({
    when: z.union([z.object({ cron: z.string() }), z.object({ calendars: z.array(calendarSchema) })]),
    timezone: z.string(),
    start: z.string().optional(),
    end: z.string().optional(),
    jitterSeconds: z.number().optional(),
  }),
  overlap: z.enum(OVERLAPS),
  catchupWindowSeconds: z.number(),
  /** Set by `mirror-invokers`: the TAT invoker this schedule stands for. */
  mirroredFrom: z
    .object({ invokerId: z.string(), region: z.string(), endpoint: z.string().optional() })
    .optional(),
});

export type ScheduleDefinition = Omit<z.infer<typeof definitionSchema>, 'timing'> & { timing: Timing };

/** Everything a schedule is: its definition, the task queue its runs go to, and their input. */
export interface ScheduleParts {
  def: ScheduleDefinition;
  taskQueue: string;
  /** The run's input as `tatflow run` makes it (no `schedule`: that is added per Schedule). */
  input: RunbookInput;
}

/** What the DST rule added, kept in the action's memo for `describe`. */
export interface DstMemo {
  rule: 'vixie' | 'literal';
  /** The extra fires after DST gaps (ISO instants). */
  gapFires: string[];
  /** The end of the horizon they were computed for. */
  until?: string;
}

function gapInstant(c: Calendar, zone: string): string {
  const one = (f: unknown) => (f as { start: number }[])[0]!.start;
  const month = (c.month as { start: string }[])[0]!.start;
  return new Date(
    instantOf(zone, {
      year: one(c.year),
      month: MONTHS.indexOf(month as (typeof MONTHS)[number]) + 1,
      day: one(c.dayOfMonth),
      hour: one(c.hour),
      minute: one(c.minute),
      second: one(c.second),
    }),
  ).toISOString();
}

/**
 * The Temporal Schedule of a definition at `nowMs` (the DST horizon starts there); `repeats` are
 * the fires its runs skip (install.ts reads them from Temporal once the spec is there).
 */
export function scheduleOptions(
  p: ScheduleParts,
  nowMs: number,
  state: { paused?: boolean; note?: string } = {},
  repeats: RepeatedFire[] = [],
): ScheduleOptions {
  const id = scheduleIdOf(p.def.name);
  const c = compileTiming(p.def.timing, id, nowMs);
  const dst: DstMemo = {
    rule: c.fixed ? 'vixie' : 'literal',
    gapFires: c.gapFires.map((g) => gapInstant(g, p.def.timing.timezone)),
    ...(c.gapFiresUntil ? { until: c.gapFiresUntil } : {}),
  };
  const input: RunbookInput = { ...p.input, schedule: { ...c.ref, ...(repeats.length ? { repeats } : {}) } };
  return {
    scheduleId: id,
    spec: c.spec,
    action: {
      type: 'startWorkflow',
      workflowType: p.def.runbook,
      taskQueue: p.taskQueue,
      workflowId: id,
      args: [input],
      memo: { [DEFINITION_MEMO]: p.def, [DST_MEMO]: dst },
    },
    policies: {
      overlap: temporalOverlap(p.def.overlap),
      catchupWindow: p.def.catchupWindowSeconds * 1000,
      pauseOnFailure: false,
    },
    memo: { tatflow: { kind: 'runbook schedule', name: p.def.name, runbook: p.def.runbook } },
    state: {
      paused: state.paused ?? false,
      ...(state.note ? { note: state.note } : {}),
    },
  };
}

/** A described Schedule's parts, or an Error when tatflow did not make it. */
export function partsOf(d: ScheduleDescription): ScheduleParts & { dst: DstMemo; ref?: ScheduleRef } {
  const a = d.action;
  const def = definitionSchema.safeParse(a.memo?.[DEFINITION_MEMO]);
  const input = a.args?.[0] as RunbookInput | undefined;
  if (!def.success || !input || typeof input !== 'object')
    throw new Error(
      `Schedule ${d.scheduleId} was not made by tatflow (its action carries no tatflow definition); change it in the Temporal UI or CLI`,
    );
  const { schedule: ref, ...rest } = input;
  return {
    def: def.data as ScheduleDefinition,
    taskQueue: a.taskQueue,
    input: rest,
    ...(ref ? { ref } : {}),
    dst: (a.memo?.[DST_MEMO] as DstMemo | undefined) ?? { rule: 'literal', gapFires: [] },
  };
}

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, stable(x)]),
    );
  return v;
}

/** A digest of what a schedule does (not of what was computed from it at some time). */
export function digest(p: ScheduleParts): string {
  return createHash('sha256')
    .update(JSON.stringify(stable({ def: p.def, taskQueue: p.taskQueue, input: p.input })))
    .digest('hex');
}
