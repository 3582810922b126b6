// tatd over TLS on its one listener (API, agent channel, object store), with a CA made by the test
// (test/helpers/tls.ts) that each client is told to trust; the machine's trust store is never
// changed. The official SDK in-process (an https agent) and in a child process
// (NODE_EXTRA_CA_CERTS); our agent over https:// and wss:// with --ca-file, TATFLOW_CA_FILE and
// config.dat's ca_file, uploading its output over https; the reference agent's protocol spoken by
// hand. And tatd's refusal to listen off loopback without TLS unless --insecure-http.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { TatClient } from '../../tat/node/client.js';
import { agentPost, openAgentSocket, registerByHand, signedHeaders } from '../helpers/agent-wire.js';
import { registerAgent, startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64, waitFinal } from '../helpers/invocations.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';
import { waitFor } from '../../testkit/wait.js';
import { taskDefaults, taskUser } from '../../testkit/task-user.js';

const A = { secretId: 'AKIDtls', secretKey: 'tls-secret', appId: '1800000001' };
const BUCKET = 'tls-out';
const BIN = fileURLToPath(new URL('../../../bin/tatflow', import.meta.url));
const CLIENT_MODULE = fileURLToPath(new URL('../../tat/node/client.js', import.meta.url));
const work = taskUser().dir('tls-work');

let ca: TestCa;
let tatd: Tatd;
let tat: TatClient;
const agents: AgentProcess[] = [];

before(async () => {
  ca = makeTestCa();
  tatd = await startTatd({
    accounts: [`${A.secretId}:${A.secretKey}:${A.appId}`],
    tls: { cert: ca.certFile, key: ca.keyFile },
    config: {
      defaults: taskDefaults(work),
      cos: { buckets: [{ name: BUCKET }] },
    },
  });
  tat = client(tatd, { ...A, ca: ca.ca });
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd?.stop();
  ca?.remove();
  rmSync(work, { recursive: true, force: true });
});

/** GET over https, trusting `trust`. */
function httpsGet(url: string, trust: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: trust }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** Runs `node` with `env`; resolves with its exit code and output. */
function nodeChild(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code, out }));
  });
}

describe('the API over TLS', () => {
  test('the official SDK calls tatd at https:// when told to trust the test CA, and only then', async () => {
    assert.match(tatd.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await tat.DescribeRegions();
    assert.ok((r.TotalCount ?? 0) > 0);
    await assert.rejects(client(tatd, A).DescribeRegions(), /certificate/);
    await assert.rejects(
      client(tatd, { ...A, ca: Buffer.from('') }).DescribeRegions(),
      /certificate|self.signed|unable to verify/i,
    );
  });

  test('a child process trusts it through NODE_EXTRA_CA_CERTS (how the worker and the CLI would)', async () => {
    const script = `
      const { createTatClient } = await import(process.env.CLIENT_MODULE);
      const c = createTatClient({ secretId: '${A.secretId}', secretKey: '${A.secretKey}', region: 'ap-guangzhou', endpoint: process.env.ENDPOINT });
      const r = await c.DescribeRegions();
      console.log('regions', r.TotalCount);`;
    const env = { CLIENT_MODULE, ENDPOINT: tatd.url };
    const trusted = await nodeChild(['--input-type=module', '-e', script], {
      ...env,
      NODE_EXTRA_CA_CERTS: ca.caFile,
    });
    assert.equal(trusted.code, 0, trusted.out);
    assert.match(trusted.out, /^regions \d+$/m);
    const untrusted = await nodeChild(['--input-type=module', '-e', script], env);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.out, /certificate/);
  });
});

