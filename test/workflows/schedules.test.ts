// Runbook schedules on the real Temporal dev server, with tatd, agents and a worker: each overlap
// policy observed with a slow run (a fire while one runs); the DST rule on past transition days,
// by backfill (New York and Berlin: a fire in a skipped hour runs once right after the gap, a
// repeated hour once; a wildcard schedule runs by the clock); the next fire times `describe` shows
// across transitions; a maintenance window stopping a scheduled run, with the reason.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, type ScheduleHandle, type WorkflowHandle } from '@temporalio/client';
import { renderStatus } from '../../client/progress.js';
import type { Overlap, ScheduleParts } from '../../client/schedules/definition.js';
import { createSchedule } from '../../client/schedules/install.js';
import { describeSchedule } from '../../client/schedules/describe.js';
import { scheduleIdOf } from '../../client/schedules/ids.js';
import type { Timing } from '../../client/schedules/spec.js';
import { folds, gaps, wallDate, wallTime } from '../../tat/dst.js';
import { sharedTemporal, stopSharedTemporal } from '../../testkit/temporal.js';
import { waitFor } from '../../testkit/wait.js';
import { abortUpdate, progressQuery } from '../../workflows/engine/messages.js';
import type { RolloutOptions, RolloutState } from '../../workflows/engine/types.js';
import { REGION, startEngine, type Engine } from '../helpers/engine.js';

const QUEUE = 'schedules';
let e: Engine;

before(async () => {
  await sharedTemporal();
  e = await startEngine({ taskQueue: QUEUE, agents: 2 });
});
after(async () => {
  for await (const s of e?.client.schedule.list() ?? [])
    if (s.scheduleId.startsWith('tatflow-')) await e.client.schedule.getHandle(s.scheduleId).delete();
  await e?.stop();
  await stopSharedTemporal();
});

function parts(
  name: string,
  command: string,
  timing: Timing,
  o: { overlap?: Overlap; rollout?: Partial<RolloutOptions>; targets?: string[] } = {},
): ScheduleParts {
  return {
    def: {
      version: 1,
      name,
      runbook: 'rollingCommand',
      timing,
      overlap: o.overlap ?? 'skip',
      catchupWindowSeconds: 60,
    },
    taskQueue: QUEUE,
    input: {
      params: { command: { content: command } },
      rollout: {
        region: REGION,
        targets: { instanceIds: o.targets ?? [e.ids[0]!] },
        pollIntervalMs: 200,
        ...o.rollout,
      },
    },
  };
}

async function create(p: ScheduleParts, state: { paused?: boolean } = {}): Promise<ScheduleHandle> {
  return createSchedule(e.client, p, Date.now(), state);
}

/** A crontab that does not fire during a test (1 January, midnight): runs come from trigger() and backfill(). */
const QUIET: Timing = { when: { cron: '0 0 1 1 *' }, timezone: 'UTC' };

const info = async (h: ScheduleHandle) => {
  const d = await h.describe();
  return { ...d.info, buffered: Number(d.raw.info?.bufferSize ?? 0), overlap: d.policies.overlap };
};
const actions = async (h: ScheduleHandle) =>
  (await info(h)).recentActions.map((a) => a.action.workflow.workflowId);

let lastTrigger = 0;
/** Triggers a fire with the schedule's own policy, in a second of its own (a fire's run id ends in its second). */
async function fire(h: ScheduleHandle): Promise<void> {
  await waitFor(() => Math.floor(Date.now() / 1000) > lastTrigger, { what: 'the next second' });
  lastTrigger = Math.floor(Date.now() / 1000);
  await h.trigger((await info(h)).overlap);
}

/** The n-th run the schedule started (1-based), once its command runs on its target. */
async function nthRun(h: ScheduleHandle, n: number): Promise<WorkflowHandle> {
  const id = await waitFor(async () => (await actions(h))[n - 1], { what: `run ${n} of ${h.scheduleId}` });
  const run = e.client.workflow.getHandle(id);
  e.track('rollingCommand', run);
  await e.waitProgress(
    run,
    (s) => Object.values(s.targets).some((t) => t.phase === 'running' && t.invocationId),
    `run ${n} running its command`,
  );
  return run;
}

const statusOf = async (run: WorkflowHandle) => (await run.describe()).status.name;
const abort = (run: WorkflowHandle) =>
  run.executeUpdate(abortUpdate, { args: [{ by: 'test', comment: 'done with it' }] });
async function ended(run: WorkflowHandle): Promise<void> {
  await run.result().catch(() => undefined);
}

