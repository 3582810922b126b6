// `tatflow schedule list` and `describe`: what a schedule is, its next fire times in its zone with
// tatflow's DST rule applied (Temporal's own next times match wall times literally: the second pass
// of a repeated hour is dropped, the extra fires after gaps are already among them), and what it
// did: the runs it started (Temporal's visibility: `TemporalScheduledById`, each run's status, and
// the outcome the run left in its memo) and the fires that started nothing (Temporal's counters:
// skipped by the overlap policy, missed past the catch-up window; runs buffered now). The JSON
// shapes (`--json`) are documented in docs/schedules.md; the text is render.ts.

import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { msToTs, tsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import { localTime } from '../../tat/dst.js';
import type { RepeatedFire, RunbookInput } from '../../workflows/engine/types.js';
import { RUN_MEMO, type RunMemo } from '../../workflows/engine/scheduled.js';
import { partsOf, type DstMemo, type ScheduleDefinition } from './definition.js';
import { nameOfId, scheduleIdOf } from './ids.js';
import type { When } from './spec.js';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface FireTime {
  at: string;
  /** The time on the schedule's clocks: `2026-12-07 02:30:00 EST`. */
  local: string;
}

export type RunOutcome =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'aborted'
  | 'skipped'
  | 'window closed'
  | 'cancelled'
  | 'terminated'
  | 'timed out'
  | 'unknown';

export interface RunRecord {
  /** The run's id (its workflow id): `tatflow status <runId>`. */
  runId: string;
  scheduledAt: string;
  local: string;
  startedAt?: string;
  closedAt?: string;
  status: RunOutcome;
  reason?: string;
  note?: string;
  targets?: { total: number; succeeded: number; unsuccessful: number; notStarted: number };
}

export interface ScheduleView {
  name: string;
  id: string;
  runbook: string;
  taskQueue: string;
  when: When;
  timezone: string;
  dst: DstMemo & { repeats: RepeatedFire[] };
  overlap: ScheduleDefinition['overlap'];
  catchupWindowSeconds: number;
  jitterSeconds?: number;
  start?: string;
  end?: string;
  paused: boolean;
  note?: string;
  mirroredFrom?: ScheduleDefinition['mirroredFrom'];
  input: RunbookInput;
  nextFireTimes: FireTime[];
  counts: {
    actionsTaken: number;
    skippedOverlap: number;
    missedCatchupWindow: number;
    buffered: number;
    running: number;
  };
  recentRuns: RunRecord[];
  createdAt: string;
  updatedAt?: string;
}

export type ScheduleListEntry = Pick<
  ScheduleView,
  'name' | 'id' | 'runbook' | 'when' | 'timezone' | 'overlap' | 'paused' | 'note' | 'mirroredFrom'
> & { dst: DstMemo['rule']; nextFireTime?: FireTime; lastRun?: { runId: string; scheduledAt: string } };

/** The handle of a tatflow schedule, or a clear error when there is none of that name. */
export async function scheduleHandle(
  client: Client,
  name: string,
): Promise<{ handle: ScheduleHandle; description: ScheduleDescription }> {
  const handle = client.schedule.getHandle(scheduleIdOf(name));
  try {
    return { handle, description: await handle.describe() };
  } catch (e) {
    if (e instanceof ScheduleNotFoundError)
      throw new Error(
        `no schedule named "${name}" in namespace ${client.options.namespace} (see them with: tatflow schedule list)`,
      );
    throw e;
  }
}

/**
 * Drops the fires that repeat a wall time from Temporal's next times (their runs skip at once).
 * Temporal's next times include the jitter: a time up to `jitterMs` after a repeat is that repeat.
 */
export function applyDstRule(times: Date[], repeats: RepeatedFire[], jitterMs = 0): Date[] {
  const skip = repeats.map((r) => Date.parse(r.at));
  return times.filter((t) => !skip.some((s) => t.getTime() >= s && t.getTime() <= s + jitterMs));
}

const fire = (zone: string, t: Date): FireTime => ({
  at: t.toISOString(),
  local: localTime(zone, t.getTime()),
});

/** Ten next fire times with the DST rule; when it dropped some, more are asked from Temporal. */
async function nextFires(
  client: Client,
  d: ScheduleDescription,
  repeats: RepeatedFire[],
  jitterMs: number,
): Promise<Date[]> {
  const times = applyDstRule(d.info.nextActionTimes, repeats, jitterMs);
  const had = d.info.nextActionTimes;
  if (times.length >= Math.min(10, had.length) || had.length < 2) return times.slice(0, 10);
  let from = had.at(-1)!.getTime();
  const span = Math.max(from - had[0]!.getTime(), 24 * 3600_000);
  for (let i = 0; i < 4 && times.length < 10; i++) {
    const r: temporal.api.workflowservice.v1.IListScheduleMatchingTimesResponse =
      await client.workflowService.listScheduleMatchingTimes({
        namespace: client.options.namespace,
        scheduleId: d.scheduleId,
        startTime: msToTs(from + 1000),
        endTime: msToTs(from + span),
      });
    const more = (r.startTime ?? []).map((t) => new Date(tsToMs(t)));
    times.push(...applyDstRule(more, repeats, jitterMs));
    from += span;
  }
  return times.slice(0, 10);
}

function outcomeOf(w: WorkflowExecutionInfo, memo: RunMemo | undefined): RunOutcome {
  switch (w.status.name) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETED':
      return memo?.status === 'skipped' || memo?.status === 'window closed' ? memo.status : 'succeeded';
    case 'FAILED':
      return memo?.status === 'aborted' ? 'aborted' : 'failed';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed out';
    default:
      return 'unknown';
  }
}

