// Registration codes, managed instances and quotas through the official SDK against the real tatd,
// and the registered agent's side of the protocol spoken by hand (RegisterInstance, signed
// headers) as the reference agent speaks it: every action's error cases (each code checked against
// the action's documented list), what a code allows, signatures (forged, stale, replayed, the
// reference agent's retry with the same headers), a deleted instance cut off, and the quotas.

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isDocumentedCode, type ActionName } from '../../tat/error-codes.js';
import type { TatClient } from '../../tat/node/client.js';
import {
  agentPost,
  newRandomKey,
  openAgentSocket,
  registerByHand,
  rsaKeyPair,
  signedHeaders,
  type WireIdentity,
} from '../helpers/agent-wire.js';
import { b64, waitTasks } from '../helpers/invocations.js';
import { client, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { nextSecond, waitFor } from '../../testkit/wait.js';

const A = { secretId: 'AKIDreg', secretKey: 'reg-secret', appId: '1700000001' };
const B = { secretId: 'AKIDother', secretKey: 'other-secret', appId: '1700000002' };
const accounts = [A, B].map((a) => `${a.secretId}:${a.secretKey}:${a.appId}`);
const API_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let tatd: Tatd;
let tat: TatClient;

before(async () => {
  tatd = await startTatd({ accounts });
  tat = client(tatd, A);
});

after(async () => {
  await tatd?.stop();
});

/** The call fails with `code`, and `code` is one `action` documents (or a common one). */
async function refused(action: ActionName, call: Promise<unknown>, code: string): Promise<string> {
  assert.ok(isDocumentedCode(action, code), `${code} is not documented for ${action}`);
  return expectTatError(call, code);
}

let codes = 0;
/**
 * A new code. Each request body is made unique: tatd refuses a changing call identical to one it
 * accepted within the same second as a replay (TC3 signs no nonce; docs/api-coverage.md).
 */
async function newCode(c: TatClient, req: Parameters<TatClient['CreateRegisterCode']>[0] = {}) {
  const r = await c.CreateRegisterCode({ Description: `code ${++codes}`, ...req });
  return { id: r.RegisterCodeId!, value: r.RegisterCodeValue! };
}

async function registered(machineId: string, c = tat): Promise<WireIdentity> {
  const { answer, identity } = await registerByHand(tatd.url, await newCode(c), machineId);
  assert.equal(answer.Error, undefined, JSON.stringify(answer.Error));
  return identity!;
}

describe('CreateRegisterCode and DescribeRegisterCodes', () => {
  test('a code with the defaults: 10 registrations, 4 hours, no address range, enabled', async () => {
    const before = Date.now();
    const { RegisterCodeId, RegisterCodeValue, RequestId } = await tat.CreateRegisterCode({});
    assert.match(RegisterCodeId!, UUID);
    assert.match(RegisterCodeValue!, /^[0-9a-f]{64}$/);
    assert.match(RequestId!, UUID);
    const r = await tat.DescribeRegisterCodes({ RegisterCodeIds: [RegisterCodeId!] });
    assert.equal(r.TotalCount, 1);
    const c = r.RegisterCodeSet![0]!;
    assert.deepEqual(
      { ...c, CreatedTime: undefined, UpdatedTime: undefined, ExpiredTime: undefined },
      {
        RegisterCodeId,
        Description: '',
        InstanceNamePrefix: '',
        RegisterLimit: 10,
        ExpiredTime: undefined,
        IpAddressRange: '',
        Enabled: true,
        RegisteredCount: 0,
        CreatedTime: undefined,
        UpdatedTime: undefined,
      },
    );
    assert.match(c.CreatedTime!, API_TIME);
    assert.equal(c.UpdatedTime, c.CreatedTime);
    const expires = Date.parse(c.ExpiredTime!) - Date.parse(c.CreatedTime!);
    assert.equal(expires, 4 * 3600_000);
    assert.ok(Math.abs(Date.parse(c.CreatedTime!) - before) < 5000);
    assert.ok(!JSON.stringify(r).includes(RegisterCodeValue!), 'the value is never shown again');
  });

  test('every field given is stored; EffectiveTime above 99999 hours never expires', async () => {
    const { RegisterCodeId } = await tat.CreateRegisterCode({
      Description: 'd'.repeat(128),
      InstanceNamePrefix: 'p'.repeat(32),
      RegisterLimit: 10000,
      EffectiveTime: 100000,
      IpAddressRange: '10.1.0.0/16',
    });
    const c = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [RegisterCodeId!] })).RegisterCodeSet![0]!;
    assert.equal(c.Description, 'd'.repeat(128));
    assert.equal(c.InstanceNamePrefix, 'p'.repeat(32));
    assert.equal(c.RegisterLimit, 10000);
    assert.equal(c.IpAddressRange, '10.1.0.0/16');
    assert.equal(c.ExpiredTime, '9999-12-31T23:59:59Z');
    assert.equal(c.Enabled, true);
    const single = await tat.CreateRegisterCode({ IpAddressRange: '192.168.7.7', EffectiveTime: 99999 });
    const s = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [single.RegisterCodeId!] }))
      .RegisterCodeSet![0]!;
    assert.equal(s.IpAddressRange, '192.168.7.7');
    assert.equal(Date.parse(s.ExpiredTime!) - Date.parse(s.CreatedTime!), 99999 * 3600_000);
  });

  test('out-of-range values answer TooLong, TooSmall, TooLarge or InvalidParameter', async () => {
    const c = (req: object) => tat.CreateRegisterCode(req as never);
    await refused('CreateRegisterCode', c({ Description: 'd'.repeat(129) }), 'InvalidParameterValue.TooLong');
    await refused(
      'CreateRegisterCode',
      c({ InstanceNamePrefix: 'p'.repeat(33) }),
      'InvalidParameterValue.TooLong',
    );
    await refused('CreateRegisterCode', c({ RegisterLimit: 0 }), 'InvalidParameterValue.TooSmall');
    await refused('CreateRegisterCode', c({ RegisterLimit: -3 }), 'InvalidParameterValue.TooSmall');
    await refused('CreateRegisterCode', c({ RegisterLimit: 10001 }), 'InvalidParameterValue.TooLarge');
    await refused('CreateRegisterCode', c({ EffectiveTime: 0 }), 'InvalidParameterValue.TooSmall');
    for (const range of ['nope', '10.0.0.0/33', '10.0.0.0/8/1', '300.1.1.1', '10.0.0.0/'])
      await refused('CreateRegisterCode', c({ IpAddressRange: range }), 'InvalidParameter');
    await refused('CreateRegisterCode', c({ RegisterLimit: 'ten' }), 'InvalidParameter');
    await refused('CreateRegisterCode', c({ RegisterLimit: 1.5 }), 'InvalidParameter');
  });

  test('listed newest first with paging; each account and region sees only its own', async () => {
    const east = client(tatd, { ...A, region: 'ap-shanghai' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await newCode(east, { Description: `n${i}` })).id);
    const all = await east.DescribeRegisterCodes({});
    assert.equal(all.TotalCount, 3);
    assert.deepEqual(
      all.RegisterCodeSet!.map((c) => c.RegisterCodeId),
      [...ids].reverse(),
    );
    const page = await east.DescribeRegisterCodes({ Offset: 1, Limit: 1 });
    assert.equal(page.TotalCount, 3);
    assert.deepEqual(
      page.RegisterCodeSet!.map((c) => c.RegisterCodeId),
      [ids[1]],
    );
    assert.equal(
      (await client(tatd, { ...B, region: 'ap-shanghai' }).DescribeRegisterCodes({})).TotalCount,
      0,
    );
    assert.equal(
      (await client(tatd, { ...A, region: 'ap-beijing' }).DescribeRegisterCodes({ RegisterCodeIds: ids }))
        .TotalCount,
      0,
    );
    const picked = await east.DescribeRegisterCodes({ RegisterCodeIds: [ids[0]!, ids[2]!] });
    assert.deepEqual(
      picked.RegisterCodeSet!.map((c) => c.RegisterCodeId),
      [ids[2], ids[0]],
    );
  });

  test('DescribeRegisterCodes refuses malformed ids, too many ids and a Limit over 100', async () => {
    await refused(
      'DescribeRegisterCodes',
      tat.DescribeRegisterCodes({ RegisterCodeIds: ['not-a-code'] }),
      'InvalidParameterValue.InvalidRegisterCodeId',
    );
    const many = Array.from({ length: 101 }, () => randomUUID());
    await refused(
      'DescribeRegisterCodes',
      tat.DescribeRegisterCodes({ RegisterCodeIds: many }),
      'InvalidParameterValue',
    );
    await refused(
      'DescribeRegisterCodes',
      tat.DescribeRegisterCodes({ Limit: 101 }),
      'InvalidParameterValue',
    );
    await refused(
      'DescribeRegisterCodes',
      tat.DescribeRegisterCodes({ Offset: -1 }),
      'InvalidParameterValue',
    );
  });
});