describe('agents over https:// and wss://', () => {
  const newCode = async (n: number) => {
    const c = await tat.CreateRegisterCode({ Description: `tls ${n}`, RegisterLimit: 5 });
    return { registerCodeId: c.RegisterCodeId!, registerCodeValue: c.RegisterCodeValue! };
  };

  test('our agent registers and runs tasks with --ca-file, and uploads its output to the object store over https', async () => {
    const reg = await registerAgent(tatd.url, {
      ...(await newCode(1)),
      machineId: 'tls-agent-1',
      args: ['--ca-file', ca.caFile],
    });
    assert.equal(reg.status, 0, reg.output);
    const agent = startAgent(tatd.url, {
      machineId: 'tls-agent-1',
      account: A.appId,
      instanceId: reg.instanceId!,
      dir: reg.dir,
      args: ['--ca-file', ca.caFile],
    });
    agents.push(agent);
    await waitAgents(tat, [agent.instanceId]);
    const { InvocationId } = await tat.RunCommand({
      Content: b64('echo over tls'),
      InstanceIds: [agent.instanceId],
      OutputCOSBucketUrl: `${tatd.url}/cos/${BUCKET}`,
    });
    const { tasks } = await waitFinal(tat, InvocationId!);
    const t = tasks[0]!;
    assert.equal(t.TaskStatus, 'SUCCESS');
    assert.equal(Buffer.from(t.TaskResult!.Output!, 'base64').toString(), 'over tls\n');
    assert.equal(t.TaskResult!.OutputUploadCOSErrorInfo, '');
    const url = t.TaskResult!.OutputUrl!;
    assert.ok(url.startsWith(`${tatd.url}/cos/${BUCKET}/`), url);
    const got = await httpsGet(url, ca.ca);
    assert.equal(got.status, 200);
    assert.equal(got.body.toString(), 'over tls\n');
  });

  test('TATFLOW_CA_FILE and config.dat "ca_file" name the CA too; an unrelated CA is refused', async () => {
    const byEnv = await registerAgent(tatd.url, {
      ...(await newCode(2)),
      machineId: 'tls-agent-env',
      env: { TATFLOW_CA_FILE: ca.caFile },
    });
    assert.equal(byEnv.status, 0, byEnv.output);

    const dir = mkdtempSync(join(tmpdir(), 'tatflow-tls-dat-'));
    const configDat = join(dir, 'config.dat');
    const u = new URL(tatd.url);
    writeFileSync(
      configDat,
      JSON.stringify({
        url: { invoke_url: `${tatd.url}/agent/invoke`, ws_url: `wss://${u.host}/agent/ws` },
        ca_file: ca.caFile,
      }),
    );
    const byDat = await registerAgent(tatd.url, {
      ...(await newCode(3)),
      machineId: 'tls-agent-dat',
      configDat,
    });
    assert.equal(byDat.status, 0, byDat.output);
    const agent = startAgent(tatd.url, {
      machineId: 'tls-agent-dat',
      account: A.appId,
      instanceId: byDat.instanceId!,
      configDat,
      dir,
    });
    agents.push(agent);
    await waitAgents(tat, [agent.instanceId]);

    const wrong = await registerAgent(tatd.url, {
      ...(await newCode(4)),
      machineId: 'tls-agent-wrong',
      args: ['--ca-file', ca.otherCaFile],
    });
    assert.equal(wrong.status, 1);
    assert.match(wrong.output, /register failed: .*(certificate|self.signed|unable to verify)/i);
    const none = await registerAgent(tatd.url, { ...(await newCode(5)), machineId: 'tls-agent-none' });
    assert.equal(none.status, 1);
    assert.match(none.output, /register failed/);
  });

  test("the reference agent's protocol by hand: RegisterInstance, signed calls over https, the WebSocket over wss", async () => {
    const code = await newCode(6);
    const { answer, identity } = await registerByHand(
      tatd.url,
      { id: code.registerCodeId, value: code.registerCodeValue },
      'tls-wire',
      { ca: ca.ca },
    );
    assert.equal(answer.Error, undefined, JSON.stringify(answer.Error));
    const tasks = await agentPost(
      tatd.url,
      signedHeaders(identity!),
      { Action: 'DescribeTasks' },
      undefined,
      ca.ca,
    );
    assert.deepEqual(tasks.InvocationNormalTaskSet, []);
    const socket = await openAgentSocket(tatd.url, signedHeaders(identity!), ca.ca);
    assert.ok(socket.ws, 'the WebSocket opened over wss://');
    await waitFor(
      async () =>
        (await tat.DescribeRegisterInstances({ InstanceIds: [identity!.instanceId] }))
          .RegisterInstanceSet![0]!.Status === 'Online',
      { what: 'the hand-spoken agent Online' },
    );
    socket.ws.terminate();
    await assert.rejects(
      agentPost(tatd.url, signedHeaders(identity!), { Action: 'DescribeTasks' }),
      /certificate|self.signed|unable to verify/i,
    );
  });
});

describe('listening off loopback', () => {
  const account = `${A.secretId}:${A.secretKey}:${A.appId}`;
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const serve = (extra: string[]) => {
    const data = mkdtempSync(join(tmpdir(), 'tatflow-tatd-'));
    dirs.push(data);
    return spawn(process.execPath, [BIN, 'server', '--data', data, '--account', account, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  };

  test('without TLS tatd refuses 0.0.0.0 and says what to do', async () => {
    const p = serve(['--listen', '0.0.0.0:0']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((resolve) => p.on('close', resolve));
    assert.equal(code, 1);
    assert.match(out, /0\.0\.0\.0:0 is reachable from other machines and tatd has no TLS/);
    assert.match(out, /--tls-cert/);
    assert.match(out, /--insecure-http/);
  });

  test('--insecure-http serves it, with a warning; --tls-cert/--tls-key serve it over TLS', async () => {
    for (const [extra, scheme, warns] of [
      [['--insecure-http'], 'http', true],
      [['--tls-cert', ca.certFile, '--tls-key', ca.keyFile], 'https', false],
    ] as const) {
      const p = serve(['--listen', '0.0.0.0:0', ...extra]);
      const lines: string[] = [];
      p.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n')));
      try {
        const listening = await waitFor(() => lines.find((l) => l.includes('"tatd listening"')), {
          what: 'tatd listening',
        });
        assert.equal((JSON.parse(listening) as { url: string }).url.split(':')[0], scheme);
        assert.equal(
          lines.some((l) => l.includes('"level":40') && l.includes('insecureHttp')),
          warns,
          lines.join('\n'),
        );
      } finally {
        p.kill('SIGKILL');
      }
    }
  });

  test('an unreadable certificate is named', async () => {
    const p = serve(['--tls-cert', join(work, 'missing.pem'), '--tls-key', ca.keyFile]);
    let out = '';
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((resolve) => p.on('close', resolve));
    assert.equal(code, 1);
    assert.match(out, /cannot read the TLS certificate .*missing\.pem/);
  });
});
