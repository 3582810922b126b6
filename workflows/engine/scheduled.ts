// Runs a tatflow schedule starts (docs/schedules.md). Such a run records which schedule started it
// and the time the Schedule meant it for (Temporal's TemporalScheduledStartTime), so `tatflow
// status` shows it; a fire that repeats a wall time the schedule already fired at (a fixed-time
// schedule, clocks went back: the schedule's input lists those fires) ends at once as `skipped`, so
// the job runs once that day, as in Vixie cron; and when the run ends it leaves its outcome in its
// memo, which `tatflow schedule describe` reads from Temporal's visibility without a worker. The
// decision reads only the run's input and start attributes, both in its history: no zone data is
// read in workflow code.

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { RunPaths } from './paths.js';
import type { RolloutState, RunbookInput } from './types.js';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** The memo key a scheduled run's outcome goes under. */
export const RUN_MEMO = 'tatflowRun';

/** What a scheduled run leaves in its memo when it ends. */
export interface RunMemo {
  status: RolloutState['status'];
  reason?: string;
  note?: string;
  scheduledAt: string;
  endedAt?: string;
  targets: number;
  succeeded: number;
  /** Ended in another outcome than success (failed, timed out, cancelled, undeliverable …). */
  unsuccessful: number;
  notStarted: number;
}

/** The time the Schedule meant this run for (epoch ms), or undefined when no Schedule started it. */
export function scheduledStart(): number | undefined {
  return wf.workflowInfo().typedSearchAttributes.get(SCHEDULED_START)?.getTime();
}

export class ScheduledRun {
  /** This run records its schedule (a schedule started it, on an engine with the patch). */
  private readonly on: boolean;

  constructor(
    private readonly input: RunbookInput,
    private readonly state: RolloutState,
    paths: Pick<RunPaths, 'scheduledRuns'>,
  ) {
    // A continued run carries what its first run recorded (the patch is asked in paths.ts).
    this.on = input.resume ? !!state.schedule : paths.scheduledRuns;
    if (this.on && !input.resume) {
      const ref = input.schedule!;
      const at = scheduledStart() ?? wf.workflowInfo().startTime.getTime();
      state.schedule = { id: ref.id, timezone: ref.timezone, scheduledAt: new Date(at).toISOString() };
    }
  }

  /** True when this fire repeats a wall time the schedule fired at: the run is `skipped`, saying why. */
  skipsRepeatedFire(): boolean {
    if (!this.on || this.input.resume) return false;
    const at = Date.parse(this.state.schedule!.scheduledAt);
    const repeat = this.input.schedule?.repeats?.find((r) => Date.parse(r.at) === at);
    if (!repeat) return false;
    this.state.status = 'skipped';
    this.state.note =
      `the fire at ${repeat.at} repeats the wall time of the fire at ${repeat.first} ` +
      `(clocks went back in ${this.state.schedule!.timezone}); a fixed-time job runs once`;
    return true;
  }

  /** Leaves the run's outcome in its memo (the end of a run, whatever the end). */
  record(): void {
    if (!this.on) return;
    const s = this.state;
    const targets = Object.values(s.targets);
    const memo: RunMemo = {
      status: s.status,
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.note ? { note: s.note } : {}),
      scheduledAt: s.schedule!.scheduledAt,
      ...(s.endedAt ? { endedAt: s.endedAt } : {}),
      targets: targets.length,
      succeeded: targets.filter((t) => t.outcome === 'succeeded').length,
      unsuccessful: targets.filter((t) => t.outcome && t.outcome !== 'succeeded').length,
      notStarted: targets.filter((t) => t.phase === 'skipped' || t.phase === 'pending').length,
    };
    wf.upsertMemo({ [RUN_MEMO]: memo });
  }
}