describe('DisableRegisterCodes and DeleteRegisterCodes', () => {
  let sh: TatClient;
  before(() => {
    sh = client(tatd, { ...A, region: 'ap-chengdu' });
  });

  for (const action of ['DisableRegisterCodes', 'DeleteRegisterCodes'] as const) {
    test(`${action}: missing, empty, malformed, repeated and unknown ids; all or nothing`, async () => {
      const call = (ids: unknown) => sh[action]({ RegisterCodeIds: ids as string[] });
      await refused(action, sh[action]({} as { RegisterCodeIds: string[] }), 'MissingParameter');
      await refused(action, call([]), 'MissingParameter');
      await refused(action, call(['bad-id']), 'InvalidParameterValue.InvalidRegisterCodeId');
      const { id } = await newCode(sh);
      await refused(action, call([id, id]), 'InvalidParameterValue.ParameterKeyDuplicated');
      const unknown = randomUUID();
      const msg = await refused(action, call([id, unknown]), 'ResourceNotFound.RegisterCodesNotFoundCode');
      assert.match(msg, new RegExp(unknown));
      // Another account's code is unknown to this one.
      const theirs = await newCode(client(tatd, { ...B, region: 'ap-chengdu' }));
      await refused(action, call([theirs.id]), 'ResourceNotFound.RegisterCodesNotFoundCode');
      const left = (await sh.DescribeRegisterCodes({ RegisterCodeIds: [id] })).RegisterCodeSet!;
      assert.equal(left.length, 1, 'nothing was changed by a refused call');
      assert.equal(left[0]!.Enabled, true);
      await sh[action]({ RegisterCodeIds: [id] });
    });
  }

  test('a disabled code is listed as not Enabled; DeleteRegisterCodes takes 1..99 ids', async () => {
    const { id } = await newCode(sh);
    await sh.DisableRegisterCodes({ RegisterCodeIds: [id] });
    // Again, in the next second (the same request within one second is a replay): still
    // disabled, no error.
    await nextSecond();
    await sh.DisableRegisterCodes({ RegisterCodeIds: [id] });
    const [c] = (await sh.DescribeRegisterCodes({ RegisterCodeIds: [id] })).RegisterCodeSet!;
    assert.equal(c!.Enabled, false);
    const hundred = Array.from({ length: 100 }, () => randomUUID());
    await refused(
      'DeleteRegisterCodes',
      sh.DeleteRegisterCodes({ RegisterCodeIds: hundred }),
      'InvalidParameterValue',
    );
    await sh.DeleteRegisterCodes({ RegisterCodeIds: [id] });
    assert.equal((await sh.DescribeRegisterCodes({ RegisterCodeIds: [id] })).TotalCount, 0);
  });
});

