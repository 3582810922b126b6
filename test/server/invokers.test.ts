// Invokers through the official SDK against the real tatd (on the test process's Temporal dev
// server) with real agent processes: every action and its fields, every error code the actions can
// answer (each checked against the action's documented list), paging and filters, account and
// region isolation, DeleteCommand of a command an invoker uses, and ONCE invokers firing at one
// instant: the enabled one once (its tasks ran on real agents), the disabled and the deleted never,
// one whose agent went offline recorded as FAILED with the reason. Recurring fires, restarts and
// the Temporal side are in test/e2e/invokers-recurrence.test.ts and
// test/server/invoker-reconciler.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScheduleClient, ScheduleNotFoundError } from '@temporalio/client';
import { isFireTime, nextFireTime, parseCrontab } from '../../tat/cron.js';
import { isDocumentedCode, type ActionName } from '../../tat/error-codes.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { taskUser } from '../../testkit/task-user.js';
import { b64, outputOf, tasksOf, waitFinal } from '../helpers/invocations.js';
import { client, DEFAULT_ACCOUNT, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { sharedTemporal, stopSharedTemporal, type SharedTemporal } from '../../testkit/temporal.js';
import { nextSecond, stays, waitFor } from '../../testkit/wait.js';

const APPID = DEFAULT_ACCOUNT.appId;
const OTHER = { secretId: 'AKIDother', secretKey: 'other-secret', appId: '2000000002' };
const CATCH_UP_MS = 10_000;
const QUOTA = 12;
const SH = 'Asia/Shanghai';

let temporal: SharedTemporal;
let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];
/** Online Linux agents (guangzhou). */
let ids: string[];
/** An instance tatd knows whose agent is stopped. */
let offlineId: string;
/** EnableParameter: `echo hello {{name}}`, default name=world. */
let paramCmd: string;
/** No parameters. */
let plainCmd: string;

const inRegion = (region: string, account = DEFAULT_ACCOUNT) => client(tatd, { ...account, region });

/** `ms` as Beijing time with its offset, seconds precision: what TAT's examples send. */
function beijing(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19) + '+08:00';
}
/** A whole second at least `ms` from now. */
const secondsAhead = (ms: number) => Math.ceil((Date.now() + ms) / 1000) * 1000;

before(async () => {
  temporal = await sharedTemporal();
  tatd = await startTatd({
    accounts: [
      `${DEFAULT_ACCOUNT.secretId}:${DEFAULT_ACCOUNT.secretKey}:${APPID}`,
      `${OTHER.secretId}:${OTHER.secretKey}:${OTHER.appId}`,
    ],
    openEnrollment: true,
    config: {
      temporalAddress: temporal.address,
      timings: { invokerCatchUpMs: CATCH_UP_MS },
      quotas: { invoker: QUOTA },
    },
  });
  tat = inRegion('ap-guangzhou');
  agents = ['inv-a', 'inv-b', 'inv-c'].map((machineId) =>
    startAgent(tatd.url, { machineId, account: APPID }),
  );
  ids = agents.map((a) => a.instanceId);
  await waitAgents(tat, ids);
  offlineId = ids.pop()!;
  await agents[2]!.stop();
  await waitAgents(tat, [offlineId], 'Offline');
  paramCmd = (
    await tat.CreateCommand({
      CommandName: 'invoker-params',
      Content: b64('echo "hello {{name}} as $(id -un)"'),
      EnableParameter: true,
      DefaultParameters: '{"name":"world"}',
    })
  ).CommandId!;
  plainCmd = (await tat.CreateCommand({ CommandName: 'invoker-plain', Content: b64('echo plain') }))
    .CommandId!;
});

after(async () => {
  await Promise.all((agents ?? []).map((a) => a.stop()));
  await tatd?.stop();
  await stopSharedTemporal();
});

type AnyCall = (req: object) => Promise<unknown>;
function call(t: TatClient, action: ActionName, req: object): Promise<unknown> {
  return (t as unknown as Record<string, AnyCall>)[action]!.call(t, req);
}

/** Asserts that `action` answers `code`, and that the code is one the action documents. */
async function refused(action: ActionName, req: object, code: string, t: TatClient = tat): Promise<string> {
  assert.ok(isDocumentedCode(action, code), `${code} is not a documented code of ${action}`);
  return expectTatError(call(t, action, req), code);
}

const recurrence = (Recurrence: string) => ({ Policy: 'RECURRENCE', Recurrence });

async function invokerById(t: TatClient, id: string) {
  const r = await t.DescribeInvokers({ InvokerIds: [id] });
  assert.equal(r.TotalCount, 1);
  return r.InvokerSet![0]!;
}

