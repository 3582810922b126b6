// tatd's invokers on the Temporal side, looked at through Temporal's own client: the reconciler
// makes each invoker's Schedule what the database says (created, updated, paused, unpaused,
// deleted), the calendars it writes fire exactly when cron-parser says the crontab does, drift is
// healed at start-up (a missing Schedule made, an orphan with tatd's prefix removed, everyone
// else's Schedules left alone), a tatd with no invokers never starts or contacts Temporal, and one
// without a Temporal address runs its own dev server, started when needed and stopped with it
// (even when tatd is SIGKILLed). Fires, outages and restarts: test/e2e/invokers-recurrence.test.ts.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Connection,
  ScheduleClient,
  ScheduleNotFoundError,
  type ScheduleDescription,
} from '@temporalio/client';
import { nextFireTime, parseCrontab } from '../../tat/cron.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64 } from '../helpers/invocations.js';
import { client, DEFAULT_ACCOUNT, startTatd, type Tatd } from '../../testkit/tatd.js';
import { sharedTemporal, stopSharedTemporal, type SharedTemporal } from '../../testkit/temporal.js';
import { waitFor } from '../../testkit/wait.js';

const APPID = DEFAULT_ACCOUNT.appId;
const SH = 'Asia/Shanghai';
const sid = (id: string, region = 'ap-guangzhou', account = APPID) => `tatd-${account}-${region}-${id}`;

let temporal: SharedTemporal;
let schedules: ScheduleClient;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  temporal = await sharedTemporal();
  schedules = new ScheduleClient({ connection: temporal.connection });
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopSharedTemporal();
});

interface Fleet {
  tatd: Tatd;
  tat: TatClient;
  agent: AgentProcess;
  cmd: string;
}

/** tatd with open enrollment, one agent online and one command. */
async function fleet(name: string, config: object): Promise<Fleet> {
  const tatd = await startTatd({
    openEnrollment: true,
    config,
  });
  const agent = startAgent(tatd.url, { machineId: `rec-${name}`, account: APPID });
  cleanups.push(async () => {
    await agent.stop();
    await tatd.stop();
  });
  const tat = client(tatd, DEFAULT_ACCOUNT);
  await waitAgents(tat, [agent.instanceId]);
  const cmd = (await tat.CreateCommand({ CommandName: `rec-${name}`, Content: b64('true') })).CommandId!;
  return { tatd, tat, agent, cmd };
}

async function describeOrUndefined(s: ScheduleClient, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await s.getHandle(id).describe();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) return undefined;
    throw e;
  }
}

/** Waits until the Schedule `id` satisfies `ok` (undefined: it does not exist). */
function waitSchedule(
  s: ScheduleClient,
  id: string,
  ok: (d: ScheduleDescription | undefined) => boolean,
  what: string,
): Promise<ScheduleDescription | undefined> {
  return waitFor(
    async () => {
      const d = await describeOrUndefined(s, id);
      return ok(d) ? { d } : undefined;
    },
    { timeoutMs: 20_000, what },
  ).then((r) => r.d);
}

const argsOf = (d: ScheduleDescription | undefined) =>
  d?.action.args?.[0] as { revision: number } | undefined;