describe('RegisterInstance: what a code allows', () => {
  test('a machine registers with the id and value of a code, and becomes a managed instance', async () => {
    const code = await newCode(tat, { InstanceNamePrefix: 'web-', Description: 'for web' });
    const { answer, identity } = await registerByHand(tatd.url, code, 'wire-reg-1', { hostname: 'host1' });
    assert.equal(answer.Error, undefined);
    assert.match(identity!.instanceId, /^rins-[a-z0-9]{8}$/);
    const r = await tat.DescribeRegisterInstances({ InstanceIds: [identity!.instanceId] });
    assert.equal(r.TotalCount, 1);
    const i = r.RegisterInstanceSet![0]!;
    assert.equal(i.InstanceName, 'web-host1');
    assert.equal(i.RegisterCodeId, code.id);
    assert.equal(i.MachineId, 'wire-reg-1');
    assert.equal(i.HostName, 'host1');
    assert.equal(i.LocalIp, '127.0.0.1');
    assert.equal(i.SystemName, 'Linux');
    assert.match(i.PublicKey!, /^-----BEGIN RSA PUBLIC KEY-----\n/);
    assert.equal(i.Status, 'Offline');
    assert.match(i.CreatedTime!, API_TIME);
    assert.deepEqual(i.Tags, []);
    const [c] = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [code.id] })).RegisterCodeSet!;
    assert.equal(c!.RegisteredCount, 1);
    // Listed with the agents of the account and region too, as instances to run commands on.
    const agents = await tat.DescribeAutomationAgentStatus({ InstanceIds: [identity!.instanceId] });
    assert.equal(agents.AutomationAgentSet![0]!.AgentStatus, 'Offline');
  });

  test('a wrong value, an unknown id, a used-up, disabled or expired code is refused', async () => {
    const code = await newCode(tat, { RegisterLimit: 1 });
    const wrongValue = await registerByHand(tatd.url, { id: code.id, value: 'f'.repeat(64) }, 'wire-x1');
    assert.equal(wrongValue.answer.Error?.Code, 'ResourceNotFound.RegisterCodesNotFoundCode');
    const unknown = await registerByHand(tatd.url, { id: randomUUID(), value: code.value }, 'wire-x1');
    assert.equal(unknown.answer.Error?.Code, 'ResourceNotFound.RegisterCodesNotFoundCode');
    assert.ok(!wrongValue.answer.Error!.Message.includes(code.value), 'the value is not echoed');

    assert.equal((await registerByHand(tatd.url, code, 'wire-x1')).answer.Error, undefined);
    const usedUp = await registerByHand(tatd.url, code, 'wire-x2');
    assert.equal(usedUp.answer.Error?.Code, 'LimitExceeded');
    assert.match(usedUp.answer.Error!.Message, /used up: 1 of 1/);

    const disabled = await newCode(tat);
    await tat.DisableRegisterCodes({ RegisterCodeIds: [disabled.id] });
    const d = await registerByHand(tatd.url, disabled, 'wire-x3');
    assert.equal(d.answer.Error?.Code, 'ResourceUnavailable');
    assert.match(d.answer.Error!.Message, /disabled/);

    const deleted = await newCode(tat);
    await tat.DeleteRegisterCodes({ RegisterCodeIds: [deleted.id] });
    const gone = await registerByHand(tatd.url, deleted, 'wire-x4');
    assert.equal(gone.answer.Error?.Code, 'ResourceNotFound.RegisterCodesNotFoundCode');
  });

  test('RegisterLimit holds under concurrent registrations', async () => {
    const code = await newCode(tat, { RegisterLimit: 3 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => registerByHand(tatd.url, code, `wire-race-${i}`)),
    );
    assert.equal(results.filter((r) => !r.answer.Error).length, 3);
    assert.ok(results.filter((r) => r.answer.Error).every((r) => r.answer.Error!.Code === 'LimitExceeded'));
    const [c] = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [code.id] })).RegisterCodeSet!;
    assert.equal(c!.RegisteredCount, 3);
  });

  test('the source address must be in IpAddressRange (address or CIDR block)', async () => {
    const single = await newCode(tat, { IpAddressRange: '127.0.0.5' });
    const out = await registerByHand(tatd.url, single, 'wire-ip-1', { localAddress: '127.0.0.6' });
    assert.equal(out.answer.Error?.Code, 'IpNotInWhitelist');
    assert.match(out.answer.Error!.Message, /127\.0\.0\.6 is not in the IpAddressRange 127\.0\.0\.5/);
    const inside = await registerByHand(tatd.url, single, 'wire-ip-1', { localAddress: '127.0.0.5' });
    assert.equal(inside.answer.Error, undefined);

    const block = await newCode(tat, { IpAddressRange: '127.0.0.8/29' });
    for (const [address, ok] of [
      ['127.0.0.8', true],
      ['127.0.0.15', true],
      ['127.0.0.16', false],
      ['127.0.0.7', false],
    ] as const) {
      const r = await registerByHand(tatd.url, block, `wire-ip-${address}`, { localAddress: address });
      assert.equal(r.answer.Error?.Code, ok ? undefined : 'IpNotInWhitelist', address);
    }
    // Without a trusted proxy configured, X-Forwarded-For is not believed.
    const forwarded = await registerByHand(tatd.url, single, 'wire-ip-2', {
      localAddress: '127.0.0.6',
      headers: { 'X-Forwarded-For': '127.0.0.5' },
    });
    assert.equal(forwarded.answer.Error?.Code, 'IpNotInWhitelist');
  });

  test('a bad public key or missing field is an InvalidParameter', async () => {
    const code = await newCode(tat);
    const weak = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const r = await registerByHand(tatd.url, code, 'wire-key', { keys: weak });
    assert.equal(r.answer.Error?.Code, 'InvalidParameter');
    assert.match(r.answer.Error!.Message, /2048/);
    const garbage = await registerByHand(tatd.url, code, 'wire-key', {
      keys: { publicKey: 'not a key', privateKey: '' },
    });
    assert.equal(garbage.answer.Error?.Code, 'InvalidParameter');
    const missing = await agentPost(
      tatd.url,
      { MachineId: 'wire-key' },
      {
        Action: 'RegisterInstance',
        ActiveCode: code.id,
        ActiveValue: code.value,
      },
    );
    assert.equal(missing.Error?.Code, 'InvalidParameter');
    const [c] = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [code.id] })).RegisterCodeSet!;
    assert.equal(c!.RegisteredCount, 0);
  });

  test('a machine registering again becomes a new instance; the earlier one stays', async () => {
    const first = await registered('wire-again');
    const second = await registered('wire-again');
    assert.notEqual(first.instanceId, second.instanceId);
    const r = await tat.DescribeRegisterInstances({ InstanceIds: [first.instanceId, second.instanceId] });
    assert.equal(r.TotalCount, 2);
  });
});

