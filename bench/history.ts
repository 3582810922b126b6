// Where a runbook run's time goes, read from its Temporal history (server timestamps, µs
// precision). The built-in runbooks run one thing at a time (an activity, or a workflow task that
// decides the next one), so the run's wall time splits into the state the run was in at each
// instant: an activity running or waiting for a worker, a workflow task running or waiting.

import type { WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];
type Timestamp = NonNullable<HistoryEvent['eventTime']>;

const ms = (ts: Timestamp | null | undefined): number =>
  ts ? Number(String(ts.seconds ?? 0)) * 1000 + (ts.nanos ?? 0) / 1e6 : NaN;
const id = (v: unknown): string => String(v ?? '');

export interface Interval {
  /** What the run was doing, e.g. `activity pollTasks running`, `workflow task queued`. */
  label: string;
  /** Higher wins where intervals overlap. */
  rank: number;
  from: number;
  to: number;
}

export interface ActivityRecord {
  type: string;
  scheduled: number;
  started: number;
  closed: number;
}

export interface RunBreakdown {
  /** Workflow execution started → completed, server clock (ms). */
  wallMs: number;
  /** Critical-path milliseconds per label; they add up to wallMs. */
  byLabel: Map<string, number>;
  activities: ActivityRecord[];
  workflowTasks: { count: number; queuedMs: number; runMs: number };
  /** Each workflow task's queued and running ms, by what woke it (`start`, or the activity that closed). */
  workflowTasksAfter: Map<string, { queued: number; running: number }[]>;
  /** pollTasks activities per batch (activities between one invokeChunk and the next). */
  pollsPerBatch: number[];
  /** Timeouts, failures and retries seen in the history: none in a healthy run. */
  anomalies: string[];
}

const TIMEOUT_TYPES: Record<number, string> = {
  1: 'start-to-close',
  2: 'schedule-to-start',
  3: 'schedule-to-close',
  4: 'heartbeat',
};

export function breakdown(history: History): RunBreakdown {
  const events = history.events ?? [];
  const byId = new Map<string, HistoryEvent>(events.map((e) => [id(e.eventId), e]));
  const intervals: Interval[] = [];
  const activities: ActivityRecord[] = [];
  const wft = { count: 0, queuedMs: 0, runMs: 0 };
  const anomalies: string[] = [];
  const after = new Map<string, { queued: number; running: number }[]>();
  let wokenBy = 'start';
  let begin = NaN;
  let end = NaN;
  for (const e of events) {
    const t = ms(e.eventTime);
    if (e.workflowExecutionStartedEventAttributes) begin = t;
    if (
      e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionContinuedAsNewEventAttributes
    )
      end = t;
    const wfDone =
      e.workflowTaskCompletedEventAttributes ??
      e.workflowTaskFailedEventAttributes ??
      e.workflowTaskTimedOutEventAttributes;
    if (wfDone) {
      const started = byId.get(id(wfDone.startedEventId));
      const scheduled = byId.get(id(wfDone.scheduledEventId));
      const s = ms(scheduled?.eventTime);
      const timedOut = e.workflowTaskTimedOutEventAttributes;
      if (timedOut) {
        const how = TIMEOUT_TYPES[Number(timedOut.timeoutType)] ?? String(timedOut.timeoutType);
        anomalies.push(`workflow task timed out (${how}) after ${(t - s).toFixed(0)} ms`);
      }
      if (e.workflowTaskFailedEventAttributes)
        anomalies.push(
          `workflow task failed: ${e.workflowTaskFailedEventAttributes.failure?.message ?? '?'}`,
        );
      if (!started) {
        // Never picked up (a sticky queue's schedule-to-start timeout): all of it was waiting.
        intervals.push({ label: 'workflow task queued, timed out', rank: 1, from: s, to: t });
        continue;
      }
      const st = ms(started.eventTime);
      wft.count++;
      wft.queuedMs += st - s;
      wft.runMs += t - st;
      after.set(wokenBy, [...(after.get(wokenBy) ?? []), { queued: st - s, running: t - st }]);
      intervals.push({ label: 'workflow task queued', rank: 1, from: s, to: st });
      intervals.push({ label: 'workflow task running', rank: 2, from: st, to: t });
    }
    const timer = e.timerFiredEventAttributes ?? e.timerCanceledEventAttributes;
    if (timer) {
      wokenBy = 'timer';
      const started = byId.get(id(timer.startedEventId));
      intervals.push({ label: 'timer', rank: 0, from: ms(started?.eventTime), to: t });
    }
    const actDone =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskCanceledEventAttributes ??
      e.activityTaskTimedOutEventAttributes;
    if (actDone) {
      const scheduled = byId.get(id(actDone.scheduledEventId));
      const started = byId.get(id(actDone.startedEventId));
      const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      const attempt = started?.activityTaskStartedEventAttributes?.attempt ?? 1;
      if (attempt > 1) anomalies.push(`activity ${type} needed ${attempt} attempts`);
      if (!e.activityTaskCompletedEventAttributes && !e.activityTaskCanceledEventAttributes)
        anomalies.push(`activity ${type} did not complete`);
      const s = ms(scheduled?.eventTime);
      const st = started ? ms(started.eventTime) : t;
      activities.push({ type, scheduled: s, started: st, closed: t });
      wokenBy = type;
      intervals.push({ label: `activity ${type} queued`, rank: 3, from: s, to: st });
      intervals.push({ label: `activity ${type} running`, rank: 4, from: st, to: t });
    }
  }
  const byLabel = sweep(intervals, begin, end);
  const pollsPerBatch: number[] = [];
  for (const a of activities.sort((x, y) => x.scheduled - y.scheduled)) {
    if (a.type === 'invokeChunk') pollsPerBatch.push(0);
    else if (a.type === 'pollTasks' && pollsPerBatch.length > 0) pollsPerBatch[pollsPerBatch.length - 1]!++;
  }
  return {
    wallMs: end - begin,
    byLabel,
    activities,
    workflowTasks: wft,
    workflowTasksAfter: after,
    pollsPerBatch,
    anomalies,
  };
}

/** Splits [begin, end] at every interval boundary and gives each piece to the top-ranked interval. */
function sweep(intervals: Interval[], begin: number, end: number): Map<string, number> {
  const cuts = [...new Set([begin, end, ...intervals.flatMap((i) => [i.from, i.to])])]
    .filter((t) => t >= begin && t <= end)
    .sort((a, b) => a - b);
  const out = new Map<string, number>();
  for (let k = 0; k + 1 < cuts.length; k++) {
    const a = cuts[k]!;
    const b = cuts[k + 1]!;
    let top: Interval | undefined;
    for (const i of intervals)
      if (i.from <= a && i.to >= b && i.to > i.from && (!top || i.rank > top.rank)) top = i;
    const label = top?.label ?? 'nothing scheduled';
    out.set(label, (out.get(label) ?? 0) + (b - a));
  }
  return out;
}
