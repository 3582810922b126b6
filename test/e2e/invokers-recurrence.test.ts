// Invokers over real minutes (the slow ones, kept in this one file): a `* * * * *` invoker fires on
// two consecutive minutes while, between them, tatd is stopped and started again and then the
// Temporal server is; a crontab naming a Beijing-time minute fires at that minute; a deleted
// invoker stops. The restarts lose no fire: one due while tatd was down is caught up within the
// catch-up window (15 s here) and one past it is recorded as skipped, and the same for Temporal
// being down, whose outage tatd logs once while its API keeps answering and committing.
// Takes one to two and a half minutes (the first minute boundary is up to a minute away).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Connection, ScheduleClient, ScheduleNotFoundError } from '@temporalio/client';
import { startTemporalDevServer, type TemporalDevServer } from '../../temporal/dev-server.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64, outputOf, waitFinal } from '../helpers/invocations.js';
import { client, DEFAULT_ACCOUNT, startTatd, type Tatd } from '../../testkit/tatd.js';
import { sleep, stays, waitFor } from '../../testkit/wait.js';

const APPID = DEFAULT_ACCOUNT.appId;
const CATCH_UP_MS = 15_000;
const MINUTE = 60_000;
const dir = mkdtempSync(join(tmpdir(), 'tatflow-invokers-'));
const dbFile = join(dir, 'temporal.sqlite');

let temporal: TemporalDevServer;
let port: number;
let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];
let ids: string[];
let cmd: string;
/** The first minute boundary the every-minute invokers fire at. */
let m1 = 0;
const inv = { everyMinute: '', deleted: '', beijing: '' };

const apiTime = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
const wholeSecondsAhead = (ms: number) => Math.ceil((Date.now() + ms) / 1000) * 1000;
const scheduleId = (id: string) => `tatd-${APPID}-ap-guangzhou-${id}`;

async function records(id: string) {
  return (await tat.DescribeInvokerRecords({ InvokerIds: [id], Limit: 100 })).InvokerRecordSet!;
}

function recordAt(id: string, at: number, timeoutMs: number) {
  return waitFor(async () => (await records(id)).find((r) => r.InvokeTime === apiTime(at)), {
    timeoutMs,
    what: `the record of ${id} at ${apiTime(at)}`,
  });
}

async function withSchedules<T>(fn: (s: ScheduleClient) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: temporal.address });
  try {
    return await fn(new ScheduleClient({ connection }));
  } finally {
    await connection.close();
  }
}

async function scheduleExists(id: string): Promise<boolean> {
  return withSchedules(async (s) => {
    try {
      await s.getHandle(scheduleId(id)).describe();
      return true;
    } catch (e) {
      if (e instanceof ScheduleNotFoundError) return false;
      throw e;
    }
  });
}

function once(name: string, at: number): Promise<string> {
  return tat
    .CreateInvoker({
      Name: name,
      Type: 'SCHEDULE',
      CommandId: cmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: { Policy: 'ONCE', InvokeTime: new Date(at).toISOString() },
    })
    .then((r) => r.InvokerId!);
}

const logged = (msg: string) => tatd.logs().filter((l) => l.msg === msg).length;
const unreachable = () => tatd.logs().filter((l) => String(l.msg).startsWith('Temporal unreachable'));

/** Invocations of the test command with one task, on `instanceId`: the deleted invoker's fires. */
async function aloneOn(instanceId: string): Promise<number> {
  const r = await tat.DescribeInvocations({ Filters: [{ Name: 'command-id', Values: [cmd] }], Limit: 100 });
  return r.InvocationSet!.filter(
    (i) =>
      i.InvocationTaskBasicInfoSet!.length === 1 &&
      i.InvocationTaskBasicInfoSet![0]!.InstanceId === instanceId,
  ).length;
}