describe('signed requests of a registered agent', () => {
  let me: WireIdentity;
  before(async () => {
    me = await registered('wire-signed-1');
  });

  test('signed calls are served: ValidateInstance, DescribeTasks, a task run by hand', async () => {
    const v = await agentPost(tatd.url, signedHeaders(me), {
      Action: 'ValidateInstance',
      SysName: 'Linux',
      Hostname: 'renamed-host',
      LocalIp: '10.0.0.9',
    });
    assert.equal(v.Error, undefined);
    const [i] = (await tat.DescribeRegisterInstances({ InstanceIds: [me.instanceId] })).RegisterInstanceSet!;
    assert.equal(i!.HostName, 'renamed-host');
    assert.equal(i!.LocalIp, '10.0.0.9');

    const socket = await openAgentSocket(tatd.url, signedHeaders(me));
    assert.ok(socket.ws, `the signed handshake was refused (${socket.status})`);
    try {
      await waitFor(
        async () =>
          (await tat.DescribeRegisterInstances({ InstanceIds: [me.instanceId] })).RegisterInstanceSet![0]!
            .Status === 'Online',
        { what: 'the instance Online' },
      );
      const { InvocationId } = await tat.RunCommand({
        Content: b64('echo signed'),
        InstanceIds: [me.instanceId],
      });
      const described = await agentPost(tatd.url, signedHeaders(me), { Action: 'DescribeTasks' });
      const tasks = described.InvocationNormalTaskSet as { InvocationTaskId: string }[];
      assert.equal(tasks.length, 1);
      const taskId = tasks[0]!.InvocationTaskId;
      const now = Math.floor(Date.now() / 1000);
      for (const body of [
        { Action: 'ReportTaskStart', InvocationTaskId: taskId, TimeStamp: now },
        { Action: 'UploadTaskLog', InvocationTaskId: taskId, Index: 0, Output: b64('signed\n'), Dropped: 0 },
        {
          Action: 'ReportTaskFinish',
          InvocationTaskId: taskId,
          TimeStamp: now,
          Result: 'SUCCESS',
          ErrorInfo: '',
          ExitCode: 0,
          FinalLogIndex: 0,
          OutputUrl: '',
          OutputUploadCOSErrorInfo: '',
        },
      ])
        assert.equal((await agentPost(tatd.url, signedHeaders(me), body)).Error, undefined, body.Action);
      const [t] = await waitTasks(tat, InvocationId!, (ts) => ts[0]!.TaskStatus === 'SUCCESS');
      assert.equal(Buffer.from(t!.TaskResult!.Output!, 'base64').toString(), 'signed\n');
    } finally {
      socket.ws?.terminate();
    }
  });

  test('forged, tampered, stale and incomplete signatures are refused, on HTTP and the WebSocket', async () => {
    const other = rsaKeyPair();
    const now = Math.floor(Date.now() / 1000);
    const tampered = { ...signedHeaders(me), Timestamp: String(now + 1) };
    const cases: [string, Record<string, string>, string][] = [
      [
        'signed with another key',
        signedHeaders(me, { signWith: other.privateKey }),
        'AuthFailure.SignatureFailure',
      ],
      ['Timestamp changed after signing', tampered, 'AuthFailure.SignatureFailure'],
      [
        'another MachineId',
        signedHeaders(me, { machineId: 'wire-elsewhere' }),
        'AuthFailure.SignatureFailure',
      ],
      ['ten minutes old', signedHeaders(me, { timestamp: now - 600 }), 'AuthFailure.SignatureExpire'],
      ['ten minutes ahead', signedHeaders(me, { timestamp: now + 600 }), 'AuthFailure.SignatureExpire'],
      ['a short RandomKey', signedHeaders(me, { randomKey: 'abc' }), 'AuthFailure.SignatureFailure'],
      [
        'no Signature',
        Object.fromEntries(Object.entries(signedHeaders(me)).filter(([k]) => k !== 'Signature')),
        'AuthFailure.SignatureFailure',
      ],
      [
        'an unknown instance',
        signedHeaders({ ...me, instanceId: 'rins-zzzzzzzz' }),
        'AuthFailure.UnauthorizedOperation',
      ],
      [
        'not a managed instance id',
        signedHeaders({ ...me, instanceId: 'ins-abcdefgh' }),
        'AuthFailure.UnauthorizedOperation',
      ],
    ];
    for (const [what, headers, code] of cases) {
      const r = await agentPost(tatd.url, headers, { Action: 'DescribeTasks' });
      assert.equal(r.Error?.Code, code, what);
      const socket = await openAgentSocket(tatd.url, headers);
      assert.equal(socket.status, 401, `${what}: the WebSocket is refused`);
    }
    // Another instance's key cannot speak for this one.
    const stranger = await registered('wire-signed-2');
    const r = await agentPost(tatd.url, signedHeaders(me, { signWith: stranger.privateKey }), {
      Action: 'DescribeTasks',
    });
    assert.equal(r.Error?.Code, 'AuthFailure.SignatureFailure');
  });

  test("the reference agent's retry (same headers, same body) gets the first answer; other reuse is a replay", async () => {
    // tat_agent retries a call once, 500 ms later, with the very same headers (a cloned request);
    // tatd accepts such a retry for 30 s, so when it comes makes no difference here.
    const headers = signedHeaders(me);
    const body = { Action: 'CheckUpdate', Version: '1.1.9' };
    const first = await agentPost(tatd.url, headers, body);
    assert.equal(first.Error, undefined);
    const retry = await agentPost(tatd.url, headers, body);
    assert.deepEqual(retry, first, 'the retry is answered with the first answer (same RequestId)');
    // The same RandomKey for another request, or for a handshake: refused.
    const other = await agentPost(tatd.url, headers, { Action: 'DescribeTasks' });
    assert.equal(other.Error?.Code, 'AuthFailure.SignatureFailure');
    assert.match(other.Error!.Message, /replay/);
    assert.equal((await openAgentSocket(tatd.url, headers)).status, 401);
    // A handshake's headers cannot be used again, not even for another handshake.
    const wsHeaders = signedHeaders(me);
    const socket = await openAgentSocket(tatd.url, wsHeaders);
    assert.ok(socket.ws);
    socket.ws.terminate();
    assert.equal((await openAgentSocket(tatd.url, wsHeaders)).status, 401);
    assert.equal((await agentPost(tatd.url, wsHeaders, body)).Error?.Code, 'AuthFailure.SignatureFailure');
  });

  test('concurrent copies of one signed request are run once', async () => {
    const headers = signedHeaders(me);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => agentPost(tatd.url, headers, { Action: 'DescribeTasks' })),
    );
    assert.equal(new Set(answers.map((a) => a.RequestId)).size, 1);
    assert.equal(answers[0]!.Error, undefined);
  });

  test('unsigned agents are refused by default, even with the MachineId of a registered one', async () => {
    const headers = { MachineId: 'wire-signed-1', 'Tat-Version': '1.1.9' };
    const r = await agentPost(tatd.url, headers, { Action: 'DescribeTasks' });
    assert.equal(r.Error?.Code, 'AuthFailure.UnauthorizedOperation');
    assert.match(r.Error!.Message, /not known to this server as a registered instance/);
    assert.equal((await openAgentSocket(tatd.url, headers)).status, 401);
    const byId = await agentPost(tatd.url, { MachineId: me.instanceId }, { Action: 'DescribeTasks' });
    assert.equal(byId.Error?.Code, 'AuthFailure.UnauthorizedOperation');
  });
});

