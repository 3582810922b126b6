// Maintenance windows (docs/schedules.md, "Maintenance windows"). A run with a window may change
// things from its scheduled start (its start, when no Schedule started it) for the window's
// duration. At each batch boundary (each wave, in window shapes) the shapes ask `admits()`: no
// batch starts at or after the cutoff (the window's end minus the cutoff), nor one the run expects
// cannot end before the window does: the estimate is the longest batch of this run so far, from its
// start to its verdict (steps, reboots, bake, health check). Before any batch has ended there is
// no estimate, and only the cutoff applies. Batches in flight finish; what was not started is
// skipped with the window as the reason, and the run ends `window closed` (not failed: nothing went
// wrong, and nothing is rolled back), its note saying how many targets were left and why.

import * as wf from '@temporalio/workflow';
import { now, type RunContext } from './context.js';
import type { RunPaths } from './paths.js';
import { scheduledStart } from './scheduled.js';
import type {
  BatchState,
  MaintenanceWindow,
  RolloutState,
  RunbookInput,
  RunStatus,
  WindowState,
} from './types.js';

const iso = (ms: number) => new Date(ms).toISOString();
const minutes = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? `${s / 60} min` : `${s} s`;
};

/** What is wrong with a window, in words; empty when nothing is. */
export function windowProblems(w: MaintenanceWindow): string[] {
  const out: string[] = [];
  if (!Number.isInteger(w.durationSeconds) || w.durationSeconds <= 0)
    out.push('maintenanceWindow.durationSeconds: a whole number of seconds > 0');
  const c = w.cutoffSeconds ?? 0;
  if (!Number.isInteger(c) || c < 0)
    out.push('maintenanceWindow.cutoffSeconds: a whole number of seconds ≥ 0');
  else if (c >= w.durationSeconds)
    out.push('maintenanceWindow.cutoffSeconds must be shorter than the window');
  return out;
}

/** The window of a run that begins (or was scheduled) at `fromMs`. */
export function windowFrom(w: MaintenanceWindow, fromMs: number): WindowState {
  const end = fromMs + w.durationSeconds * 1000;
  return { startsAt: iso(fromMs), endsAt: iso(end), cutoffAt: iso(end - (w.cutoffSeconds ?? 0) * 1000) };
}

/** The longest batch (or wave) that has ended in this run, in ms; undefined before any has. */
export function longestBatchMs(batches: BatchState[]): number | undefined {
  let longest: number | undefined;
  for (const b of batches)
    if (b.startedAt && b.endedAt) {
      const ms = Date.parse(b.endedAt) - Date.parse(b.startedAt);
      if (longest === undefined || ms > longest) longest = ms;
    }
  return longest;
}

/** Why a batch may not start at `nowMs` (undefined: it may). */
export function refusal(w: WindowState, nowMs: number, estimateMs: number | undefined): string | undefined {
  const end = Date.parse(w.endsAt);
  const cutoff = Date.parse(w.cutoffAt);
  if (nowMs >= cutoff)
    return cutoff === end
      ? `the maintenance window ended at ${w.endsAt}`
      : `the maintenance window ends at ${w.endsAt} and no batch starts after ${w.cutoffAt} (cutoff ${minutes(end - cutoff)})`;
  if (estimateMs !== undefined && nowMs + estimateMs > end)
    return `the maintenance window ends at ${w.endsAt}: the longest batch so far took ${minutes(estimateMs)}, so one starting at ${iso(nowMs)} would end after it`;
  return undefined;
}

/**
 * Gives a run its window when it starts (a continued run carries it in its state; the patch is
 * asked in paths.ts).
 */
export function openWindow(
  state: RolloutState,
  input: RunbookInput,
  paths: Pick<RunPaths, 'maintenanceWindow'>,
): void {
  const w = input.rollout.maintenanceWindow;
  if (input.resume || !w || !paths.maintenanceWindow) return;
  if (windowProblems(w).length > 0) return; // refused with the other options when the run plans
  state.window = windowFrom(w, scheduledStart() ?? wf.workflowInfo().startTime.getTime());
}

/** The shapes' question at each batch boundary. */
export class WindowGuard {
  constructor(private readonly run: RunContext) {}

  /** Whether a new batch (or wave) may start now; once refused, the window stays closed. */
  admits(): boolean {
    const { state } = this.run;
    const w = state.window;
    if (!w) return true;
    if (w.closedAt) return false;
    const why = refusal(w, Date.now(), longestBatchMs(state.batches));
    if (!why) return true;
    w.closedAt = now();
    w.closedBecause = why;
    this.run.changed();
    return false;
  }

  /** The reason given to targets left unstarted, when the window closed (else the default). */
  skipReason(): string | undefined {
    const w = this.run.state.window;
    return w?.closedAt ? `not started: ${w.closedBecause}` : undefined;
  }
}

/**
 * How a run that did not fail ended: `skipped` (a repeated fire), `window closed` (its note says
 * how many targets were left and why), or `succeeded`.
 */
export function settledStatus(s: RolloutState): RunStatus {
  if (s.status === 'skipped') return 'skipped';
  const w = s.window;
  if (!w?.closedAt) return 'succeeded';
  const targets = Object.values(s.targets);
  const why = `not started: ${w.closedBecause}`;
  const left = targets.filter((t) => t.phase === 'skipped' && t.reason === why);
  if (left.length === 0) return 'succeeded';
  s.note = `${w.closedBecause}: ${left.length} of ${targets.length} target(s) not started`;
  return 'window closed';
}