describe('overlap policies: a fire while a run is going', () => {
  const SLOW = 'sleep 120';

  test('skip: the fire starts nothing and is counted', async () => {
    const h = await create(parts('ov-skip', SLOW, QUIET, { overlap: 'skip' }));
    await fire(h);
    const first = await nthRun(h, 1);
    await fire(h);
    await waitFor(async () => (await info(h)).numActionsSkippedOverlap === 1, { what: 'the skip counted' });
    assert.deepEqual(await actions(h), [first.workflowId]);
    assert.equal(await statusOf(first), 'RUNNING');
    await abort(first);
    await ended(first);
  });

  test('buffer-one: one fire waits and starts when the run ends; a third is dropped', async () => {
    const h = await create(parts('ov-buffer-one', SLOW, QUIET, { overlap: 'buffer-one' }));
    await fire(h);
    const first = await nthRun(h, 1);
    await fire(h);
    await fire(h);
    await waitFor(
      async () => {
        const i = await info(h);
        return i.buffered === 1 && i.numActionsSkippedOverlap === 1;
      },
      { what: 'one fire buffered, one dropped' },
    );
    await abort(first);
    const second = await nthRun(h, 2);
    assert.equal(await statusOf(first), 'FAILED', 'the aborted run ended first');
    const i = await info(h);
    assert.equal(i.buffered, 0, 'nothing more waits');
    assert.equal(i.numActionsTaken, 2);
    await abort(second);
    await ended(second);
  });

  test('buffer-all: every fire waits its turn, one after the other', async () => {
    const h = await create(parts('ov-buffer-all', SLOW, QUIET, { overlap: 'buffer-all' }));
    await fire(h);
    const first = await nthRun(h, 1);
    await fire(h);
    await fire(h);
    await waitFor(async () => (await info(h)).buffered === 2, { what: 'two fires buffered' });
    await abort(first);
    const second = await nthRun(h, 2);
    assert.equal((await info(h)).buffered, 1);
    await abort(second);
    const third = await nthRun(h, 3);
    assert.equal((await info(h)).numActionsSkippedOverlap, 0);
    await abort(third);
    await ended(third);
  });

  test('cancel-other: the running run is cancelled (its command stopped, cleaned up), then the new one starts', async () => {
    const h = await create(parts('ov-cancel-other', SLOW, QUIET, { overlap: 'cancel-other' }));
    await fire(h);
    const first = await nthRun(h, 1);
    const invocation = (await first.query(progressQuery)).targets[e.ids[0]!]!.invocationId!;
    await fire(h);
    const second = await nthRun(h, 2);
    assert.equal(await statusOf(first), 'CANCELLED');
    const err = await first.result().then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(err instanceof WorkflowFailedError);
    // The cancelled run stopped its command on the target before it ended.
    const tasks = await e.tat.DescribeInvocationTasks({
      Filters: [{ Name: 'invocation-id', Values: [invocation] }],
    });
    assert.deepEqual(
      tasks.InvocationTaskSet!.map((t) => t.TaskStatus),
      ['TERMINATED'],
    );
    await abort(second);
    await ended(second);
  });

  test('terminate-other: the running run is terminated at once, the new one starts', async () => {
    const h = await create(parts('ov-terminate-other', SLOW, QUIET, { overlap: 'terminate-other' }));
    await fire(h);
    const first = await nthRun(h, 1);
    const invocation = (await first.query(progressQuery)).targets[e.ids[0]!]!.invocationId!;
    await fire(h);
    const second = await nthRun(h, 2);
    assert.equal(await statusOf(first), 'TERMINATED');
    // Termination skips the run's clean-up: its command goes on (docs/schedules.md says to prefer cancel-other).
    await e.tat.CancelInvocation({ InvocationId: invocation, InstanceIds: [e.ids[0]!] });
    await abort(second);
    await ended(second);
  });

  test('allow-all: the new run starts beside the running one', async () => {
    const h = await create(parts('ov-allow-all', SLOW, QUIET, { overlap: 'allow-all' }));
    await fire(h);
    const first = await nthRun(h, 1);
    await fire(h);
    const second = await nthRun(h, 2);
    assert.equal(await statusOf(first), 'RUNNING');
    assert.equal(await statusOf(second), 'RUNNING');
    await Promise.all([abort(first), abort(second)]);
    await Promise.all([ended(first), ended(second)]);
  });
});

