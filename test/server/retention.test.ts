// Retention of invocation records (TAT: 3 months, 10000 per account), with the limits made small
// in tatd's configuration: old invocations go with their tasks, output and temporary command;
// recent ones and unfinished ones stay; per account, the oldest beyond the limit go first; and a
// large purge runs in small transactions while the API keeps answering.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { WebSocket } from 'ws';
import { derivedInstanceId } from '../../server/gateway/identity.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64, waitFinal } from '../helpers/invocations.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { sleep, waitFor } from '../../testkit/wait.js';
import { taskUser, taskDefaults } from '../../testkit/task-user.js';
import { sharedTemporal, stopSharedTemporal } from '../../testkit/temporal.js';

const ACCOUNT = { secretId: 'AKIDret', secretKey: 'ret-secret', appId: '1300000201' };
const OTHER = { secretId: 'AKIDretother', secretKey: 'ret-other', appId: '1300000202' };
const ACCOUNTS = [
  `${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`,
  `${OTHER.secretId}:${OTHER.secretKey}:${OTHER.appId}`,
];
const work = taskUser().dir('work');
const DAY_S = 86400;

/** Read-only look at tatd's store, for what the API does not show (output rows, temporary commands). */
function countRows(tatd: Tatd, sql: string, ...args: string[]): number {
  const db = new SQLite(join(tatd.dataDir, 'tatd.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(sql).get(...args) as { n: number }).n;
  } finally {
    db.close();
  }
}

async function listed(tat: TatClient, ids: string[]): Promise<string[]> {
  const r = await tat.DescribeInvocations({ InvocationIds: ids, Limit: 100 });
  return r.InvocationSet!.map((i) => i.InvocationId!);
}

async function taskCount(tat: TatClient, invocationId: string): Promise<number> {
  const r = await tat.DescribeInvocationTasks({
    Filters: [{ Name: 'invocation-id', Values: [invocationId] }],
  });
  return r.TotalCount!;
}

async function startWith(retention: object, machineId: string, config: object = {}) {
  const tatd = await startTatd({
    accounts: ACCOUNTS,
    openEnrollment: true,
    config: { defaults: taskDefaults(work), retention, ...config },
  });
  const tat = client(tatd, ACCOUNT);
  const agent = startAgent(tatd.url, { machineId, account: ACCOUNT.appId });
  await waitAgents(tat, [agent.instanceId]);
  return { tatd, tat, agent };
}

after(async () => {
  rmSync(work, { recursive: true, force: true });
  await stopSharedTemporal();
});

describe('older than maxAgeDays', () => {
  const AGE_S = 4;
  let tatd: Tatd;
  let tat: TatClient;
  let agent: AgentProcess;

  before(async () => {
    ({ tatd, tat, agent } = await startWith({ maxAgeDays: AGE_S / DAY_S, intervalMs: 200 }, 'ret-age'));
  });
  after(async () => {
    await agent.stop();
    await tatd.stop();
  });

  test('old invocations go with tasks, output and temporary command; recent and unfinished ones stay', async () => {
    const id = agent.instanceId;
    const old = await tat.RunCommand({ Content: b64('echo old'), InstanceIds: [id] });
    const running = await tat.RunCommand({ Content: b64('sleep 6; echo slow'), InstanceIds: [id] });
    const { CommandId: saved } = await tat.CreateCommand({ CommandName: 'kept', Content: b64('echo kept') });
    const invoked = await tat.InvokeCommand({ CommandId: saved!, InstanceIds: [id] });
    await waitFinal(tat, old.InvocationId!);
    await waitFinal(tat, invoked.InvocationId!);
    const [oldTask] = (
      await tat.DescribeInvocationTasks({ Filters: [{ Name: 'invocation-id', Values: [old.InvocationId!] }] })
    ).InvocationTaskSet!;
    assert.equal(
      countRows(tatd, 'select count(*) n from task_output where task_id = ?', oldTask!.InvocationTaskId!),
      1,
    );
    // Not a wait for a state but the scenario's clock: "recent" is made half the age later, so
    // there is a 2 s stretch in which the old invocations are past the age and it is not.
    await sleep((AGE_S / 2) * 1000);
    const recent = await tat.RunCommand({ Content: b64('echo recent'), InstanceIds: [id] });
    await waitFinal(tat, recent.InvocationId!);

    const all = [old.InvocationId!, running.InvocationId!, invoked.InvocationId!, recent.InvocationId!];
    await waitFor(async () => !(await listed(tat, all)).includes(old.InvocationId!), {
      timeoutMs: 15_000,
      what: 'the old invocation to be removed',
    });
    const left = await listed(tat, all);
    assert.ok(left.includes(recent.InvocationId!), 'a recent invocation stays');
    assert.ok(left.includes(running.InvocationId!), 'an unfinished invocation stays, however old');
    assert.equal(await taskCount(tat, old.InvocationId!), 0, 'its tasks are gone');
    assert.equal(
      countRows(tatd, 'select count(*) n from task_output where task_id = ?', oldTask!.InvocationTaskId!),
      0,
    );
    assert.equal(countRows(tatd, 'select count(*) n from commands where id = ?', old.CommandId!), 0);

    // The unfinished one goes once it has ended; the recent one once it is old; a saved command stays.
    await waitFor(async () => (await listed(tat, all)).length === 0, {
      timeoutMs: 20_000,
      what: 'every invocation to be removed',
    });
    assert.equal(await taskCount(tat, running.InvocationId!), 0);
    const commands = await tat.DescribeCommands({ CommandIds: [saved!] });
    assert.equal(commands.TotalCount, 1, 'a saved command is not touched');
  });
});

describe('beyond maxInvocationsPerAccount', () => {
  const MAX = 5;
  let tatd: Tatd;
  let tat: TatClient;
  let agent: AgentProcess;

  before(async () => {
    ({ tatd, tat, agent } = await startWith({ maxInvocationsPerAccount: MAX, intervalMs: 200 }, 'ret-count'));
  });
  after(async () => {
    await agent.stop();
    await tatd.stop();
  });

  test('the oldest go first, unfinished ones only once they end', async () => {
    const id = agent.instanceId;
    const slow = await tat.RunCommand({ Content: b64('sleep 4'), InstanceIds: [id] });
    const quick: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await tat.RunCommand({ Content: b64(`echo ${i}`), InstanceIds: [id] });
      quick.push(r.InvocationId!);
    }
    // The newest five stay; of the older ones, the finished go and the running one waits.
    await waitFor(
      async () => {
        const r = await tat.DescribeInvocations({ Limit: 100 });
        return r.TotalCount === MAX + 1 ? r : false;
      },
      { timeoutMs: 15_000, what: 'the account to be cut to its newest invocations' },
    );
    const left = (await tat.DescribeInvocations({ Limit: 100 })).InvocationSet!.map((i) => i.InvocationId!);
    assert.deepEqual(left, [...quick.slice(2).reverse(), slow.InvocationId!]);
    assert.equal(await taskCount(tat, quick[0]!), 0);
    assert.equal(await taskCount(tat, quick[1]!), 0);

    await waitFor(async () => (await tat.DescribeInvocations({})).TotalCount === MAX, {
      timeoutMs: 15_000,
      what: 'the slow invocation to be removed once it ended',
    });
    const now = (await tat.DescribeInvocations({ Limit: 100 })).InvocationSet!.map((i) => i.InvocationId!);
    assert.deepEqual(now, quick.slice(2).reverse());
  });
});