before(async () => {
  temporal = await startTemporalDevServer({ headless: true, dbFile });
  port = Number(temporal.address.split(':')[1]);
  tatd = await startTatd({
    openEnrollment: true,
    config: {
      temporalAddress: temporal.address,
      timings: { invokerCatchUpMs: CATCH_UP_MS, invokerHealIntervalMs: 5_000 },
    },
  });
  tat = client(tatd, DEFAULT_ACCOUNT);
  // Agents retry every 3 s at most (the least they take), so they are back soon after tatd restarts.
  agents = ['minutes-a', 'minutes-b'].map((machineId) =>
    startAgent(tatd.url, { machineId, account: APPID, maxBackoffSeconds: 3 }),
  );
  ids = agents.map((a) => a.instanceId);
  await waitAgents(tat, ids);
  cmd = (await tat.CreateCommand({ CommandName: 'minutes', Content: b64('echo "ran on $(hostname)"') }))
    .CommandId!;
});

after(async () => {
  await Promise.all((agents ?? []).map((a) => a.stop()));
  await tatd?.stop();
  await temporal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('over real minutes', () => {
  test('at the first minute: every minute, and the minute named in Beijing time', async () => {
    // 10 s for tatd to start its worker (it bundles the workflow code) before the first fire.
    m1 = Math.ceil((Date.now() + 10_000) / MINUTE) * MINUTE;
    const beijing = new Date(m1 + 8 * 3_600_000);
    const create = (Name: string, Recurrence: string, InstanceIds: string[]) =>
      tat
        .CreateInvoker({
          Name,
          Type: 'SCHEDULE',
          CommandId: cmd,
          InstanceIds,
          ScheduleSettings: { Policy: 'RECURRENCE', Recurrence },
        })
        .then((r) => r.InvokerId!);
    inv.everyMinute = await create('every minute', '* * * * *', ids);
    inv.deleted = await create('every minute, deleted after one', '* * * * *', [ids[1]!]);
    inv.beijing = await create(
      'one Beijing minute',
      `${beijing.getUTCMinutes()} ${beijing.getUTCHours()} * * *`,
      [ids[0]!],
    );
    const v = (await tat.DescribeInvokers({ InvokerIds: [inv.beijing] })).InvokerSet![0]!;
    assert.equal(v.ScheduleSettings!.InvokeTime, apiTime(m1), 'its next run is the first minute');

    const first = await recordAt(inv.everyMinute, m1, m1 - Date.now() + 30_000);
    assert.equal(first.Reason, 'start an invocation at scheduled time.');
    const { invocation, tasks } = await waitFinal(tat, first.InvocationId!);
    assert.equal(invocation.InvocationSource, 'INVOKER');
    assert.deepEqual(tasks.map((t) => t.InstanceId).sort(), [...ids].sort());
    for (const t of tasks) {
      assert.equal(t.TaskStatus, 'SUCCESS');
      assert.match(outputOf(t), /^ran on /);
      assert.ok(Date.parse(t.TaskResult!.ExecStartTime!) >= m1);
    }
    const bj = await recordAt(inv.beijing, m1, 10_000);
    assert.match(bj.InvocationId!, /^inv-/);
    await recordAt(inv.deleted, m1, 10_000);
    await tat.DeleteInvoker({ InvokerId: inv.deleted });
  });

  test('tatd stopped between fires: a fire due meanwhile is caught up within the window, one past it recorded as skipped', async () => {
    const lateAt = wholeSecondsAhead(5_000);
    const caughtAt = lateAt + 15_000;
    const late = await once('due while tatd is down, past the window', lateAt);
    const caught = await once('due while tatd is down, caught up', caughtAt);
    await waitFor(async () => (await scheduleExists(late)) && (await scheduleExists(caught)), {
      what: 'their Schedules',
    });
    await tatd.stop();
    assert.ok(Date.now() < lateAt, 'tatd was down before the first was due');
    // Back 2 s after the first is out of its window, 2 s after the second was due.
    await sleep(Math.max(0, lateAt + CATCH_UP_MS + 2_000 - Date.now()));
    assert.ok(Date.now() > caughtAt, 'the second was due while tatd was down');
    await tatd.restart();

    const skipped = await recordAt(late, lateAt, 30_000);
    assert.equal(skipped.Result, 'FAILED');
    assert.equal(skipped.InvocationId, '');
    assert.match(skipped.Reason!, /^skipped: not started within the 15 s catch-up window/);
    const started = await recordAt(caught, caughtAt, CATCH_UP_MS + 10_000);
    const { invocation } = await waitFinal(tat, started.InvocationId!);
    assert.equal(invocation.InvocationStatus, 'SUCCESS');
    assert.ok(Date.parse(invocation.CreatedTime!) - caughtAt <= CATCH_UP_MS, 'within the catch-up window');
  });

  test('Temporal stopped between fires: the API answers and commits, the outage is logged once, fires caught up or recorded as skipped', async () => {
    await waitAgents(tat, ids);
    const cAt = wholeSecondsAhead(6_000);
    const late = await once('due while Temporal is down, past the window', cAt);
    const caught = await once('due while Temporal is down, caught up', cAt + 18_000);
    await waitFor(async () => (await scheduleExists(late)) && (await scheduleExists(caught)), {
      what: 'their Schedules',
    });
    await temporal.stop();
    const downAt = Date.now();
    assert.ok(downAt < cAt, 'Temporal was down before the first was due');

    // Writes commit and reads answer while Temporal is away; the first failed call is noticed.
    await tat.DisableInvoker({ InvokerId: inv.beijing });
    const made = await tat.CreateInvoker({
      Name: 'made while Temporal is down',
      Type: 'SCHEDULE',
      CommandId: cmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '0 4 * * *' },
    });
    const listed = await tat.DescribeInvokers({ Limit: 100 });
    assert.ok(listed.InvokerSet!.some((v) => v.InvokerId === made.InvokerId));
    await waitFor(() => unreachable().length === 1, { what: 'the outage logged' });

    // Back 2 s after the first is out of its window (and tatd's 5 s margin), 3 s after the second.
    await sleep(Math.max(0, cAt + CATCH_UP_MS + 7_000 - Date.now()));
    temporal = await startTemporalDevServer({ headless: true, dbFile, port });
    const outageMs = Date.now() - downAt;

    const started = await recordAt(caught, cAt + 18_000, CATCH_UP_MS + 15_000);
    assert.equal((await waitFinal(tat, started.InvocationId!)).invocation.InvocationStatus, 'SUCCESS');
    const skipped = await recordAt(late, cAt, 15_000);
    assert.equal(skipped.Result, 'FAILED');
    assert.match(skipped.Reason!, /^skipped: /);
    // What was written while Temporal was away reached it.
    await waitFor(
      () =>
        withSchedules(async (s) => {
          const beijing = await s.getHandle(scheduleId(inv.beijing)).describe();
          return beijing.state.paused && (await scheduleExists(made.InvokerId!));
        }),
      { what: 'the disabled invoker paused and the new one scheduled' },
    );
    assert.equal(
      unreachable().length,
      1,
      `one line for an outage of ${Math.round(outageMs / 1000)} s: ${JSON.stringify(
        tatd.logs().filter((l) => /Temporal (unreachable|reachable)/.test(String(l.msg))),
      )}`,
    );
    await waitFor(() => logged('Temporal reachable again') === 1, { what: 'the end of the outage logged' });
    assert.equal(
      tatd.lines.filter((l) => /retried \d+ times|tcp connect error/.test(l)).length,
      0,
      'no per-retry lines from the SDK',
    );
  });

  test('at the next minute: the every-minute invoker fires again, none lost; the deleted one did not', async () => {
    const m2 = m1 + MINUTE;
    const second = await recordAt(inv.everyMinute, m2, m2 - Date.now() + 30_000);
    assert.equal((await waitFinal(tat, second.InvocationId!)).invocation.InvocationStatus, 'SUCCESS');
    assert.deepEqual(
      (await records(inv.everyMinute)).map((r) => r.InvokeTime),
      [apiTime(m2), apiTime(m1)],
    );
    // The deleted one (the only invoker on the second instance alone) ran at the first minute
    // only. It would have fired at the same instant as this one; past the catch-up window nothing
    // can start that fire any more, so watching until then (and 2 s beyond) covers it.
    await stays(async () => (await aloneOn(ids[1]!)) === 1, {
      forMs: Math.max(0, m2 + CATCH_UP_MS + 2_000 - Date.now()),
      what: 'one invocation of the deleted invoker',
      why: 'until its second fire is past the catch-up window',
    });
    assert.equal(await scheduleExists(inv.deleted), false);
  });
});