describe('CreateInvoker and DescribeInvokers', () => {
  test('every field is stored and described back; RECURRENCE shows its next run as InvokeTime', async () => {
    const before = Date.now();
    const { InvokerId } = await tat.CreateInvoker({
      Name: 'nightly hello',
      Type: 'SCHEDULE',
      CommandId: paramCmd,
      InstanceIds: ids,
      Username: taskUser().name,
      Parameters: '{"name":"invoker"}',
      ScheduleSettings: recurrence('0 3 * * *'),
      Tags: [{ Key: 'team', Value: 'ops' }],
    });
    assert.match(InvokerId!, /^ivk-[a-z0-9]{8}$/);
    const v = await invokerById(tat, InvokerId!);
    const next = nextFireTime(parseCrontab('0 3 * * *'), SH, Date.now());
    assert.deepEqual(
      { ...v, CreatedTime: undefined, UpdatedTime: undefined },
      {
        InvokerId,
        Name: 'nightly hello',
        Type: 'SCHEDULE',
        CommandId: paramCmd,
        Username: taskUser().name,
        Parameters: '{"name":"invoker"}',
        InstanceIds: ids,
        Enable: true,
        ScheduleSettings: {
          Policy: 'RECURRENCE',
          Recurrence: '0 3 * * *',
          InvokeTime: new Date(next).toISOString().slice(0, 19) + 'Z',
        },
        CreatedTime: undefined,
        UpdatedTime: undefined,
        Tags: [{ Key: 'team', Value: 'ops' }],
      },
    );
    // 03:00 in Beijing is 19:00 UTC.
    assert.match(v.ScheduleSettings!.InvokeTime!, /T19:00:00Z$/);
    const created = Date.parse(v.CreatedTime!);
    assert.ok(created >= Math.floor(before / 1000) * 1000 && created <= Date.now(), v.CreatedTime);
    assert.equal(v.UpdatedTime, v.CreatedTime);
  });

  test('ONCE: InvokeTime with any offset, described in UTC; defaults: no username, no parameters, no tags', async () => {
    const at = secondsAhead(3_600_000);
    const { InvokerId } = await tat.CreateInvoker({
      Name: 'once',
      Type: 'SCHEDULE',
      CommandId: plainCmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: { Policy: 'ONCE', InvokeTime: beijing(at), Recurrence: 'ignored for ONCE' },
    });
    const v = await invokerById(tat, InvokerId!);
    assert.deepEqual(v.ScheduleSettings, {
      Policy: 'ONCE',
      Recurrence: '',
      InvokeTime: new Date(at).toISOString().slice(0, 19) + 'Z',
    });
    assert.equal(v.Username, '');
    assert.equal(v.Parameters, '');
    assert.deepEqual(v.Tags, []);
  });

  test('hidden parameter values are shown as ******, as in invocations', async () => {
    const secret = (
      await tat.CreateCommand({
        CommandName: 'invoker-hidden',
        Content: b64('echo {{tat-hidden:token}} {{user}}'),
        EnableParameter: true,
      })
    ).CommandId!;
    const { InvokerId } = await tat.CreateInvoker({
      Name: 'hidden',
      Type: 'SCHEDULE',
      CommandId: secret,
      InstanceIds: [ids[0]!],
      Parameters: '{"token":"s3cret","user":"ops"}',
      ScheduleSettings: recurrence('0 1 * * *'),
    });
    assert.equal((await invokerById(tat, InvokerId!)).Parameters, '{"token":"******","user":"ops"}');
    await tat.DeleteInvoker({ InvokerId: InvokerId! });
  });

  test('v1 form (HmacSHA256) and TC3 GET requests carry ScheduleSettings and Filters too', async () => {
    const v1 = client(tatd, { ...DEFAULT_ACCOUNT, signMethod: 'HmacSHA256' });
    const { InvokerId } = await v1.CreateInvoker({
      Name: 'v1',
      Type: 'SCHEDULE',
      CommandId: plainCmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: recurrence('0 2 * * *'),
      Tags: [{ Key: 'style', Value: 'v1' }],
    });
    const get = client(tatd, { ...DEFAULT_ACCOUNT, reqMethod: 'GET' });
    const r = await get.DescribeInvokers({
      Filters: [{ Name: 'invoker-id', Values: [InvokerId!] }],
      Limit: 5,
    });
    assert.equal(r.InvokerSet![0]!.ScheduleSettings!.Recurrence, '0 2 * * *');
    assert.deepEqual(r.InvokerSet![0]!.Tags, [{ Key: 'style', Value: 'v1' }]);
    assert.equal((await get.DescribeInvokerRecords({ InvokerIds: [InvokerId!], Limit: 5 })).TotalCount, 0);
    await v1.DeleteInvoker({ InvokerId: InvokerId! });
  });

  test('filters, ids, paging newest first, and their refusals', async () => {
    const g = tat;
    const listCmd = (await g.CreateCommand({ CommandName: 'list-target', Content: b64('true') })).CommandId!;
    const listed: string[] = [];
    for (let i = 0; i < 3; i++)
      listed.push(
        (
          await g.CreateInvoker({
            Name: `list-${i}`,
            Type: 'SCHEDULE',
            CommandId: listCmd,
            InstanceIds: [ids[0]!],
            ScheduleSettings: recurrence(`${i} 4 * * *`),
          })
        ).InvokerId!,
      );
    const byCommand = await g.DescribeInvokers({ Filters: [{ Name: 'command-id', Values: [listCmd] }] });
    assert.equal(byCommand.TotalCount, 3);
    assert.deepEqual(
      byCommand.InvokerSet!.map((v) => v.InvokerId),
      [...listed].reverse(),
      'newest first',
    );
    const page = await g.DescribeInvokers({
      Filters: [
        { Name: 'command-id', Values: [listCmd] },
        { Name: 'invoker-type', Values: ['SCHEDULE'] },
      ],
      Limit: 1,
      Offset: 1,
    });
    assert.equal(page.TotalCount, 3);
    assert.deepEqual(
      page.InvokerSet!.map((v) => v.InvokerId),
      [listed[1]],
    );
    const two = await g.DescribeInvokers({
      Filters: [{ Name: 'invoker-id', Values: [listed[0]!, listed[2]!] }],
    });
    assert.deepEqual(two.InvokerSet!.map((v) => v.InvokerId).sort(), [listed[0], listed[2]].sort());
    const byIds = await g.DescribeInvokers({ InvokerIds: [listed[1]!, 'ivk-00000000'] });
    assert.deepEqual(
      byIds.InvokerSet!.map((v) => v.InvokerId),
      [listed[1]],
      'unknown ids are left out',
    );
    const all = await g.DescribeInvokers({});
    assert.ok(
      all.TotalCount! >= 3 && all.InvokerSet!.length === Math.min(all.TotalCount!, 20),
      'Limit defaults to 20',
    );

    const ivk = listed[0]!;
    await refused(
      'DescribeInvokers',
      { InvokerIds: [ivk], Filters: [{ Name: 'invoker-id', Values: [ivk] }] },
      'InvalidParameter.ConflictParameter',
    );
    await refused(
      'DescribeInvokers',
      { Filters: [{ Name: 'invoker-name', Values: ['x'] }] },
      'InvalidParameterValue.InvalidFilter',
    );
    await refused(
      'DescribeInvokers',
      { Filters: [{ Name: 'invoker-type', Values: ['CRON'] }] },
      'InvalidParameterValue.InvalidFilter',
    );
    await refused(
      'DescribeInvokers',
      { Filters: [{ Name: 'invoker-id', Values: ['ivk-1'] }] },
      'InvalidParameterValue.InvalidInvokerId',
    );
    await refused(
      'DescribeInvokers',
      { Filters: [{ Name: 'command-id', Values: ['nope'] }] },
      'InvalidParameterValue',
    );
    await refused(
      'DescribeInvokers',
      { InvokerIds: [ivk, 'cmd-12345678'] },
      'InvalidParameterValue.InconsistentID',
    );
    await refused(
      'DescribeInvokers',
      { InvokerIds: Array.from({ length: 101 }, () => ivk) },
      'InvalidParameterValue.LimitExceeded',
    );
    await refused(
      'DescribeInvokers',
      { Filters: Array.from({ length: 11 }, () => ({ Name: 'invoker-type', Values: ['SCHEDULE'] })) },
      'InvalidParameterValue.LimitExceeded',
    );
    await refused(
      'DescribeInvokers',
      { Filters: [{ Name: 'invoker-id', Values: ['a', 'b', 'c', 'd', 'e', 'f'] }] },
      'InvalidParameterValue.LimitExceeded',
    );
    await refused('DescribeInvokers', { Limit: 101 }, 'InvalidParameterValue.TooLarge');
    await refused('DescribeInvokers', { Limit: -1 }, 'InvalidParameterValue.TooSmall');
    await refused('DescribeInvokers', { Offset: -1 }, 'InvalidParameterValue.TooSmall');
    // Another region's list is empty: invokers belong to the region they were made in.
    assert.equal((await inRegion('ap-beijing').DescribeInvokers({})).TotalCount, 0);
  });

  test('every refusal of CreateInvoker, with the code the action documents (or its nearest parent)', async () => {
    const ok = {
      Name: 'refusals',
      Type: 'SCHEDULE',
      CommandId: paramCmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: recurrence('0 3 * * *'),
    };
    const win = (
      await tat.CreateCommand({
        CommandName: 'invoker-ps',
        Content: b64('Get-Date'),
        CommandType: 'POWERSHELL',
      })
    ).CommandId!;
    const lack = (
      await tat.CreateCommand({
        CommandName: 'invoker-lack',
        Content: b64('echo {{x}}'),
        EnableParameter: true,
      })
    ).CommandId!;
    const cases: [string, object, string, RegExp?][] = [
      ['no ScheduleSettings', { ...ok, ScheduleSettings: undefined }, 'MissingParameter'],
      ['no Name', { ...ok, Name: undefined }, 'MissingParameter'],
      ['InstanceIds empty', { ...ok, InstanceIds: [] }, 'MissingParameter'],
      ['ONCE without InvokeTime', { ...ok, ScheduleSettings: { Policy: 'ONCE' } }, 'MissingParameter'],
      [
        'RECURRENCE without Recurrence',
        { ...ok, ScheduleSettings: { Policy: 'RECURRENCE' } },
        'MissingParameter',
      ],
      ['InstanceIds of the wrong type', { ...ok, InstanceIds: 'ins-12345678' }, 'InvalidParameter'],
      ['Type other than SCHEDULE', { ...ok, Type: 'EVENT' }, 'InvalidParameterValue', /only one is SCHEDULE/],
      ['Policy unknown', { ...ok, ScheduleSettings: { Policy: 'SCHEDULE' } }, 'InvalidParameterValue'],
      ['Name empty', { ...ok, Name: ' ' }, 'InvalidParameterValue'],
      ['Name over 120 characters', { ...ok, Name: 'n'.repeat(121) }, 'InvalidParameterValue.TooLong'],
      ['Username over 256 characters', { ...ok, Username: 'u'.repeat(257) }, 'InvalidParameterValue.TooLong'],
      ['Username with a space', { ...ok, Username: 'a b' }, 'InvalidParameterValue'],
      [
        '11 tags',
        { ...ok, Tags: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
        'InvalidParameterValue',
      ],
      [
        'crontab with a bad field',
        { ...ok, ScheduleSettings: recurrence('0 3 32 * *') },
        'InvalidParameterValue.InvalidCronExpression',
        /the day-of-month field "32" is not valid/,
      ],
      [
        'crontab of 6 fields',
        { ...ok, ScheduleSettings: recurrence('0 0 3 * * *') },
        'InvalidParameterValue.InvalidCronExpression',
        /it has 6 fields/,
      ],
      [
        'InvokeTime not ISO 8601 with an offset',
        { ...ok, ScheduleSettings: { Policy: 'ONCE', InvokeTime: '2030-01-01 00:00:00' } },
        'InvalidParameterValue.InvalidTimeFormat',
      ],
      [
        'InvokeTime in the past',
        { ...ok, ScheduleSettings: { Policy: 'ONCE', InvokeTime: beijing(Date.now() - 60_000) } },
        'InvalidParameterValue.InvokeTimeExpired',
      ],
      ['CommandId malformed', { ...ok, CommandId: 'cmd-1' }, 'InvalidParameterValue.InvalidCommandId'],
      ['CommandId unknown', { ...ok, CommandId: 'cmd-00000000' }, 'ResourceNotFound.CommandNotFound'],
      ['instance id malformed', { ...ok, InstanceIds: ['i-123'] }, 'InvalidParameterValue.InvalidInstanceId'],
      [
        'CVM and Lighthouse together',
        { ...ok, InstanceIds: [ids[0]!, 'lhins-12345678'] },
        'InvalidParameterValue.InconsistentInstance',
      ],
      ['instance unknown', { ...ok, InstanceIds: ['ins-00000000'] }, 'ResourceNotFound.InstanceNotFound'],
      ['agent offline', { ...ok, InstanceIds: [offlineId] }, 'ResourceUnavailable.AgentStatusNotOnline'],
      ['an instance twice', { ...ok, InstanceIds: [ids[0]!, ids[0]!] }, 'InvalidParameterValue'],
      [
        '101 instances',
        { ...ok, InstanceIds: Array.from({ length: 101 }, (_, i) => `ins-${String(i).padStart(8, '0')}`) },
        'InvalidParameterValue',
      ],
      [
        'Parameters not a JSON object',
        { ...ok, Parameters: '{name' },
        'InvalidParameterValue.ParameterInvalidJsonFormat',
      ],
      [
        'Parameters for a command without EnableParameter',
        { ...ok, CommandId: plainCmd, Parameters: '{}' },
        'InvalidParameterValue',
      ],
      ['a placeholder with no value', { ...ok, CommandId: lack }, 'InvalidParameterValue'],
      ['POWERSHELL on a Linux agent', { ...ok, CommandId: win }, 'InvalidParameterValue'],
    ];
    for (const [what, req, code, message] of cases) {
      const m = await refused('CreateInvoker', req, code).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
      if (message) assert.match(m, message, what);
    }
    // Nothing of the above was stored.
    assert.equal(
      (await tat.DescribeInvokers({ Filters: [{ Name: 'command-id', Values: [win, lack] }] })).TotalCount,
      0,
    );
  });

  test(`at most ${QUOTA} invokers per account and region: LimitExceeded`, async () => {
    const used = (await tat.DescribeInvokers({})).TotalCount!;
    const cmd = (await tat.CreateCommand({ CommandName: 'quota-cmd', Content: b64('true') })).CommandId!;
    const req = {
      Name: 'quota',
      Type: 'SCHEDULE',
      CommandId: cmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: recurrence('0 5 * * *'),
    };
    for (let i = used; i < QUOTA; i++) await tat.CreateInvoker({ ...req, Name: `quota-${i}` });
    const m = await refused('CreateInvoker', req, 'LimitExceeded');
    assert.match(m, new RegExp(`quota of ${QUOTA} invokers in ap-guangzhou is used up`));
    // Back under the quota for the tests below.
    const mine = await tat.DescribeInvokers({ Filters: [{ Name: 'command-id', Values: [cmd] }], Limit: 100 });
    for (const v of mine.InvokerSet!) await tat.DeleteInvoker({ InvokerId: v.InvokerId! });
    await tat.CreateInvoker({ ...req, Name: 'quota-freed' }); // not the refused request's signature
    await tat.DeleteInvoker({
      InvokerId: (await tat.DescribeInvokers({ Limit: 1 })).InvokerSet![0]!.InvokerId!,
    });
  });
});

describe('ModifyInvoker', () => {
  let id: string;
  before(async () => {
    id = (
      await tat.CreateInvoker({
        Name: 'to modify',
        Type: 'SCHEDULE',
        CommandId: paramCmd,
        InstanceIds: [ids[0]!],
        Parameters: '{"name":"first"}',
        ScheduleSettings: recurrence('0 6 * * *'),
      })
    ).InvokerId!;
  });

  test('only the fields given change; UpdatedTime moves', async () => {
    const was = await invokerById(tat, id);
    await nextSecond(); // UpdatedTime has seconds
    await tat.ModifyInvoker({ InvokerId: id, Name: 'renamed', InstanceIds: ids });
    const now = await invokerById(tat, id);
    assert.deepEqual(
      { ...now, UpdatedTime: undefined },
      { ...was, Name: 'renamed', InstanceIds: ids, UpdatedTime: undefined },
    );
    assert.ok(Date.parse(now.UpdatedTime!) > Date.parse(was.UpdatedTime!));
    await tat.ModifyInvoker({
      InvokerId: id,
      Username: taskUser().name,
      Parameters: '{"name":"second"}',
      ScheduleSettings: recurrence('30 2 * JAN MON'),
      Type: 'SCHEDULE',
    });
    const v = await invokerById(tat, id);
    assert.equal(v.Username, taskUser().name);
    assert.equal(v.Parameters, '{"name":"second"}');
    assert.equal(v.ScheduleSettings!.Recurrence, '30 2 * JAN MON');
    assert.ok(isFireTime(parseCrontab('30 2 * JAN MON'), SH, Date.parse(v.ScheduleSettings!.InvokeTime!)));
    // Another command: the old command's Parameters go unless new ones are given.
    await tat.ModifyInvoker({ InvokerId: id, CommandId: plainCmd });
    assert.equal((await invokerById(tat, id)).Parameters, '');
    await tat.ModifyInvoker({ InvokerId: id, CommandId: paramCmd, Parameters: '{"name":"third"}' });
    const back = await invokerById(tat, id);
    assert.equal(back.CommandId, paramCmd);
    assert.equal(back.Parameters, '{"name":"third"}');
    // ONCE from RECURRENCE, and back.
    const at = secondsAhead(7_200_000);
    await tat.ModifyInvoker({ InvokerId: id, ScheduleSettings: { Policy: 'ONCE', InvokeTime: beijing(at) } });
    assert.deepEqual((await invokerById(tat, id)).ScheduleSettings, {
      Policy: 'ONCE',
      Recurrence: '',
      InvokeTime: new Date(at).toISOString().slice(0, 19) + 'Z',
    });
    await tat.ModifyInvoker({ InvokerId: id, ScheduleSettings: recurrence('0 6 * * *') });
  });

  test('every refusal of ModifyInvoker; nothing changes', async () => {
    const was = await invokerById(tat, id);
    const cases: [string, object, string][] = [
      ['InvokerId malformed', { InvokerId: 'ivk-1' }, 'InvalidParameterValue.InvalidInvokerId'],
      ['InvokerId unknown', { InvokerId: 'ivk-00000000' }, 'ResourceNotFound'],
      ['no InvokerId', {}, 'MissingParameter'],
      ['Name over 120 characters', { InvokerId: id, Name: 'n'.repeat(121) }, 'InvalidParameterValue.TooLong'],
      [
        'Username over 256 characters',
        { InvokerId: id, Username: 'u'.repeat(257) },
        'InvalidParameterValue.TooLong',
      ],
      ['Type other than SCHEDULE', { InvokerId: id, Type: 'EVENT' }, 'InvalidParameterValue'],
      [
        'bad crontab',
        { InvokerId: id, ScheduleSettings: recurrence('* * * * 8') },
        'InvalidParameterValue.InvalidCronExpression',
      ],
      [
        'bad InvokeTime',
        { InvokerId: id, ScheduleSettings: { Policy: 'ONCE', InvokeTime: 'noon' } },
        'InvalidParameterValue.InvalidTimeFormat',
      ],
      [
        'InvokeTime past',
        { InvokerId: id, ScheduleSettings: { Policy: 'ONCE', InvokeTime: '2020-01-01T00:00:00Z' } },
        'InvalidParameterValue.InvokeTimeExpired',
      ],
      ['CommandId unknown', { InvokerId: id, CommandId: 'cmd-00000000' }, 'ResourceNotFound.CommandNotFound'],
      ['CommandId malformed', { InvokerId: id, CommandId: 'c' }, 'InvalidParameterValue'],
      [
        'Parameters not JSON',
        { InvokerId: id, Parameters: '[' },
        'InvalidParameterValue.ParameterInvalidJsonFormat',
      ],
      [
        'Parameters for a command without EnableParameter',
        { InvokerId: id, CommandId: plainCmd, Parameters: '{"a":"b"}' },
        'InvalidParameterValue.ParameterDisabled',
      ],
      [
        'instance id malformed',
        { InvokerId: id, InstanceIds: ['x'] },
        'InvalidParameterValue.InvalidInstanceId',
      ],
      [
        'CVM and Lighthouse',
        { InvokerId: id, InstanceIds: [ids[0]!, 'lhins-12345678'] },
        'InvalidParameterValue.InconsistentInstance',
      ],
      [
        'instance unknown',
        { InvokerId: id, InstanceIds: ['rins-00000000'] },
        'ResourceNotFound.InstanceNotFound',
      ],
      ['agent offline', { InvokerId: id, InstanceIds: [offlineId] }, 'ResourceUnavailable'],
      [
        '101 instances',
        {
          InvokerId: id,
          InstanceIds: Array.from({ length: 101 }, (_, i) => `ins-${String(i).padStart(8, '0')}`),
        },
        'InvalidParameterValue.LimitExceeded',
      ],
    ];
    for (const [what, req, code] of cases)
      await refused('ModifyInvoker', req, code).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
    assert.deepEqual(await invokerById(tat, id), was);
  });
});

describe('EnableInvoker, DisableInvoker, DeleteInvoker', () => {
  test('toggle Enable (again is no error), delete; their refusals', async () => {
    const { InvokerId } = await tat.CreateInvoker({
      Name: 'toggle',
      Type: 'SCHEDULE',
      CommandId: plainCmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: recurrence('0 7 * * *'),
    });
    const id = InvokerId!;
    await tat.DisableInvoker({ InvokerId: id });
    assert.equal((await invokerById(tat, id)).Enable, false);
    // Each repeat in the next second: the same signed change within one second is a replay.
    await nextSecond();
    await tat.DisableInvoker({ InvokerId: id });
    await tat.EnableInvoker({ InvokerId: id });
    await nextSecond();
    await tat.EnableInvoker({ InvokerId: id });
    assert.equal((await invokerById(tat, id)).Enable, true);
    await tat.DeleteInvoker({ InvokerId: id });
    assert.equal((await tat.DescribeInvokers({ InvokerIds: [id] })).TotalCount, 0);
    await nextSecond(); // the refusals below repeat accepted requests: else replays
    for (const action of ['EnableInvoker', 'DisableInvoker', 'DeleteInvoker'] as const) {
      await refused(action, { InvokerId: id }, 'ResourceNotFound');
      await refused(action, { InvokerId: 'ivk_bad' }, 'InvalidParameterValue.InvalidInvokerId');
      await refused(action, {}, 'MissingParameter');
    }
  });
});

describe('isolation, and commands in use', () => {
  let id: string;
  before(async () => {
    id = (
      await tat.CreateInvoker({
        Name: 'mine',
        Type: 'SCHEDULE',
        CommandId: plainCmd,
        InstanceIds: [ids[0]!],
        ScheduleSettings: recurrence('0 8 * * *'),
      })
    ).InvokerId!;
  });

  test("another account or region sees none of an account's invokers and cannot touch them", async () => {
    for (const other of [inRegion('ap-guangzhou', OTHER), inRegion('ap-shanghai')]) {
      assert.equal((await other.DescribeInvokers({ InvokerIds: [id] })).TotalCount, 0);
      assert.equal((await other.DescribeInvokers({})).TotalCount, 0);
      assert.equal((await other.DescribeInvokerRecords({})).TotalCount, 0);
      for (const action of ['EnableInvoker', 'DisableInvoker', 'DeleteInvoker', 'ModifyInvoker'] as const)
        await refused(action, { InvokerId: id }, 'ResourceNotFound', other);
      // Its commands and instances are not the other's either.
      await refused(
        'CreateInvoker',
        {
          Name: 'x',
          Type: 'SCHEDULE',
          CommandId: plainCmd,
          InstanceIds: [ids[0]!],
          ScheduleSettings: recurrence('0 8 * * *'),
        },
        'ResourceNotFound.CommandNotFound',
        other,
      );
    }
    assert.equal((await invokerById(tat, id)).Enable, true);
  });

  test('DeleteCommand and DeleteCommands refuse a command an invoker uses (CommandInInvoker)', async () => {
    const cmd = (await tat.CreateCommand({ CommandName: 'in-use', Content: b64('true') })).CommandId!;
    const { InvokerId } = await tat.CreateInvoker({
      Name: 'uses it',
      Type: 'SCHEDULE',
      CommandId: cmd,
      InstanceIds: [ids[0]!],
      ScheduleSettings: recurrence('0 9 * * *'),
    });
    const m = await refused('DeleteCommand', { CommandId: cmd }, 'ResourceUnavailable.CommandInInvoker');
    assert.match(m, new RegExp(`used by invoker ${InvokerId}`));
    await refused('DeleteCommands', { CommandIds: [plainCmd, cmd] }, 'ResourceUnavailable.CommandInInvoker');
    assert.equal((await tat.DescribeCommands({ CommandIds: [cmd] })).TotalCount, 1, 'nothing was deleted');
    // Pointing the invoker elsewhere frees the command.
    await tat.ModifyInvoker({ InvokerId: InvokerId!, CommandId: plainCmd });
    await nextSecond(); // the refused DeleteCommand above had this very signature
    await tat.DeleteCommand({ CommandId: cmd });
    await tat.DeleteInvoker({ InvokerId: InvokerId! });
  });
});

describe('DescribeInvokerRecords refusals', () => {
  test('paging limits and id lists', async () => {
    await refused('DescribeInvokerRecords', { Limit: 101 }, 'InvalidParameterValue.TooLarge');
    await refused('DescribeInvokerRecords', { Limit: -1 }, 'InvalidParameterValue.TooSmall');
    await refused('DescribeInvokerRecords', { Offset: -5 }, 'InvalidParameterValue.TooSmall');
    await refused(
      'DescribeInvokerRecords',
      { InvokerIds: ['ivk-12345678', 'inv-12345678'] },
      'InvalidParameterValue.InconsistentID',
    );
    await refused(
      'DescribeInvokerRecords',
      { InvokerIds: Array.from({ length: 101 }, () => 'ivk-12345678') },
      'InvalidParameterValue.TooLong',
    );
    assert.deepEqual((await tat.DescribeInvokerRecords({ InvokerIds: [] })).InvokerRecordSet, []);
  });
});

describe('ONCE invokers at one instant', () => {
  const made: Record<'fires' | 'disabled' | 'deleted' | 'offline' | 'later', string> = {
    fires: '',
    disabled: '',
    deleted: '',
    offline: '',
    later: '',
  };
  let due = 0;
  /** An agent that is online at creation and stopped before the fire. */
  let leaving: AgentProcess;
  /** The command of these invokers only, so its invocations are theirs. */
  let onceCmd: string;

  before(async () => {
    onceCmd = (
      await tat.CreateCommand({
        CommandName: 'invoker-once',
        Content: b64('echo "hello {{name}} as $(id -un)"'),
        EnableParameter: true,
      })
    ).CommandId!;
    leaving = startAgent(tatd.url, { machineId: 'inv-leaving', account: APPID });
    agents.push(leaving);
    await waitAgents(tat, [leaving.instanceId]);
    // Enough time to create five invokers and for tatd's worker to start (bundling its workflow).
    due = secondsAhead(8_000);
    const once = (name: string, instanceIds: string[], at = due) =>
      tat
        .CreateInvoker({
          Name: name,
          Type: 'SCHEDULE',
          CommandId: onceCmd,
          InstanceIds: instanceIds,
          Parameters: '{"name":"from an invoker"}',
          ScheduleSettings: { Policy: 'ONCE', InvokeTime: beijing(at) },
        })
        .then((r) => r.InvokerId!);
    made.fires = await once('fires', ids);
    made.disabled = await once('disabled', ids);
    made.deleted = await once('deleted', ids);
    made.offline = await once('agent leaves', [leaving.instanceId]);
    made.later = await once('a second later', [ids[0]!], due + 1000);
    await tat.DisableInvoker({ InvokerId: made.disabled });
    await tat.DeleteInvoker({ InvokerId: made.deleted });
    await leaving.stop();
    await waitAgents(tat, [leaving.instanceId], 'Offline');
    assert.ok(Date.now() < due, 'everything was set up before the fire');
  });

  test('the enabled one fires once, at its time, and its tasks run on the real agents', async () => {
    const rec = await waitFor(
      async () => (await tat.DescribeInvokerRecords({ InvokerIds: [made.fires] })).InvokerRecordSet?.[0],
      { timeoutMs: due - Date.now() + 20_000, what: 'the fire record' },
    );
    assert.equal(rec.InvokeTime, new Date(due).toISOString().slice(0, 19) + 'Z');
    assert.equal(rec.Reason, 'start an invocation at scheduled time.');
    assert.match(rec.InvocationId!, /^inv-/);
    const { invocation, tasks } = await waitFinal(tat, rec.InvocationId!);
    assert.equal(invocation.InvocationSource, 'INVOKER');
    assert.equal(invocation.InvocationStatus, 'SUCCESS');
    assert.equal(invocation.Parameters, '{"name":"from an invoker"}');
    assert.ok(Date.parse(invocation.CreatedTime!) >= due, 'not before its time');
    assert.deepEqual(tasks.map((t) => t.InstanceId).sort(), [...ids].sort());
    for (const t of tasks) {
      assert.equal(t.TaskStatus, 'SUCCESS');
      assert.equal(t.InvocationSource, 'INVOKER');
      assert.equal(outputOf(t), `hello from an invoker as ${taskUser().name}\n`);
    }
    // Its Result follows the invocation's status.
    const again = (await tat.DescribeInvokerRecords({ InvokerIds: [made.fires] })).InvokerRecordSet!;
    assert.equal(again.length, 1);
    assert.equal(again[0]!.Result, 'SUCCESS');
    // Once: the Schedule took one action and has none left.
    const d = await new ScheduleClient({ connection: temporal.connection })
      .getHandle(`tatd-${APPID}-ap-guangzhou-${made.fires}`)
      .describe();
    assert.equal(d.info.recentActions.length, 1);
    assert.deepEqual(d.info.nextActionTimes, []);
    assert.match(d.info.recentActions[0]!.action.workflow.workflowId, new RegExp(`${made.fires}-`));
  });

  test("one whose agent went offline is recorded FAILED with InvokeCommand's reason", async () => {
    const rec = await waitFor(
      async () => (await tat.DescribeInvokerRecords({ InvokerIds: [made.offline] })).InvokerRecordSet?.[0],
      { timeoutMs: due - Date.now() + 20_000, what: 'the refused fire record' },
    );
    assert.equal(rec.Result, 'FAILED');
    assert.equal(rec.InvocationId, '');
    assert.match(
      rec.Reason!,
      new RegExp(`^ResourceUnavailable.AgentStatusNotOnline: .*${leaving.instanceId}`),
    );
  });

  test('records: newest first, paged, per invoker', async () => {
    await waitFor(
      async () => (await tat.DescribeInvokerRecords({ InvokerIds: [made.later] })).TotalCount === 1,
      { timeoutMs: due - Date.now() + 20_000, what: 'the later fire' },
    );
    const all = await tat.DescribeInvokerRecords({ InvokerIds: [made.fires, made.offline, made.later] });
    assert.equal(all.TotalCount, 3);
    const set = all.InvokerRecordSet!;
    assert.equal(set[0]!.InvokerId, made.later, 'the latest fire first');
    assert.deepEqual(
      set
        .slice(1)
        .map((r) => r.InvokerId)
        .sort(),
      [made.fires, made.offline].sort(),
    );
    const page = await tat.DescribeInvokerRecords({
      InvokerIds: [made.fires, made.offline, made.later],
      Limit: 1,
      Offset: 1,
    });
    assert.equal(page.TotalCount, 3);
    assert.deepEqual(page.InvokerRecordSet, [set[1]]);
    assert.ok((await tat.DescribeInvokerRecords({})).TotalCount! >= 3);
  });

  test('the disabled one and the deleted one never fire', async () => {
    // A ONCE fire is one instant. Past it and the catch-up window (10 s here) neither Temporal
    // (its catch-up window) nor tatd's activity (which refuses fires later than the window) can
    // start it any more, so watching until then, with 2 s to spare, covers every way it could run.
    const until = due + CATCH_UP_MS + 2_000;
    await stays(
      async () =>
        (await tat.DescribeInvokerRecords({ InvokerIds: [made.disabled, made.deleted] })).TotalCount === 0,
      {
        forMs: Math.max(0, until - Date.now()),
        what: 'no record for the disabled and the deleted invoker',
        why: 'until its catch-up window has passed, after which nothing can start a ONCE fire',
      },
    );
    const r = await tat.DescribeInvokerRecords({ InvokerIds: [made.disabled, made.deleted] });
    assert.equal(r.TotalCount, 0);
    assert.equal(
      (await tat.DescribeInvocations({ Filters: [{ Name: 'command-id', Values: [onceCmd] }] })).TotalCount,
      2,
    );
    const schedules = new ScheduleClient({ connection: temporal.connection });
    const disabled = await schedules.getHandle(`tatd-${APPID}-ap-guangzhou-${made.disabled}`).describe();
    assert.equal(disabled.state.paused, true);
    assert.deepEqual(disabled.info.recentActions, []);
    await assert.rejects(
      schedules.getHandle(`tatd-${APPID}-ap-guangzhou-${made.deleted}`).describe(),
      ScheduleNotFoundError,
    );
    // The enabled one still has exactly one record and one invocation.
    assert.equal((await tat.DescribeInvokerRecords({ InvokerIds: [made.fires] })).TotalCount, 1);
    const tasks = await tasksOf(
      tat,
      (await tat.DescribeInvokerRecords({ InvokerIds: [made.fires] })).InvokerRecordSet![0]!.InvocationId!,
    );
    assert.equal(tasks.length, ids.length);
  });
});
