// Putting a schedule into Temporal (create, update), with the last part of the DST rule: the fires
// that repeat a wall time. Whether Temporal fires a repeated wall time twice depends on the zone (it
// resolves an ambiguous time as Go does: New York's 01:30 fires at 01:30 EDT and 01:30 EST, Berlin's
// 02:30 only at 02:30 CET), so tatflow does not guess: once the spec is in Temporal, it asks for the
// fire times around each fold the schedule fires in (ListScheduleMatchingTimes, Temporal's own
// matching) and lists each fire whose wall time fired a fold earlier; the runs of those fires end at
// once as skipped. Temporal's matching times include the jitter (its runs' scheduled times do not),
// so the list is read while the spec has none. A schedule that needs this is created paused, without
// jitter, and given its list, its jitter and its pause state (as asked) by one update after; so no
// fire runs without the list.

import type { Client, ScheduleDescription, ScheduleHandle } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import type { Fold } from '../../tat/dst.js';
import type { RepeatedFire } from '../../workflows/engine/types.js';
import { scheduleOptions, type ScheduleParts } from './definition.js';
import { scheduleIdOf } from './ids.js';
import { compileTiming } from './spec.js';

/** The fires, around the given folds, that repeat the wall time of a fire one fold earlier. */
export async function repeatedFires(
  client: Client,
  scheduleId: string,
  folds: Fold[],
): Promise<RepeatedFire[]> {
  const out: RepeatedFire[] = [];
  for (const f of folds) {
    const r: temporal.api.workflowservice.v1.IListScheduleMatchingTimesResponse =
      await client.workflowService.listScheduleMatchingTimes({
        namespace: client.options.namespace,
        scheduleId,
        startTime: msToTs(f.at - f.ms - 1000),
        endTime: msToTs(f.at + f.ms),
      });
    const times = new Set((r.startTime ?? []).map((t) => tsToMs(t)));
    for (const t of times)
      if (t >= f.at && t < f.at + f.ms && times.has(t - f.ms))
        out.push({ at: new Date(t).toISOString(), first: new Date(t - f.ms).toISOString() });
  }
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

type State = { paused?: boolean; note?: string };

const folds = (p: ScheduleParts, nowMs: number) =>
  compileTiming(p.def.timing, scheduleIdOf(p.def.name), nowMs).folds;

/** The parts without jitter: while the repeated fires are read. */
function unjittered(p: ScheduleParts): ScheduleParts {
  const { jitterSeconds: _j, ...timing } = p.def.timing;
  void _j;
  return { ...p, def: { ...p.def, timing } };
}

/** The update that gives the Schedule these parts, keeping its pause state unless `state` says. */
function updateTo(p: ScheduleParts, nowMs: number, repeats: RepeatedFire[], state?: State) {
  const o = scheduleOptions(p, nowMs, {}, repeats);
  return (prev: ScheduleDescription) => ({
    spec: o.spec,
    action: o.action,
    policies: o.policies!,
    state: state
      ? { paused: state.paused ?? false, ...(state.note ? { note: state.note } : {}) }
      : {
          paused: prev.state.paused,
          ...(prev.state.note ? { note: prev.state.note } : {}),
          ...(prev.state.remainingActions !== undefined
            ? { remainingActions: prev.state.remainingActions }
            : {}),
        },
  });
}

/** Creates the schedule; ScheduleAlreadyRunning when one of its name exists. */
export async function createSchedule(
  client: Client,
  p: ScheduleParts,
  nowMs: number,
  state: State = {},
): Promise<ScheduleHandle> {
  const f = folds(p, nowMs);
  if (f.length === 0) return client.schedule.create(scheduleOptions(p, nowMs, state));
  const handle = await client.schedule.create(
    scheduleOptions(unjittered(p), nowMs, {
      paused: true,
      note: 'being created by tatflow schedule create (if this stays, run `tatflow schedule update` on it)',
    }),
  );
  const repeats = await repeatedFires(client, handle.scheduleId, f);
  await handle.update(updateTo(p, nowMs, repeats, state));
  return handle;
}

/**
 * Gives an existing schedule these parts (its pause state and note stay). `had` are its repeated
 * fires so far: right while the timing is unchanged, they stand until the new list is read.
 */
export async function updateSchedule(
  client: Client,
  p: ScheduleParts,
  nowMs: number,
  had: RepeatedFire[] = [],
): Promise<void> {
  const handle = client.schedule.getHandle(scheduleIdOf(p.def.name));
  const f = folds(p, nowMs);
  if (f.length === 0) return handle.update(updateTo(p, nowMs, []));
  // The spec first, without jitter (the repeated fires can only be read from it), then the list.
  await handle.update(updateTo(unjittered(p), nowMs, had));
  await handle.update(updateTo(p, nowMs, await repeatedFires(client, handle.scheduleId, f)));
}