describe('a large purge', () => {
  const MACHINES = 100;
  const INVOCATIONS = 150;
  let tatd: Tatd | undefined;

  after(async () => {
    await tatd?.stop();
  });

  test('runs in small batches while the API keeps answering', async () => {
    // Data: 150 invocations × 100 tasks. The machines are WebSockets only (as in
    // agent-gateway.test.ts): they are Online, never fetch their tasks, and every invocation is
    // cancelled at once, so its tasks are final without running anything.
    const first = await startTatd({ accounts: ACCOUNTS, openEnrollment: true });
    const tat = client(first, ACCOUNT);
    const machineIds = Array.from({ length: MACHINES }, (_, i) => `ret-bulk-${i}`);
    const sockets = await Promise.all(
      machineIds.map(
        (m) =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`${first.url.replace('http', 'ws')}/agent/ws`, {
              headers: { MachineId: m, 'Tat-Version': '1.1.9', 'Tat-KernelName': 'Linux' },
            });
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );
    const ids = machineIds.map((m) => derivedInstanceId(ACCOUNT.appId, 'ap-guangzhou', m));
    await waitAgents(tat, ids);
    for (let i = 0; i < INVOCATIONS; i++) {
      const { InvocationId } = await tat.RunCommand({ Content: b64(`echo ${i}`), InstanceIds: ids });
      await tat.CancelInvocation({ InvocationId: InvocationId! });
    }
    for (const ws of sockets) ws.terminate();
    assert.equal((await tat.DescribeInvocations({})).TotalCount, INVOCATIONS);
    await first.stop();

    // The same data under a tatd whose age limit they are all past, purging 200 tasks at a time.
    tatd = await startTatd({
      accounts: ACCOUNTS,
      dataDir: first.dataDir,
      config: { retention: { maxAgeDays: 1 / DAY_S, intervalMs: 1500, batchSize: 200 } },
    });
    const api = client(tatd, ACCOUNT);
    const calls: { start: number; end: number }[] = [];
    const purged = () => tatd!.logs().find((l) => l.msg === 'retention removed old invocations');
    while (!purged()) {
      const start = Date.now();
      const r = await api.DescribeInvocations({ Limit: 1 });
      assert.ok(r.TotalCount! >= 0);
      calls.push({ start, end: Date.now() });
    }
    const report = purged() as unknown as {
      invocations: number;
      tasks: number;
      batches: number;
      ms: number;
      time: number;
    };
    assert.equal(report.invocations, INVOCATIONS);
    assert.equal(report.tasks, INVOCATIONS * MACHINES);
    assert.ok(report.batches >= (INVOCATIONS * MACHINES) / 200, `${report.batches} batches`);
    assert.equal((await api.DescribeInvocations({})).TotalCount, 0);
    assert.equal(countRows(tatd, 'select count(*) n from tasks'), 0);

    // While it ran, calls were answered, none held up for long.
    const during = calls.filter((c) => c.end > report.time - report.ms && c.start < report.time);
    console.log(
      `purge: ${report.tasks} tasks in ${report.batches} batches, ${report.ms} ms; ` +
        `${during.length} API calls answered meanwhile, slowest ${Math.max(...during.map((c) => c.end - c.start))} ms`,
    );
    assert.ok(during.length >= 3, `only ${during.length} calls were answered during the purge`);
    for (const c of during) assert.ok(c.end - c.start < 1000, `a call took ${c.end - c.start} ms`);
  });
});