describe('Schedules follow the database', () => {
  let f: Fleet;
  before(async () => {
    f = await fleet('follow', { temporalAddress: temporal.address, timings: { invokerCatchUpMs: 10_000 } });
  });

  const create = (Recurrence: string) =>
    f.tat
      .CreateInvoker({
        Name: `follow ${Recurrence}`,
        Type: 'SCHEDULE',
        CommandId: f.cmd,
        InstanceIds: [f.agent.instanceId],
        ScheduleSettings: { Policy: 'RECURRENCE', Recurrence },
      })
      .then((r) => r.InvokerId!);

  test('created with calendars (never a cron string), modified, paused, unpaused, deleted', async () => {
    const id = await create('0 0 1 * 1');
    let d = (await waitSchedule(schedules, sid(id), Boolean, 'the Schedule created'))!;
    assert.equal(d.spec.timezone, SH);
    assert.equal(d.spec.calendars!.length, 2, 'day-of-month OR day-of-week: two calendars');
    assert.deepEqual(
      d.spec.calendars!.map((c) => [c.dayOfMonth, c.dayOfWeek]),
      [
        [[{ start: 1, end: 1, step: 1 }], [{ start: 'SUNDAY', end: 'SATURDAY', step: 1 }]],
        [[{ start: 1, end: 31, step: 1 }], [{ start: 'MONDAY', end: 'MONDAY', step: 1 }]],
      ],
    );
    assert.equal(d.action.type, 'startWorkflow');
    assert.equal(d.action.workflowType, 'tatdInvoker');
    assert.equal(d.action.taskQueue, 'tatd-invokers');
    assert.equal(d.action.workflowId, sid(id), 'fires are named after the invoker in the Temporal UI');
    assert.deepEqual(d.action.args, [{ account: APPID, region: 'ap-guangzhou', invokerId: id, revision: 1 }]);
    assert.equal(d.policies.overlap, 'ALLOW_ALL');
    assert.equal(d.policies.catchupWindow, 10_000);
    assert.equal(d.state.paused, false);

    await f.tat.ModifyInvoker({
      InvokerId: id,
      ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '15 10 * * *' },
    });
    d = (await waitSchedule(schedules, sid(id), (x) => argsOf(x)?.revision === 2, 'the Schedule updated'))!;
    assert.equal(d.spec.calendars!.length, 1);
    assert.equal(
      d.info.nextActionTimes[0]!.getTime(),
      nextFireTime(parseCrontab('15 10 * * *'), SH, Date.now()),
      '10:15 Beijing time',
    );
    await f.tat.DisableInvoker({ InvokerId: id });
    d = (await waitSchedule(schedules, sid(id), (x) => x?.state.paused === true, 'the Schedule paused'))!;
    assert.match(d.state.note ?? '', /disabled in tatd/);
    await f.tat.EnableInvoker({ InvokerId: id });
    await waitSchedule(schedules, sid(id), (x) => x?.state.paused === false, 'the Schedule unpaused');
    await f.tat.DeleteInvoker({ InvokerId: id });
    await waitSchedule(schedules, sid(id), (x) => x === undefined, 'the Schedule deleted');
  });

  test('the calendars fire exactly when cron-parser says the crontab does (Temporal nextActionTimes)', async () => {
    const crontabs = [
      '0 0 1 * 1',
      '*/15 9-18 * * 1-5',
      '30 2 * JAN,JUL MON-FRI',
      '0 0 */10 * 0',
      '5 4 29 2 *',
      '0 12 * * 7',
      '59 23 31 * *',
    ];
    for (const c of crontabs) {
      const crontab = parseCrontab(c);
      const first = nextFireTime(crontab, SH, Date.now());
      const id = await create(c);
      const d = (await waitSchedule(schedules, sid(id), Boolean, `the Schedule of ${c}`))!;
      const times = d.info.nextActionTimes.map((t) => t.getTime());
      assert.ok(times.length >= 5, `${c}: ${times.length} next times`);
      // The first is the crontab's next fire (or the one after, had that passed meanwhile) …
      assert.ok(times[0] === first || times[0] === nextFireTime(crontab, SH, first), c);
      // … and every later one is the crontab's next after the one before: none added, none missed.
      let t = times[0]! - 1;
      for (const x of times)
        assert.equal(x, (t = nextFireTime(crontab, SH, t)), `${c}: ${new Date(x).toISOString()}`);
      await f.tat.DeleteInvoker({ InvokerId: id });
    }
  });

  test('a ONCE invoker is one calendar pinned to its second, year included', async () => {
    const at = Math.ceil((Date.now() + 3_600_000) / 1000) * 1000;
    const { InvokerId } = await f.tat.CreateInvoker({
      Name: 'once',
      Type: 'SCHEDULE',
      CommandId: f.cmd,
      InstanceIds: [f.agent.instanceId],
      ScheduleSettings: { Policy: 'ONCE', InvokeTime: new Date(at).toISOString() },
    });
    const d = (await waitSchedule(schedules, sid(InvokerId!), Boolean, 'the ONCE Schedule'))!;
    assert.deepEqual(
      d.info.nextActionTimes.map((x) => x.getTime()),
      [at],
    );
    assert.deepEqual(d.spec.calendars![0]!.year, [
      { start: new Date(at).getUTCFullYear(), end: new Date(at).getUTCFullYear(), step: 1 },
    ]);
    await f.tat.DeleteInvoker({ InvokerId: InvokerId! });
  });
});

describe('drift healed at start-up', () => {
  test('a missing Schedule is made, a wrongly unpaused one paused, an orphan with tatd’s prefix removed; other Schedules untouched', async () => {
    const f = await fleet('drift', { temporalAddress: temporal.address });
    const create = (name: string) =>
      f.tat
        .CreateInvoker({
          Name: name,
          Type: 'SCHEDULE',
          CommandId: f.cmd,
          InstanceIds: [f.agent.instanceId],
          ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '0 4 * * *' },
        })
        .then((r) => r.InvokerId!);
    const missing = await create('missing');
    const disabled = await create('disabled');
    await f.tat.DisableInvoker({ InvokerId: disabled });
    await waitSchedule(schedules, sid(disabled), (d) => d?.state.paused === true, 'disabled paused');
    await waitSchedule(schedules, sid(missing), Boolean, 'missing created');
    // (tatd's SIGTERM waits for connected agents: issue 8. Not needed here.)
    await f.agent.stop();
    await f.tatd.stop();

    // While tatd is down, Temporal's side drifts.
    await schedules.getHandle(sid(missing)).delete();
    await schedules.getHandle(sid(disabled)).unpause('someone unpaused it');
    const paused = { paused: true };
    const other = (scheduleId: string) =>
      schedules.create({
        scheduleId,
        spec: { calendars: [{ hour: 3 }] },
        action: { type: 'startWorkflow', workflowType: 'somethingElse', taskQueue: 'someone-else' },
        state: paused,
      });
    const orphan = sid('ivk-zzzzzzzz');
    const foreign = [
      sid('ivk-aaaaaaaa', 'ap-guangzhou', '9999999999'), // an account this tatd does not serve
      sid('ivk-bbbbbbbb', 'eu-moon-1'), // a region it does not serve
      'nightly-backup', // not tatd's prefix at all
    ];
    for (const id of [orphan, ...foreign]) await other(id);

    await f.tatd.restart();
    await waitSchedule(schedules, sid(missing), Boolean, 'the missing Schedule made again');
    await waitSchedule(
      schedules,
      sid(disabled),
      (d) => d?.state.paused === true,
      'the disabled one paused again',
    );
    await waitSchedule(schedules, orphan, (d) => d === undefined, 'the orphan removed');
    for (const id of foreign) assert.ok(await describeOrUndefined(schedules, id), `${id} left alone`);
    const logs = f.tatd.logs();
    assert.ok(
      logs.some(
        (l) => l.msg === 'removing an invoker Schedule that tatd no longer has' && l.scheduleId === orphan,
      ),
    );
    for (const id of foreign) await schedules.getHandle(id).delete();
  });
});