describe('DescribeRegisterInstances, ModifyRegisterInstance, DeleteRegisterInstance', () => {
  let sh: TatClient;
  let one: WireIdentity;
  let two: WireIdentity;
  before(async () => {
    sh = client(tatd, { ...A, region: 'ap-nanjing' });
    one = await registered('wire-list-1', sh);
    two = await registered('wire-list-2', sh);
  });

  test('filters, ids, paging newest first, and the errors of DescribeRegisterInstances', async () => {
    const all = await sh.DescribeRegisterInstances({});
    assert.deepEqual(
      all.RegisterInstanceSet!.map((i) => i.InstanceId),
      [two.instanceId, one.instanceId],
    );
    const f = (Name: string, Values: string[]) =>
      sh.DescribeRegisterInstances({ Filters: [{ Name, Values }] });
    assert.deepEqual(
      (await f('instance-id', [one.instanceId])).RegisterInstanceSet!.map((i) => i.InstanceId),
      [one.instanceId],
    );
    assert.equal((await f('register-status', ['Offline'])).TotalCount, 2);
    assert.equal((await f('register-status', ['Online'])).TotalCount, 0);
    assert.equal((await f('sys-name', ['Linux'])).TotalCount, 2);
    assert.equal((await f('sys-name', ['Windows'])).TotalCount, 0);
    assert.equal((await f('local-ip', ['127.0.0.1'])).TotalCount, 2);
    assert.equal((await f('instance-name', ['wire-host'])).TotalCount, 2);
    assert.equal((await f('tag-key', ['env'])).TotalCount, 0);
    const page = await sh.DescribeRegisterInstances({ Limit: 1, Offset: 1 });
    assert.equal(page.TotalCount, 2);
    assert.deepEqual(
      page.RegisterInstanceSet!.map((i) => i.InstanceId),
      [one.instanceId],
    );
    assert.equal((await client(tatd, B).DescribeRegisterInstances({})).TotalCount, 0);

    const action = 'DescribeRegisterInstances';
    await refused(
      action,
      sh.DescribeRegisterInstances({ InstanceIds: ['ins-abcdefgh'] }),
      'InvalidParameterValue.InvalidRegisterInstanceId',
    );
    await refused(action, f('instance-id', ['nope']), 'InvalidParameterValue.InvalidRegisterInstanceId');
    await refused(action, f('colour', ['red']), 'InvalidParameterValue.InvalidFilter');
    await refused(action, f('register-status', ['Busy']), 'InvalidParameterValue.InvalidFilter');
    await refused(action, f('sys-name', ['BeOS']), 'InvalidParameterValue.InvalidFilter');
    await refused(action, f('register-code-id', ['x']), 'InvalidParameterValue');
    await refused(
      action,
      sh.DescribeRegisterInstances({
        InstanceIds: [one.instanceId],
        Filters: [{ Name: 'sys-name', Values: ['Linux'] }],
      }),
      'InvalidParameter',
    );
    await refused(action, sh.DescribeRegisterInstances({ Limit: 101 }), 'InvalidParameterValue');
  });

  test('ModifyRegisterInstance renames; its errors', async () => {
    await sh.ModifyRegisterInstance({ InstanceId: one.instanceId, InstanceName: 'n'.repeat(60) });
    const [i] = (await sh.DescribeRegisterInstances({ InstanceIds: [one.instanceId] })).RegisterInstanceSet!;
    assert.equal(i!.InstanceName, 'n'.repeat(60));
    assert.ok(Date.parse(i!.UpdatedTime!) >= Date.parse(i!.CreatedTime!));
    const action = 'ModifyRegisterInstance';
    const m = (req: object) => sh.ModifyRegisterInstance(req as { InstanceId: string; InstanceName: string });
    await refused(action, m({ InstanceId: one.instanceId }), 'MissingParameter');
    await refused(action, m({ InstanceName: 'x' }), 'MissingParameter');
    await refused(action, m({ InstanceId: one.instanceId, InstanceName: '' }), 'InvalidParameterValue');
    await refused(
      action,
      m({ InstanceId: one.instanceId, InstanceName: 'n'.repeat(61) }),
      'InvalidParameterValue.TooLong',
    );
    await refused(
      action,
      m({ InstanceId: 'ins-abcdefgh', InstanceName: 'x' }),
      'InvalidParameterValue.InvalidRegisterInstanceId',
    );
    await refused(action, m({ InstanceId: 'rins-zzzzzzzz', InstanceName: 'x' }), 'ResourceNotFound');
    // Another account's instance is not found either.
    await refused(
      action,
      client(tatd, { ...B, region: 'ap-nanjing' }).ModifyRegisterInstance({
        InstanceId: one.instanceId,
        InstanceName: 'x',
      }),
      'ResourceNotFound',
    );
  });

  test('tags (tatd extension): set at registration, replaced by ModifyRegisterInstance, served and filtered', async () => {
    const cq = client(tatd, { ...A, region: 'ap-chongqing' });
    const reg = async (machineId: string, tags?: { Key: string; Value: string }[]) => {
      const r = await registerByHand(tatd.url, await newCode(cq), machineId, tags ? { tags } : {});
      return r;
    };
    const web = (await reg('wire-tag-web', [
      { Key: 'env', Value: 'prod' },
      { Key: 'role', Value: 'web' },
    ]))!.identity!;
    const db = (await reg('wire-tag-db', [{ Key: 'env', Value: 'staging' }])).identity!;
    const bare = (await reg('wire-tag-bare')).identity!;
    const byId = async () =>
      new Map(
        (await cq.DescribeRegisterInstances({})).RegisterInstanceSet!.map((i) => [i.InstanceId!, i.Tags]),
      );
    assert.deepEqual((await byId()).get(web.instanceId), [
      { Key: 'env', Value: 'prod' },
      { Key: 'role', Value: 'web' },
    ]);
    assert.deepEqual((await byId()).get(bare.instanceId), []);
    const ids = async (Name: string, Values: string[]) =>
      (await cq.DescribeRegisterInstances({ Filters: [{ Name, Values }] }))
        .RegisterInstanceSet!.map((i) => i.InstanceId)
        .sort();
    assert.deepEqual(await ids('tag-key', ['env']), [web.instanceId, db.instanceId].sort());
    assert.deepEqual(await ids('tag-key', ['role', 'nope']), [web.instanceId]);
    assert.deepEqual(await ids('tag-value', ['staging']), [db.instanceId]);
    assert.deepEqual(await ids('tag:env', ['prod', 'staging']), [web.instanceId, db.instanceId].sort());
    assert.deepEqual(await ids('tag:role', ['prod']), []);

    // ModifyRegisterInstance with Tags replaces them; without Tags it leaves them alone.
    const modify = (req: object) =>
      cq.ModifyRegisterInstance(req as { InstanceId: string; InstanceName: string });
    await modify({
      InstanceId: bare.instanceId,
      InstanceName: 'bare',
      Tags: [{ Key: 'env', Value: 'prod' }],
    });
    await modify({ InstanceId: web.instanceId, InstanceName: 'web-1' });
    await modify({ InstanceId: db.instanceId, InstanceName: 'db-1', Tags: [] });
    assert.deepEqual(await ids('tag:env', ['prod']), [web.instanceId, bare.instanceId].sort());
    assert.deepEqual((await byId()).get(db.instanceId), []);

    // Bad tags are refused, at registration and by ModifyRegisterInstance, and change nothing.
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: '' }));
    for (const tags of [eleven, [{ Key: '', Value: 'x' }], [{ Key: 'a', Value: 'v'.repeat(256) }]]) {
      const r = await reg('wire-tag-bad', tags);
      assert.equal(r.answer.Error?.Code, 'InvalidParameterValue', JSON.stringify(tags).slice(0, 80));
      await refused(
        'ModifyRegisterInstance',
        modify({ InstanceId: bare.instanceId, InstanceName: 'bare', Tags: tags }),
        'InvalidParameterValue',
      );
    }
    assert.equal((await cq.DescribeRegisterInstances({})).TotalCount, 3);
    assert.deepEqual((await byId()).get(bare.instanceId), [{ Key: 'env', Value: 'prod' }]);
  });

  test('DeleteRegisterInstance: errors; a deleted instance is disconnected and its signatures refused', async () => {
    const action = 'DeleteRegisterInstance';
    await refused(action, sh.DeleteRegisterInstance({} as { InstanceId: string }), 'MissingParameter');
    await refused(
      action,
      sh.DeleteRegisterInstance({ InstanceId: 'nope' }),
      'InvalidParameterValue.InvalidRegisterInstanceId',
    );
    await refused(
      action,
      sh.DeleteRegisterInstance({ InstanceId: 'rins-zzzzzzzz' }),
      'ResourceNotFound.RegisterInstanceNotFoundCode',
    );
    await refused(
      action,
      client(tatd, B).DeleteRegisterInstance({ InstanceId: two.instanceId }),
      'ResourceNotFound.RegisterInstanceNotFoundCode',
    );

    const socket = await openAgentSocket(tatd.url, signedHeaders(two));
    assert.ok(socket.ws);
    const closed = new Promise((resolve) => socket.ws.once('close', resolve));
    await waitFor(
      async () =>
        (await sh.DescribeRegisterInstances({ InstanceIds: [two.instanceId] })).RegisterInstanceSet![0]!
          .Status === 'Online',
      { what: 'the instance Online' },
    );
    await sh.DeleteRegisterInstance({ InstanceId: two.instanceId });
    await closed;
    const r = await agentPost(tatd.url, signedHeaders(two), { Action: 'DescribeTasks' });
    assert.equal(r.Error?.Code, 'AuthFailure.UnauthorizedOperation');
    assert.match(r.Error!.Message, /not known/);
    assert.equal((await openAgentSocket(tatd.url, signedHeaders(two))).status, 401);
    assert.equal((await sh.DescribeRegisterInstances({ InstanceIds: [two.instanceId] })).TotalCount, 0);
    await expectTatError(
      sh.RunCommand({ Content: b64('true'), InstanceIds: [two.instanceId] }),
      'ResourceNotFound.InstanceNotFound',
    );
    await nextSecond(); // the same DeleteRegisterInstance within one second is a replay
    await refused(
      action,
      sh.DeleteRegisterInstance({ InstanceId: two.instanceId }),
      'ResourceNotFound.RegisterInstanceNotFoundCode',
    );
  });
});