describe('invoker records', () => {
  const AGE_S = 4;
  let tatd: Tatd;
  let tat: TatClient;
  let agent: AgentProcess;

  before(async () => {
    const temporal = await sharedTemporal();
    ({ tatd, tat, agent } = await startWith({ maxAgeDays: AGE_S / DAY_S, intervalMs: 200 }, 'ret-invoker', {
      temporalAddress: temporal.address,
    }));
  });
  after(async () => {
    await agent.stop();
    await tatd.stop();
  });

  test('age out: with the invocation a fire started, and those of fires that started nothing', async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'ret-invoker',
      Content: b64('echo {{a}}'),
      EnableParameter: true,
      DefaultParameters: '{"a":"1"}',
    });
    const at = Math.ceil((Date.now() + 4000) / 1000) * 1000;
    const once = (name: string, parameters?: string) =>
      tat
        .CreateInvoker({
          Name: name,
          Type: 'SCHEDULE',
          CommandId: CommandId!,
          InstanceIds: [agent.instanceId],
          ...(parameters ? { Parameters: parameters } : {}),
          ScheduleSettings: { Policy: 'ONCE', InvokeTime: new Date(at).toISOString() },
        })
        .then((r) => r.InvokerId!);
    const started = await once('starts one', '{"a":"2"}');
    // Without the default, the other's {{a}} has no value: its fire is refused (LackOfParameterInfo).
    const refused = await once('refused');
    await tat.ModifyCommand({ CommandId: CommandId!, DefaultParameters: '{}' });
    const records = async () =>
      (await tat.DescribeInvokerRecords({ InvokerIds: [started, refused] })).InvokerRecordSet!;
    const both = await waitFor(async () => ((await records()).length === 2 ? await records() : undefined), {
      timeoutMs: 30_000,
      what: 'both fires recorded',
    });
    const byId = new Map(both.map((r) => [r.InvokerId, r]));
    assert.match(byId.get(started)!.InvocationId!, /^inv-/);
    assert.equal(byId.get(refused)!.InvocationId, '');
    assert.match(byId.get(refused)!.Reason!, /LackOfParameterInfo/);
    await waitFor(async () => (await records()).length === 0, {
      timeoutMs: 20_000,
      what: 'both records removed once old',
    });
    assert.deepEqual(await listed(tat, [byId.get(started)!.InvocationId!]), []);
  });
});