describe('DST, on past transition days, by backfill', () => {
  const at = (iso: string) => new Date(iso);
  interface Case {
    name: string;
    cron: string;
    timezone: string;
    ranges: [string, string][];
    ran: string[];
    skipped: string[];
    jitterSeconds?: number;
  }
  const cases: Case[] = [
    {
      // 02:00-03:00 does not exist on 8 March: the 02:30 fire runs at 03:00 EDT.
      name: 'dst-ny-gap',
      cron: '30 2 * * *',
      timezone: 'America/New_York',
      ranges: [['2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z']],
      ran: ['2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
      skipped: [],
    },
    {
      // 01:00-02:00 happens twice on 1 November: the 01:30 fire runs at its first pass (EDT) only.
      // With jitter, which Temporal adds to its fire times (not to the runs' scheduled times).
      name: 'dst-ny-fold',
      jitterSeconds: 30,
      cron: '30 1 * * *',
      timezone: 'America/New_York',
      ranges: [['2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z']],
      ran: ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
      skipped: ['2026-11-01T06:30:00.000Z'],
    },
    {
      // Berlin skips 02:00-03:00 on 29 March and repeats it on 25 October, where Temporal fires
      // 02:30 once, at its second pass (02:30 CET): once is the rule, so that run runs.
      name: 'dst-berlin',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      ranges: [
        ['2026-03-27T23:00:00Z', '2026-03-30T22:00:00Z'],
        ['2026-10-23T22:00:00Z', '2026-10-26T23:00:00Z'],
      ],
      ran: [
        '2026-03-28T01:30:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:30:00.000Z',
        '2026-10-24T00:30:00.000Z',
        '2026-10-25T01:30:00.000Z',
        '2026-10-26T01:30:00.000Z',
      ],
      skipped: [],
    },
    {
      // A wildcard minute runs by the clock, as Temporal does: the repeated 01:00 and 01:30 both run.
      name: 'dst-ny-wildcard',
      cron: '*/30 1 * * *',
      timezone: 'America/New_York',
      ranges: [['2026-11-01T04:00:00Z', '2026-11-01T07:00:00Z']],
      ran: [
        '2026-11-01T05:00:00.000Z',
        '2026-11-01T05:30:00.000Z',
        '2026-11-01T06:00:00.000Z',
        '2026-11-01T06:30:00.000Z',
      ],
      skipped: [],
    },
  ];

  /** Every run of the schedule once all have ended, with its scheduled time and outcome. */
  async function closedRuns(c: Case) {
    const want = c.ran.length + c.skipped.length;
    return waitFor(
      async () => {
        const v = await describeSchedule(e.client, c.name, { runs: 50 });
        const runs = v.recentRuns.filter((r) => r.status !== 'unknown');
        return runs.length === want && runs.every((r) => r.closedAt) ? runs : undefined;
      },
      { what: `${want} runs of ${c.name} ended`, timeoutMs: 120_000, intervalMs: 500 },
    );
  }

  test('exactly one run per scheduled day, at the right instants (New York, Berlin); a wildcard runs by the clock', async () => {
    for (const c of cases) {
      // Paused, so no fire of today's joins the backfilled ones (backfills run while paused). The
      // start (2026) keeps the DST horizon (a year before the start) over these days, whenever this runs.
      const timing: Timing = {
        when: { cron: c.cron },
        timezone: c.timezone,
        start: '2026-01-01T00:00:00.000Z',
        ...(c.jitterSeconds ? { jitterSeconds: c.jitterSeconds } : {}),
      };
      const h = await create(parts(c.name, 'true', timing), { paused: true });
      // One request for all ranges: two backfills sent back to back can lose the first on this server.
      await h.backfill(
        c.ranges.map(([from, to]) => ({ start: at(from), end: at(to), overlap: 'ALLOW_ALL' as const })),
      );
    }
    for (const c of cases) {
      const runs = await closedRuns(c);
      const times = (status: string) =>
        runs
          .filter((r) => r.status === status)
          .map((r) => r.scheduledAt)
          .sort();
      assert.deepEqual(times('succeeded'), c.ran, `${c.name}: the runs that ran`);
      assert.deepEqual(times('skipped'), c.skipped, `${c.name}: the runs that skipped`);
      for (const r of runs.filter((x) => x.status === 'skipped')) {
        assert.match(
          r.note!,
          /^the fire at .* repeats the wall time of the fire at .* \(clocks went back in .*\); a fixed-time job runs once$/,
        );
        const state: RolloutState = await e.client.workflow.getHandle(r.runId).result();
        assert.equal(state.status, 'skipped');
        assert.deepEqual(state.targets, {}, 'a skipped fire plans nothing');
        assert.equal(state.schedule?.id, scheduleIdOf(c.name));
        e.track('rollingCommand', e.client.workflow.getHandle(r.runId));
      }
      const one = runs.find((r) => r.status === 'succeeded')!;
      e.track('rollingCommand', e.client.workflow.getHandle(one.runId));
      const state: RolloutState = await e.client.workflow.getHandle(one.runId).result();
      assert.equal(state.schedule?.scheduledAt, one.scheduledAt, 'the run records the fire it is');
    }
  });

  test('describe: the next 10 fire times in the zone, the repeated hour once, the gap fire after the gap', async () => {
    const NY = 'America/New_York';
    const soon = [Date.now(), Date.now() + 3 * 365 * 24 * 3600_000] as const;
    // Sundays in November at 01:30: the first Sunday of November is the day New York's clocks go back.
    await create(parts('next-fold', 'true', { when: { cron: '30 1 * 11 0' }, timezone: NY }), {
      paused: true,
    });
    const fold = await describeSchedule(e.client, 'next-fold');
    const locals = fold.nextFireTimes.map((f) => f.local);
    assert.equal(locals.length, 10, locals.join(', '));
    assert.equal(
      new Set(locals.map((l) => l.slice(0, 16))).size,
      10,
      `each wall time once: ${locals.join(', ')}`,
    );
    const foldDay = wallDate(wallTime(NY, folds(NY, ...soon)[0]!.at));
    assert.ok(locals.includes(`${foldDay} 01:30:00 EDT`), locals.join(', '));
    assert.ok(!locals.includes(`${foldDay} 01:30:00 EST`), 'the second pass is not a fire');
    // Sundays in March at 02:30: the second Sunday of March has no 02:30; that fire is at 03:00.
    await create(parts('next-gap', 'true', { when: { cron: '30 2 * 3 0' }, timezone: NY }), { paused: true });
    const g = (await describeSchedule(e.client, 'next-gap')).nextFireTimes.map((f) => f.local);
    const gapDay = wallDate(wallTime(NY, gaps(NY, ...soon)[0]!.at));
    assert.ok(g.includes(`${gapDay} 03:00:00 EDT`), g.join(', '));
    assert.ok(!g.some((l) => l.startsWith(gapDay) && l.includes('02:30')), g.join(', '));
  });
});

test('a maintenance window stops a scheduled run: batches in flight finish, the rest are left with the reason', async () => {
  const h = await create(
    parts('window', 'sleep 8', QUIET, {
      targets: e.ids,
      rollout: {
        shape: { kind: 'batches', batches: [1] },
        maintenanceWindow: { durationSeconds: 12, cutoffSeconds: 5 },
      },
    }),
  );
  await fire(h);
  const run = e.client.workflow.getHandle(
    await waitFor(async () => (await actions(h))[0], { what: 'the run' }),
  );
  e.track('rollingCommand', run);
  // Batch 1 starts within a second or two of the fire and takes 8 s: batch 2 would start after the cutoff (7 s).
  const s: RolloutState = await run.result();
  assert.equal(s.status, 'window closed');
  assert.equal(Object.values(s.targets).filter((t) => t.outcome === 'succeeded').length, 1);
  assert.match(s.window!.closedBecause!, /no batch starts after .* \(cutoff 5 s\)/);
  assert.match(s.note!, /\(cutoff 5 s\): 1 of 2 target\(s\) not started$/);
  assert.equal(
    Date.parse(s.window!.startsAt),
    Date.parse(s.schedule!.scheduledAt),
    'the window starts at the fire',
  );
  const text = renderStatus(run.workflowId, s);
  assert.match(text, /│ status\s+│ window closed/);
  assert.match(
    text,
    /│ window\s+│ .* no batch starts after .*; closed at .*: the maintenance window ends at/,
  );
  assert.match(text, /│ schedule\s+│ tatflow-window: the fire of /);
  const v = await waitFor(
    async () => {
      const d = await describeSchedule(e.client, 'window');
      return d.recentRuns[0]?.status === 'window closed' ? d : undefined;
    },
    { what: 'describe to show the run' },
  );
  assert.match(v.recentRuns[0]!.note!, /1 of 2 target\(s\) not started/);
  assert.deepEqual(v.recentRuns[0]!.targets, { total: 2, succeeded: 1, unsuccessful: 0, notStarted: 1 });
});