describe('quotas', () => {
  let small: Tatd;
  before(async () => {
    small = await startTatd({ accounts, config: { quotas: { command: 2, registerCode: 2 } } });
  });
  after(async () => {
    await small?.stop();
  });

  test('REGISTER_CODE per account and region: LimitExceeded when used up; a delete frees one', async () => {
    const mine = client(small, A);
    const a = await newCode(mine);
    await newCode(mine);
    const msg = await refused('CreateRegisterCode', mine.CreateRegisterCode({}), 'LimitExceeded');
    assert.match(msg, /quota of 2 registration codes/);
    // A disabled code still counts.
    await mine.DisableRegisterCodes({ RegisterCodeIds: [a.id] });
    await refused('CreateRegisterCode', mine.CreateRegisterCode({ Description: 'again' }), 'LimitExceeded');
    // Other regions and other accounts have their own.
    await newCode(client(small, { ...A, region: 'ap-shanghai' }));
    await newCode(client(small, B));
    const q = await mine.DescribeQuotas({ ResourceNames: ['REGISTER_CODE'] });
    assert.deepEqual(q.GeneralResourceQuotaSet, [
      { ResourceName: 'REGISTER_CODE', ResourceQuotaUsed: 2, ResourceQuotaTotal: 2 },
    ]);
    await mine.DeleteRegisterCodes({ RegisterCodeIds: [a.id] });
    await newCode(mine);
  });

  test('COMMAND per account and region: UserHasNoQuotaCode when used up; DescribeQuotas reports both', async () => {
    const mine = client(small, { ...A, region: 'ap-beijing' });
    for (const name of ['q1', 'q2']) await mine.CreateCommand({ CommandName: name, Content: b64('true') });
    await refused(
      'CreateCommand',
      mine.CreateCommand({ CommandName: 'q3', Content: b64('true') }),
      'ResourceUnavailable.UserHasNoQuotaCode',
    );
    const q = await mine.DescribeQuotas({ ResourceNames: ['COMMAND', 'REGISTER_CODE', 'COMMAND'] });
    assert.deepEqual(q.GeneralResourceQuotaSet, [
      { ResourceName: 'COMMAND', ResourceQuotaUsed: 2, ResourceQuotaTotal: 2 },
      { ResourceName: 'REGISTER_CODE', ResourceQuotaUsed: 0, ResourceQuotaTotal: 2 },
    ]);
    const other = await client(small, B).DescribeQuotas({ ResourceNames: ['COMMAND'] });
    assert.equal(other.GeneralResourceQuotaSet![0]!.ResourceQuotaUsed, 0);
  });

  test('the defaults are 500 and 5000; DescribeQuotas errors', async () => {
    const q = await tat.DescribeQuotas({ ResourceNames: ['REGISTER_CODE', 'COMMAND'] });
    assert.deepEqual(
      q.GeneralResourceQuotaSet!.map((s) => [s.ResourceName, s.ResourceQuotaTotal]),
      [
        ['REGISTER_CODE', 5000],
        ['COMMAND', 500],
      ],
    );
    await refused(
      'DescribeQuotas',
      tat.DescribeQuotas({} as { ResourceNames: string[] }),
      'MissingParameter',
    );
    await refused('DescribeQuotas', tat.DescribeQuotas({ ResourceNames: [] }), 'MissingParameter');
    await refused(
      'DescribeQuotas',
      tat.DescribeQuotas({ ResourceNames: ['COMMAND', 'INVOKER'] }),
      'ResourceUnavailable.InvalidResourceQuotaResourceCode',
    );
  });
});

