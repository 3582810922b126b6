// Registered agents end to end: tatd as it starts by default (registered agents only), the official
// SDK as the client, `tatflow agent register` and `tatflow agent` as real processes. A machine
// registers with a code and runs commands as its `rins-` instance; used-up, disabled, expired and
// out-of-range codes are refused; a forged key is refused; a deleted instance is cut off; a machine
// enrolled openly is not served once open enrollment is off.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { TatClient } from '../../tat/node/client.js';
import {
  registerAgent,
  startAgent,
  waitAgents,
  type AgentProcess,
  type Registered,
} from '../../testkit/agents.js';
import { b64, outputOf, waitFinal } from '../helpers/invocations.js';
import { client, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';
import { taskDefaults } from '../../testkit/task-user.js';

const ACCOUNT = { secretId: 'AKIDmanaged', secretKey: 'managed-secret', appId: '1800000001' };
const accounts = [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`];
const defaults = taskDefaults();
// One EffectiveTime hour lasts a second here: codes that must stay valid are made to never expire.
const config = { defaults, timings: { registerCodeHourMs: 1000 } };
const FOREVER = 100000;
const BIN = fileURLToPath(new URL('../../../bin/tatflow', import.meta.url));

let tatd: Tatd;
let tat: TatClient;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  tatd = await startTatd({ accounts, config });
  tat = client(tatd, ACCOUNT);
});

after(async () => {
  for (const c of cleanup.reverse()) await c();
  await tatd?.stop();
});

function track<T extends AgentProcess | Tatd>(x: T): T {
  cleanup.push(() => x.stop());
  return x;
}

let codes = 0;
async function newCode(req: Parameters<TatClient['CreateRegisterCode']>[0] = {}) {
  // A unique body: an identical CreateRegisterCode within the same second would be a replay.
  const r = await tat.CreateRegisterCode({ EffectiveTime: FOREVER, Description: `code ${++codes}`, ...req });
  return { registerCodeId: r.RegisterCodeId!, registerCodeValue: r.RegisterCodeValue! };
}

/** Starts the agent of a registered machine from its state directory. */
function startRegistered(reg: Registered, machineId: string, args: string[] = []): AgentProcess {
  assert.ok(reg.instanceId, `registration failed: ${reg.output}`);
  return track(
    startAgent(tatd.url, {
      machineId,
      account: ACCOUNT.appId,
      dir: reg.dir,
      instanceId: reg.instanceId,
      maxBackoffSeconds: 3,
      args,
    }),
  );
}

async function runOn(instanceId: string, script: string): Promise<string> {
  const { InvocationId } = await tat.RunCommand({ Content: b64(script), InstanceIds: [instanceId] });
  const { tasks } = await waitFinal(tat, InvocationId!);
  assert.equal(tasks[0]!.TaskStatus, 'SUCCESS', JSON.stringify(tasks[0]));
  return outputOf(tasks[0]!);
}

const refusedLogs = (instanceId: string) =>
  tatd.logs().filter((l) => l.msg === 'agent refused' && String(l.reason).includes(instanceId));

describe('registering a machine', () => {
  test('register with a code, then run commands on the rins- instance', async () => {
    const code = await newCode({ InstanceNamePrefix: 'e2e-', RegisterLimit: 2 });
    // A --tag that is not key=value is refused before anything is sent.
    const bad = await registerAgent(tatd.url, { ...code, machineId: 'managed-1', tags: ['prod'] });
    assert.equal(bad.status, 1);
    assert.match(bad.output, /--tag: give key=value/);
    const reg = await registerAgent(tatd.url, {
      ...code,
      machineId: 'managed-1',
      sourceAddress: '127.0.0.3',
      tags: ['env=prod', 'owner='],
    });
    assert.equal(reg.status, 0, reg.output);
    assert.match(reg.output, /^register success: rins-[a-z0-9]{8} \(saved in .*register\.json\)\n$/);
    const file = join(reg.dir, 'register.json');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the private key is readable by its owner only');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { register: Record<string, string> };
    assert.equal(saved.register.instance_id, reg.instanceId);
    assert.equal(saved.register.machine_id, 'managed-1');
    assert.equal(saved.register.region, 'ap-guangzhou');
    assert.equal(saved.register.register_code, code.registerCodeId);
    assert.match(saved.register.private_key!, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.ok(!readFileSync(file, 'utf8').includes(code.registerCodeValue), 'the code value is not kept');
    assert.ok(
      tatd
        .logs()
        .some(
          (l) => l.msg === 'machine registered' && l.instanceId === reg.instanceId && l.peer === '127.0.0.3',
        ),
    );

    const agent = startRegistered(reg, 'managed-1', ['--source-address', '127.0.0.3']);
    await waitAgents(tat, [reg.instanceId!]);
    assert.equal(await runOn(reg.instanceId!, 'echo "managed $TATFLOW_MACHINE_ID"'), 'managed managed-1\n');
    const [info] = (await tat.DescribeRegisterInstances({ InstanceIds: [reg.instanceId!] }))
      .RegisterInstanceSet!;
    assert.equal(info!.Status, 'Online');
    assert.equal(info!.MachineId, 'managed-1');
    assert.equal(info!.LocalIp, '127.0.0.3');
    assert.match(info!.InstanceName!, /^e2e-/);
    assert.deepEqual(info!.Tags, [
      { Key: 'env', Value: 'prod' },
      { Key: 'owner', Value: '' },
    ]);
    await waitFor(() => agent.lines.some((l) => l.includes('validate_instance success')), {
      what: 'ValidateInstance to succeed',
    });
    const [c] = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [code.registerCodeId] }))
      .RegisterCodeSet!;
    assert.equal(c!.RegisteredCount, 1);
  });

  test("with --config the registration goes into the reference agent's config.dat", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tatflow-configdat-'));
    const configDat = join(dir, 'config.dat');
    const url = {
      invoke_url: `${tatd.url}/agent/invoke`,
      ws_url: `${tatd.url.replace('http', 'ws')}/agent/ws`,
    };
    writeFileSync(configDat, JSON.stringify({ url }));
    const reg = await registerAgent(tatd.url, {
      ...(await newCode()),
      machineId: 'managed-cd',
      configDat,
      dir,
    });
    assert.equal(reg.status, 0, reg.output);
    const doc = JSON.parse(readFileSync(configDat, 'utf8')) as {
      url: object;
      register: { instance_id: string };
    };
    assert.deepEqual(doc.url, url, 'the url section is kept');
    assert.equal(doc.register.instance_id, reg.instanceId);
    assert.equal(statSync(configDat).mode & 0o777, 0o600);
    const agent = track(
      startAgent('', {
        machineId: 'managed-cd',
        account: ACCOUNT.appId,
        configDat,
        dir,
        instanceId: reg.instanceId!,
      }),
    );
    await waitAgents(tat, [agent.instanceId]);
    assert.equal(await runOn(agent.instanceId, 'echo from-config-dat'), 'from-config-dat\n');
  });
});

describe('provisioning without a person: tatflow register-code and --register-code-file', () => {
  test('the agent registers with the code file on its first start, and only then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tatflow-provision-'));
    const codeFile = join(dir, 'codes', 'agents.json');
    const made = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        // Never expiring: an EffectiveTime hour lasts a second in this file's tatd.
        [
          BIN,
          'register-code',
          '--out',
          codeFile,
          '--tat-endpoint',
          tatd.url,
          '--limit',
          '2',
          '--hours',
          String(FOREVER),
        ],
        {
          env: {
            ...process.env,
            TENCENTCLOUD_SECRET_ID: ACCOUNT.secretId,
            TENCENTCLOUD_SECRET_KEY: ACCOUNT.secretKey,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(made.code, 0, made.out);
    assert.equal(statSync(codeFile).mode & 0o777, 0o600, 'the code file is owner-only');
    const file = JSON.parse(readFileSync(codeFile, 'utf8')) as { registerCodeId: string; region: string };
    assert.equal(file.region, 'ap-guangzhou');

    const agent = track(
      startAgent(tatd.url, {
        machineId: 'provisioned',
        account: ACCOUNT.appId,
        dir: join(dir, 'agent'),
        maxBackoffSeconds: 3,
        args: ['--register-code-file', codeFile],
      }),
    );
    const registered = () => agent.lines.filter((l) => l.startsWith('register success: rins-'));
    const line = await waitFor(() => registered()[0], { what: 'the agent registered' });
    const instanceId = /rins-[a-z0-9]+/.exec(line)![0];
    await waitFor(
      async () =>
        (await tat.DescribeRegisterInstances({ InstanceIds: [instanceId] })).RegisterInstanceSet?.[0]
          ?.Status === 'Online',
      { what: 'the registered agent Online' },
    );
    assert.equal(await runOn(instanceId, 'echo provisioned'), 'provisioned\n');
    // Started again, it is the same instance: the code is not used a second time.
    const starts = () => agent.lines.filter((l) => l.includes('"agent started"') && l.includes(instanceId));
    assert.equal(starts().length, 1);
    await agent.stop();
    agent.start();
    await waitFor(() => starts().length === 2, { what: 'the agent started again' });
    assert.equal(registered().length, 1);
    const [code] = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [file.registerCodeId] }))
      .RegisterCodeSet!;
    assert.equal(code!.RegisteredCount, 1);
  });
});

describe('codes that do not allow a registration', () => {
  const failed = async (spec: Parameters<typeof registerAgent>[1], pattern: RegExp) => {
    const reg = await registerAgent(tatd.url, spec);
    assert.equal(reg.status, 1, reg.output);
    assert.match(reg.output, /^register failed: /);
    assert.match(reg.output, pattern);
    assert.equal(reg.instanceId, undefined);
  };

  test('used up, disabled, expired, or a wrong value', async () => {
    const once = await newCode({ RegisterLimit: 1 });
    assert.equal((await registerAgent(tatd.url, { ...once, machineId: 'used-1' })).status, 0);
    await failed({ ...once, machineId: 'used-2' }, /LimitExceeded: .*used up: 1 of 1/);

    const disabled = await newCode();
    await tat.DisableRegisterCodes({ RegisterCodeIds: [disabled.registerCodeId] });
    await failed({ ...disabled, machineId: 'disabled-1' }, /ResourceUnavailable: .*disabled/);

    const short = await newCode({ EffectiveTime: 1 });
    await waitFor(
      async () =>
        (await tat.DescribeRegisterCodes({ RegisterCodeIds: [short.registerCodeId] })).RegisterCodeSet?.[0]
          ?.Enabled === false,
      { what: 'the one-hour code to expire' },
    );
    await failed({ ...short, machineId: 'expired-1' }, /ResourceUnavailable: .*expired/);

    const good = await newCode();
    await failed(
      { ...good, registerCodeValue: '0'.repeat(64), machineId: 'wrong-1' },
      /ResourceNotFound.RegisterCodesNotFoundCode/,
    );
    const [c] = (await tat.DescribeRegisterCodes({ RegisterCodeIds: [good.registerCodeId] }))
      .RegisterCodeSet!;
    assert.equal(c!.RegisteredCount, 0);
  });

  test("an agent outside the code's IpAddressRange is refused; inside it registers and runs", async () => {
    const code = await newCode({ IpAddressRange: '127.0.0.8/30' });
    await failed(
      { ...code, machineId: 'range-out', sourceAddress: '127.0.0.12' },
      /IpNotInWhitelist: .*127\.0\.0\.12/,
    );
    await failed({ ...code, machineId: 'range-out', sourceAddress: '127.0.0.1' }, /IpNotInWhitelist/);
    const reg = await registerAgent(tatd.url, {
      ...code,
      machineId: 'range-in',
      sourceAddress: '127.0.0.10',
    });
    assert.equal(reg.status, 0, reg.output);
    startRegistered(reg, 'range-in', ['--source-address', '127.0.0.10']);
    await waitAgents(tat, [reg.instanceId!]);
    assert.equal(await runOn(reg.instanceId!, 'echo in-range'), 'in-range\n');
  });
});

describe('a registered instance cut off', () => {
  test('an agent signing with another key is refused and never comes online', async () => {
    const reg = await registerAgent(tatd.url, { ...(await newCode()), machineId: 'forger-1' });
    assert.equal(reg.status, 0, reg.output);
    const file = join(reg.dir, 'register.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { register: { private_key: string } };
    doc.register.private_key = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    }).privateKey;
    writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
    const agent = startRegistered(reg, 'forger-1');
    await waitFor(() => refusedLogs(reg.instanceId!).some((l) => l.code === 'AuthFailure.SignatureFailure'), {
      what: 'tatd to refuse the forged signature',
    });
    await waitFor(() => agent.lines.some((l) => l.includes('the server refused the connection')), {
      what: 'the agent to see the refusal',
    });
    const s = await tat.DescribeAutomationAgentStatus({ InstanceIds: [reg.instanceId!] });
    assert.equal(s.AutomationAgentSet![0]!.AgentStatus, 'Offline');
    await expectTatError(
      tat.RunCommand({ Content: b64('true'), InstanceIds: [reg.instanceId!] }),
      'ResourceUnavailable.AgentStatusNotOnline',
    );
  });

  test('DeleteRegisterInstance disconnects the agent and refuses it from then on; it may register again', async () => {
    const reg = await registerAgent(tatd.url, { ...(await newCode()), machineId: 'deleted-1' });
    const agent = startRegistered(reg, 'deleted-1');
    await waitAgents(tat, [reg.instanceId!]);
    await tat.DeleteRegisterInstance({ InstanceId: reg.instanceId! });
    await waitFor(() => agent.lines.some((l) => l.includes('"disconnected"')), {
      what: 'the agent disconnected',
    });
    await waitFor(() => refusedLogs(reg.instanceId!).some((l) => /not known/.test(String(l.reason))), {
      what: 'tatd to refuse the deleted instance when it reconnects',
      timeoutMs: 30_000,
    });
    assert.equal((await tat.DescribeRegisterInstances({ InstanceIds: [reg.instanceId!] })).TotalCount, 0);
    assert.equal((await tat.DescribeAutomationAgentStatus({ InstanceIds: [reg.instanceId!] })).TotalCount, 0);
    await expectTatError(
      tat.RunCommand({ Content: b64('true'), InstanceIds: [reg.instanceId!] }),
      'ResourceNotFound.InstanceNotFound',
    );
    // The machine's owner registers it again: a new instance, served again.
    await agent.stop();
    const again = await registerAgent(tatd.url, {
      ...(await newCode()),
      machineId: 'deleted-1',
      dir: reg.dir,
    });
    assert.equal(again.status, 0, again.output);
    assert.notEqual(again.instanceId, reg.instanceId);
    startRegistered(again, 'deleted-1');
    await waitAgents(tat, [again.instanceId!]);
    assert.equal(await runOn(again.instanceId!, 'echo back'), 'back\n');
  });
});

describe('secure by default', () => {
  test('a machine enrolled openly is refused once tatd runs without --open-enrollment', async () => {
    const open = track(await startTatd({ accounts, config, openEnrollment: true }));
    const agent = track(
      startAgent(open.url, { machineId: 'open-1', account: ACCOUNT.appId, maxBackoffSeconds: 3 }),
    );
    await waitAgents(client(open, ACCOUNT), [agent.instanceId]);
    await open.stop();
    const closed = track(await startTatd({ accounts, config, port: open.port, dataDir: open.dataDir }));
    await waitFor(
      () =>
        closed
          .logs()
          .some(
            (l) =>
              l.msg === 'agent refused' && String(l.reason).includes('open-1 is not known to this server'),
          ),
      { what: 'the unregistered machine refused' },
    );
    const s = await client(closed, ACCOUNT).DescribeAutomationAgentStatus({
      InstanceIds: [agent.instanceId],
    });
    assert.equal(s.AutomationAgentSet![0]!.AgentStatus, 'Offline');
  });
});