describe('Temporal only when there are invokers', () => {
  test('a tatd with no invokers never contacts the Temporal address it was given, nor starts one', async () => {
    const accepted: Socket[] = [];
    const listener = createServer((s) => {
      accepted.push(s);
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as { port: number }).port;
    try {
      for (const config of [{ temporalAddress: `127.0.0.1:${port}` }, {}]) {
        const tatd = await startTatd({ config });
        const tat = client(tatd, DEFAULT_ACCOUNT);
        const cmd = (await tat.CreateCommand({ CommandName: 'no-invokers', Content: b64('true') }))
          .CommandId!;
        assert.equal((await tat.DescribeInvokers({})).TotalCount, 0);
        assert.equal((await tat.DescribeInvokerRecords({})).TotalCount, 0);
        // Refused invokers change nothing either.
        await assert.rejects(
          tat.CreateInvoker({
            Name: 'bad',
            Type: 'SCHEDULE',
            CommandId: cmd,
            InstanceIds: ['ins-00000000'],
            ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '* * * * *' },
          }),
        );
        await tat.DeleteCommand({ CommandId: cmd });
        await tatd.stop();
        assert.equal(accepted.length, 0, 'no connection to the Temporal address');
        assert.equal(
          tatd.logs().filter((l) => l.component === 'invokers' || String(l.msg).includes('Temporal')).length,
          0,
          'nothing about Temporal in the log',
        );
        assert.equal(existsSync(join(tatd.dataDir, 'temporal')), false, 'no Temporal state on disk');
      }
    } finally {
      listener.close();
    }
  });
});

describe('without a Temporal address', () => {
  test('tatd starts its own dev server for the first invoker, again at start-up, and stops it with itself (SIGKILL too)', async () => {
    const f = await fleet('own', {});
    const started = () => f.tatd.logs().filter((l) => l.msg === 'Temporal dev server started');
    const { InvokerId } = await f.tat.CreateInvoker({
      Name: 'own',
      Type: 'SCHEDULE',
      CommandId: f.cmd,
      InstanceIds: [f.agent.instanceId],
      ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '0 4 * * *' },
    });
    const first = await waitFor(() => started()[0], { what: 'its dev server started', timeoutMs: 30_000 });
    const address = first.address as string;
    const pid = first.pid as number;
    assert.ok(existsSync(join(f.tatd.dataDir, 'temporal', 'temporal.sqlite')), 'its state is under --data');
    const connection = await Connection.connect({ address });
    const own = new ScheduleClient({ connection });
    await waitSchedule(own, sid(InvokerId!), Boolean, 'the Schedule on its own server');
    await connection.close();

    await f.agent.stop(); // (tatd's SIGTERM waits for connected agents: issue 8)
    await f.tatd.stop();
    assert.throws(() => process.kill(-pid, 0), { code: 'ESRCH' }, 'stopped with tatd');
    assert.ok(f.tatd.logs().some((l) => l.msg === 'Temporal dev server stopped'));

    // At start-up, because an invoker exists, before any call; its Schedules kept in its database.
    await f.tatd.restart();
    const second = await waitFor(() => started()[1], {
      what: 'its dev server started again',
      timeoutMs: 30_000,
    });
    const again = await Connection.connect({ address: second.address as string });
    assert.ok(await describeOrUndefined(new ScheduleClient({ connection: again }), sid(InvokerId!)));
    await again.close();

    // SIGKILL leaves no time to stop it: the launcher's watcher does.
    await f.tatd.kill('SIGKILL');
    await waitFor(
      () => {
        try {
          process.kill(-(second.pid as number), 0);
          return false;
        } catch {
          return true;
        }
      },
      { what: 'the dev server gone after tatd was killed', timeoutMs: 15_000 },
    );
  });
});