describe('expiry', () => {
  let fast: Tatd;
  before(async () => {
    // One EffectiveTime hour lasts 400 ms here.
    fast = await startTatd({ accounts, config: { timings: { registerCodeHourMs: 400 } } });
  });
  after(async () => {
    await fast?.stop();
  });

  test('an expired code is listed as not Enabled and refuses registrations', async () => {
    const c = client(fast, A);
    const code = await newCode(c, { EffectiveTime: 1 });
    await waitFor(
      async () =>
        (await c.DescribeRegisterCodes({ RegisterCodeIds: [code.id] })).RegisterCodeSet?.[0]?.Enabled ===
        false,
      { what: 'the one-hour (400 ms) code to expire' },
    );
    const r = await registerByHand(fast.url, code, 'wire-late');
    assert.equal(r.answer.Error?.Code, 'ResourceUnavailable');
    assert.match(r.answer.Error!.Message, /expired/);
  });
});

describe('behind a load balancer', () => {
  let proxied: Tatd;
  before(async () => {
    proxied = await startTatd({ accounts, config: { trustedProxies: ['127.0.0.1'] } });
  });
  after(async () => {
    await proxied?.stop();
  });

  test("a trusted proxy's X-Forwarded-For names the agent's address; an untrusted peer's is ignored", async () => {
    const code = await newCode(client(proxied, A), { IpAddressRange: '10.9.8.0/24' });
    const via = (from: string, forwarded: string) =>
      registerByHand(proxied.url, code, `wire-lb-${from}-${forwarded}`, {
        localAddress: from,
        headers: { 'X-Forwarded-For': forwarded },
      });
    assert.equal((await via('127.0.0.1', '10.9.8.7')).answer.Error, undefined);
    assert.equal((await via('127.0.0.1', '10.9.9.7')).answer.Error?.Code, 'IpNotInWhitelist');
    // A client cannot prepend an address: the proxy appends the peer it saw.
    assert.equal((await via('127.0.0.1', '10.9.8.7, 10.1.1.1')).answer.Error?.Code, 'IpNotInWhitelist');
    assert.equal((await via('127.0.0.2', '10.9.8.7')).answer.Error?.Code, 'IpNotInWhitelist');
  });
});

describe('RandomKeys outlive a restart of tatd', () => {
  test('a signed request replayed after a restart is refused', async () => {
    const t = await startTatd({ accounts });
    try {
      const { identity } = await registerByHand(t.url, await newCode(client(t, A)), 'wire-restart');
      const headers = signedHeaders(identity!, { randomKey: newRandomKey() });
      assert.equal((await agentPost(t.url, headers, { Action: 'DescribeTasks' })).Error, undefined);
      await t.restart();
      const again = await agentPost(t.url, headers, { Action: 'DescribeTasks' });
      assert.equal(again.Error?.Code, 'AuthFailure.SignatureFailure');
      assert.equal(
        (await agentPost(t.url, signedHeaders(identity!), { Action: 'DescribeTasks' })).Error,
        undefined,
      );
    } finally {
      await t.stop();
    }
  });
});