/** The runs a schedule started, newest first, as Temporal's visibility has them. */
async function recentRuns(client: Client, id: string, zone: string, max: number): Promise<RunRecord[]> {
  const latest = new Map<string, WorkflowExecutionInfo>();
  let seen = 0;
  for await (const w of client.workflow.list({ query: `TemporalScheduledById = '${id}'`, pageSize: 100 })) {
    const had = latest.get(w.workflowId);
    // A run that continued as new is one run: keep its last execution.
    if (!had || w.startTime > had.startTime) latest.set(w.workflowId, w);
    if (++seen >= 500) break;
  }
  const out = [...latest.values()].map((w): RunRecord => {
    const memo = w.memo?.[RUN_MEMO] as RunMemo | undefined;
    const scheduled = w.typedSearchAttributes.get(SCHEDULED_START) ?? w.startTime;
    const r: RunRecord = {
      runId: w.workflowId,
      scheduledAt: scheduled.toISOString(),
      local: localTime(zone, scheduled.getTime()),
      startedAt: w.startTime.toISOString(),
      status: outcomeOf(w, memo),
    };
    if (w.closeTime) r.closedAt = w.closeTime.toISOString();
    if (memo?.reason) r.reason = memo.reason;
    if (memo?.note) r.note = memo.note;
    if (memo)
      r.targets = {
        total: memo.targets,
        succeeded: memo.succeeded,
        unsuccessful: memo.unsuccessful,
        notStarted: memo.notStarted,
      };
    return r;
  });
  return out.sort((a, b) => b.scheduledAt.localeCompare(a.scheduledAt)).slice(0, max);
}

/** Everything `describe` shows. */
export async function describeSchedule(
  client: Client,
  name: string,
  o: { runs?: number } = {},
): Promise<ScheduleView> {
  const { description: d } = await scheduleHandle(client, name);
  const p = partsOf(d);
  const t = p.def.timing;
  const repeats = p.ref?.repeats ?? [];
  const runs = await recentRuns(client, d.scheduleId, t.timezone, o.runs ?? 10);
  // Actions Temporal remembers whose run visibility no longer has (past the namespace's retention).
  for (const a of d.info.recentActions)
    if (!runs.some((r) => r.runId === a.action.workflow.workflowId))
      runs.push({
        runId: a.action.workflow.workflowId,
        scheduledAt: a.scheduledAt.toISOString(),
        local: localTime(t.timezone, a.scheduledAt.getTime()),
        startedAt: a.takenAt.toISOString(),
        status: 'unknown',
        note: "no longer in Temporal's visibility (past the namespace's retention)",
      });
  runs.sort((a, b) => b.scheduledAt.localeCompare(a.scheduledAt));
  const buffered = Number(d.raw.info?.bufferSize ?? 0);
  return {
    name: p.def.name,
    id: d.scheduleId,
    runbook: p.def.runbook,
    taskQueue: p.taskQueue,
    when: t.when,
    timezone: t.timezone,
    dst: { ...p.dst, repeats },
    overlap: p.def.overlap,
    catchupWindowSeconds: p.def.catchupWindowSeconds,
    ...(t.jitterSeconds ? { jitterSeconds: t.jitterSeconds } : {}),
    ...(t.start ? { start: t.start } : {}),
    ...(t.end ? { end: t.end } : {}),
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    ...(p.def.mirroredFrom ? { mirroredFrom: p.def.mirroredFrom } : {}),
    input: p.input,
    nextFireTimes: (await nextFires(client, d, repeats, (t.jitterSeconds ?? 0) * 1000)).map((x) =>
      fire(t.timezone, x),
    ),
    counts: {
      actionsTaken: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
      missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
      buffered,
      running: d.info.runningActions.length,
    },
    recentRuns: runs.slice(0, o.runs ?? 10),
    createdAt: d.info.createdAt.toISOString(),
    ...(d.info.lastUpdatedAt ? { updatedAt: d.info.lastUpdatedAt.toISOString() } : {}),
  };
}

/** tatflow's schedules (not tatd's invoker Schedules, nor anyone else's), by name. */
export async function listSchedules(client: Client): Promise<ScheduleListEntry[]> {
  const names: string[] = [];
  for await (const s of client.schedule.list()) {
    const name = nameOfId(s.scheduleId);
    if (name !== undefined) names.push(name);
  }
  const out: ScheduleListEntry[] = [];
  for (const name of names.sort()) {
    let d: ScheduleDescription;
    try {
      d = (await scheduleHandle(client, name)).description;
    } catch {
      continue; // deleted since it was listed
    }
    let p: ReturnType<typeof partsOf>;
    try {
      p = partsOf(d);
    } catch {
      continue; // a Schedule with our prefix that tatflow did not make
    }
    const t = p.def.timing;
    const next = applyDstRule(d.info.nextActionTimes, p.ref?.repeats ?? [], (t.jitterSeconds ?? 0) * 1000)[0];
    const last = d.info.recentActions.at(-1);
    out.push({
      name,
      id: d.scheduleId,
      runbook: p.def.runbook,
      when: t.when,
      timezone: t.timezone,
      dst: p.dst.rule,
      overlap: p.def.overlap,
      paused: d.state.paused,
      ...(d.state.note ? { note: d.state.note } : {}),
      ...(p.def.mirroredFrom ? { mirroredFrom: p.def.mirroredFrom } : {}),
      ...(next ? { nextFireTime: fire(t.timezone, next) } : {}),
      ...(last
        ? { lastRun: { runId: last.action.workflow.workflowId, scheduledAt: last.scheduledAt.toISOString() } }
        : {}),
    });
  }
  return out;
}
