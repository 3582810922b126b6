// Output beyond 24 KB through tatd's built-in object store, with real processes: RunCommand /
// InvokeCommand with OutputCOSBucketUrl → the agent keeps the whole output in a file, calls
// GetCosCredential and PUTs it to `<bucket URL>/<prefix>/<invocation>/<task>.log` → the task's
// OutputUrl is a pre-signed, expiring GET URL of it, fetched here with plain HTTP; the task keeps
// its 24 KB excerpt. Also: bucket URL rules, unknown buckets, a failed upload, what the store's
// PUT demands (a credential scoped to the task's object and issued while it runs, a valid COS
// signature, no object there yet), that a reported OutputUrl gets signed only for the task's own
// key, and the object size limit, the account quota and removal with the records.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import { agentHeaders } from '../../agent/headers.js';
import { derivedInstanceId } from '../../server/gateway/identity.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { openAgentSocket, registerByHand, signedHeaders } from '../helpers/agent-wire.js';
import { b64, invocation, tasksOf, waitFinal, type Task } from '../helpers/invocations.js';
import { client, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';
import { taskUser, taskDefaults } from '../../testkit/task-user.js';

const ACCOUNT = { secretId: 'AKIDcos', secretKey: 'cos-secret', appId: '1300000101' };
const OTHER = { secretId: 'AKIDcosother', secretKey: 'cos-other-secret', appId: '1300000102' };
const BUCKET = 'logs-1300000101';
const GONE = 'gone-1300000101';
const PRIVATE = 'private-1300000102';
const URL_TTL_MS = 5000;
const work = taskUser().dir('work');

// 16384 lines of 64 bytes: 1 MiB exactly.
const MIB_SCRIPT = "seq -f '%063g' 1 16384";
const MIB = Buffer.from(
  Array.from({ length: 16384 }, (_, i) => `${String(i + 1).padStart(63, '0')}\n`).join(''),
);

let tatd: Tatd;
let tat: TatClient;
let agent: AgentProcess;
let id: string;
let bucketUrl: string;

interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const xmlCode = (a: HttpAnswer) => /<Code>([^<]*)<\/Code>/.exec(a.body.toString('utf8'))?.[1];

async function finishedTask(invocationId: string): Promise<Task> {
  const { tasks } = await waitFinal(tat, invocationId);
  assert.equal(tasks.length, 1);
  return tasks[0]!;
}

before(async () => {
  tatd = await startTatd({
    accounts: [
      `${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`,
      `${OTHER.secretId}:${OTHER.secretKey}:${OTHER.appId}`,
    ],
    openEnrollment: true,
    config: {
      defaults: taskDefaults(work),
      cos: {
        buckets: [{ name: BUCKET }, { name: GONE }, { name: PRIVATE, appId: OTHER.appId }],
        // Tests talk plain http to tatd: the development option.
        allowHttp: true,
        outputUrlTtlMs: URL_TTL_MS,
      },
    },
  });
  tat = client(tatd, ACCOUNT);
  agent = startAgent(tatd.url, { machineId: 'cos-agent', account: ACCOUNT.appId });
  id = agent.instanceId;
  bucketUrl = `${tatd.url}/cos/${BUCKET}`;
  await waitAgents(tat, [id]);
});

after(async () => {
  await agent.stop();
  await tatd.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The 1 MB task of the first test (account A's object; the last tests use it too). */
let mibTask: Task;

describe('the whole output through the object store', () => {
  test('a 1 MB output arrives whole at OutputUrl; the task keeps its 24 KB excerpt', async () => {
    const { InvocationId } = await tat.RunCommand({
      Content: b64(MIB_SCRIPT),
      InstanceIds: [id],
      OutputCOSBucketUrl: bucketUrl,
      OutputCOSKeyPrefix: 'runs/nightly/',
    });
    const t = await finishedTask(InvocationId!);
    mibTask = t;
    assert.equal(t.TaskStatus, 'SUCCESS');
    assert.equal(t.TaskResult!.OutputUploadCOSErrorInfo, '');
    const excerpt = Buffer.from(t.TaskResult!.Output!, 'base64');
    assert.deepEqual(excerpt, MIB.subarray(0, 24576));
    assert.equal(t.TaskResult!.Dropped, MIB.length - 24576);

    const key = `runs/nightly/${InvocationId}/${t.InvocationTaskId}.log`;
    const url = t.TaskResult!.OutputUrl!;
    assert.ok(url.startsWith(`${bucketUrl}/${key}?q-sign-algorithm=sha1&`), url);
    const got = await request('GET', url);
    assert.equal(got.status, 200);
    assert.equal(got.body.length, MIB.length);
    assert.ok(got.body.equals(MIB), 'the object is the whole output, byte for byte');
    // Files under --data, and nothing left behind on the agent.
    assert.ok(readFileSync(join(tatd.dataDir, 'cos', BUCKET, key)).equals(MIB));
    assert.deepEqual(
      readdirSync(join(agent.dir, 'scripts')).filter((f) => f.endsWith('.log')),
      [],
    );
    // The invocation shows the bucket and prefix as given.
    const inv = await invocation(tat, InvocationId!);
    assert.equal(inv.OutputCOSBucketUrl, bucketUrl);
    assert.equal(inv.OutputCOSKeyPrefix, 'runs/nightly/');
  });

  test('a forged or altered OutputUrl is refused', async () => {
    const url = new URL(mibTask.TaskResult!.OutputUrl!);
    const signature = url.searchParams.get('q-signature')!;
    const forged = new URL(url);
    forged.searchParams.set('q-signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    const a = await request('GET', forged.toString());
    assert.equal(a.status, 403);
    assert.equal(xmlCode(a), 'SignatureDoesNotMatch');
    assert.match(String(a.headers['content-type']), /^application\/xml/);

    // The same signature on another object.
    const elsewhere = new URL(url);
    elsewhere.pathname = url.pathname.replace(/\.log$/, '-other.log');
    assert.equal(xmlCode(await request('GET', elsewhere.toString())), 'SignatureDoesNotMatch');

    // A later end time, with the signature unchanged.
    const [start, end] = url.searchParams.get('q-sign-time')!.split(';');
    const longer = new URL(url);
    longer.searchParams.set('q-sign-time', `${start};${Number(end) + 86400}`);
    longer.searchParams.set('q-key-time', `${start};${Number(end) + 86400}`);
    assert.equal(xmlCode(await request('GET', longer.toString())), 'SignatureDoesNotMatch');

    // No signature at all; a bucket tatd does not have.
    const bare = await request('GET', `${url.origin}${url.pathname}`);
    assert.equal(bare.status, 403);
    assert.equal(xmlCode(bare), 'AccessDenied');
    const unknown = await request('GET', `${tatd.url}/cos/no-such-bucket/x.log${url.search}`);
    assert.equal(unknown.status, 404);
    assert.equal(xmlCode(unknown), 'NoSuchBucket');
  });

  test('an OutputUrl expires; DescribeInvocationTasks hands out a fresh one', async () => {
    const url = new URL(mibTask.TaskResult!.OutputUrl!);
    const end = Number(url.searchParams.get('q-sign-time')!.split(';')[1]);
    assert.ok(end * 1000 - Date.now() <= URL_TTL_MS + 1000, 'valid for outputUrlTtlMs');
    const expired = await waitFor(
      async () => {
        const r = await request('GET', url.toString());
        return r.status !== 200 && r;
      },
      { timeoutMs: URL_TTL_MS + 5000, what: 'the OutputUrl to expire' },
    );
    assert.ok(Date.now() >= end * 1000, 'refused only once its q-sign-time has passed');
    assert.equal(expired.status, 403);
    assert.equal(xmlCode(expired), 'AccessDenied');
    assert.match(expired.body.toString(), /expired/);

    const [again] = await tasksOf(tat, mibTask.InvocationId!);
    const fresh = await request('GET', again!.TaskResult!.OutputUrl!);
    assert.equal(fresh.status, 200);
    assert.ok(fresh.body.equals(MIB));
  });

  test("InvokeCommand uploads too: the command's bucket by default, the call's when given", async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'cos-default',
      Content: b64('echo "from $TATFLOW_MACHINE_ID"'),
      OutputCOSBucketUrl: bucketUrl,
      OutputCOSKeyPrefix: 'by-command',
    });
    const first = await tat.InvokeCommand({ CommandId: CommandId!, InstanceIds: [id] });
    const t1 = await finishedTask(first.InvocationId!);
    assert.ok(
      t1.TaskResult!.OutputUrl!.startsWith(
        `${bucketUrl}/by-command/${first.InvocationId}/${t1.InvocationTaskId}.log?`,
      ),
    );
    assert.equal((await request('GET', t1.TaskResult!.OutputUrl!)).body.toString(), 'from cos-agent\n');

    // No prefix: the key is <invocation>/<task>.log; a trailing "/" on the bucket URL is fine.
    const second = await tat.InvokeCommand({
      CommandId: CommandId!,
      InstanceIds: [id],
      OutputCOSBucketUrl: `${bucketUrl}/`,
      OutputCOSKeyPrefix: '',
    });
    const t2 = await finishedTask(second.InvocationId!);
    assert.equal(t2.TaskResult!.OutputUploadCOSErrorInfo, '');
    const url = new URL(t2.TaskResult!.OutputUrl!);
    assert.equal(url.pathname, `/cos/${BUCKET}/${second.InvocationId}/${t2.InvocationTaskId}.log`);
    assert.equal((await request('GET', url.toString())).body.toString(), 'from cos-agent\n');
  });

  test('without OutputCOSBucketUrl nothing is uploaded and OutputUrl stays empty', async () => {
    const { InvocationId } = await tat.RunCommand({ Content: b64('echo plain'), InstanceIds: [id] });
    const t = await finishedTask(InvocationId!);
    assert.equal(t.TaskResult!.OutputUrl, '');
    assert.equal(t.TaskResult!.OutputUploadCOSErrorInfo, '');
    assert.equal(existsSync(join(tatd.dataDir, 'cos', BUCKET, InvocationId!)), false);
  });

  test('a failed upload lands in OutputUploadCOSErrorInfo; the task result and excerpt stay', async () => {
    // The bucket is declared, but its directory was removed from disk.
    rmSync(join(tatd.dataDir, 'cos', GONE), { recursive: true, force: true });
    const { InvocationId } = await tat.RunCommand({
      Content: b64(MIB_SCRIPT),
      InstanceIds: [id],
      OutputCOSBucketUrl: `${tatd.url}/cos/${GONE}`,
    });
    const t = await finishedTask(InvocationId!);
    assert.equal(t.TaskStatus, 'SUCCESS');
    assert.equal(t.TaskResult!.OutputUrl, '');
    assert.match(
      t.TaskResult!.OutputUploadCOSErrorInfo!,
      /^Upload output to cos failed: HTTP 404 NoSuchBucket: The specified bucket does not exist\.$/,
    );
    assert.deepEqual(Buffer.from(t.TaskResult!.Output!, 'base64'), MIB.subarray(0, 24576));
    assert.deepEqual(
      readdirSync(join(agent.dir, 'scripts')).filter((f) => f.endsWith('.log')),
      [],
      'the output file is removed after a failed upload too',
    );
  });
});

describe('bucket URLs', () => {
  test('a bucket tatd does not have (or that belongs to another account) is ResourceNotFound.CosBucketNotFoundCode', async () => {
    const before = (await tat.DescribeInvocations({})).TotalCount;
    for (const url of [
      `${tatd.url}/cos/no-such-bucket`,
      `${tatd.url}/cos/${PRIVATE}`,
      'https://examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
    ]) {
      await expectTatError(
        tat.RunCommand({ Content: b64('true'), InstanceIds: [id], OutputCOSBucketUrl: url }),
        'ResourceNotFound.CosBucketNotFoundCode',
      );
    }
    // A command may name any bucket URL of the right form; running it needs the bucket.
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'real-cos',
      Content: b64('true'),
      OutputCOSBucketUrl: 'https://examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
    });
    await expectTatError(
      tat.InvokeCommand({ CommandId: CommandId!, InstanceIds: [id] }),
      'ResourceNotFound.CosBucketNotFoundCode',
    );
    assert.equal((await tat.DescribeInvocations({})).TotalCount, before, 'nothing was started');

    // The account the private bucket belongs to may use it (its URL passes; it has no instance).
    await expectTatError(
      client(tatd, OTHER).RunCommand({
        Content: b64('true'),
        InstanceIds: [id],
        OutputCOSBucketUrl: `${tatd.url}/cos/${PRIVATE}`,
      }),
      'ResourceNotFound.InstanceNotFound',
    );
  });

  test('key prefixes follow the spec', async () => {
    for (const prefix of ['/abs', 'a//b', 'a/../b', 'x'.repeat(61), '.', './a', 'a/./b', 'a/.'])
      await expectTatError(
        tat.RunCommand({
          Content: b64('true'),
          InstanceIds: [id],
          OutputCOSBucketUrl: bucketUrl,
          OutputCOSKeyPrefix: prefix,
        }),
        'InvalidParameterValue.InvalidOutputCOSKeyPrefix',
      );
  });

  test('without the development option an http:// bucket URL is refused', async () => {
    const strict = await startTatd({
      accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
      config: { cos: { buckets: [{ name: BUCKET }] } },
    });
    try {
      const c = client(strict, ACCOUNT);
      const plain = `${strict.url}/cos/${BUCKET}`;
      await expectTatError(
        c.RunCommand({ Content: b64('true'), InstanceIds: ['ins-00000000'], OutputCOSBucketUrl: plain }),
        'InvalidParameterValue.InvalidOutputCOSBucketUrl',
      );
      await expectTatError(
        c.CreateCommand({ CommandName: 'h', Content: b64('true'), OutputCOSBucketUrl: plain }),
        'InvalidParameterValue.InvalidOutputCOSBucketUrl',
      );
      for (const bad of [`https://x/cos/${BUCKET}/sub`, `https://x/cos/${BUCKET}?a=1`, 'https://x/elsewhere'])
        await expectTatError(
          c.RunCommand({ Content: b64('true'), InstanceIds: ['ins-00000000'], OutputCOSBucketUrl: bad }),
          'InvalidParameterValue.InvalidOutputCOSBucketUrl',
        );
      // The https form of the same bucket passes the URL rules (and fails on the instance).
      await expectTatError(
        c.RunCommand({
          Content: b64('true'),
          InstanceIds: ['ins-00000000'],
          OutputCOSBucketUrl: `https://tatd.example/cos/${BUCKET}`,
        }),
        'ResourceNotFound.InstanceNotFound',
      );
    } finally {
      await strict.stop();
    }
  });
});

describe("the store's PUT, by hand as the reference agent sends it", () => {
  // The reference agent's signing (cos_adapter.rs), written out independently of tat/node/cos.ts.
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const hmac = (k: string, t: string) => createHmac('sha1', k).update(t).digest('hex');
  function referenceAuthorization(ak: string, sk: string, key: string, headers: Record<string, string>) {
    const now = Math.floor(Date.now() / 1000);
    const keyTime = `${now};${now + 600}`;
    const names = Object.keys(headers).sort();
    const httpHeaders = names.map((n) => `${enc(n).toLowerCase()}=${enc(headers[n]!)}`).join('&');
    const httpString = `put\n${key}\n\n${httpHeaders}\n`;
    const stringToSign = `sha1\n${keyTime}\n${createHash('sha1').update(httpString).digest('hex')}\n`;
    const signature = hmac(hmac(sk, keyTime), stringToSign);
    return `q-sign-algorithm=sha1&q-ak=${ak}&q-sign-time=${keyTime}&q-key-time=${keyTime}&q-header-list=${names.join(';')}&q-url-param-list=&q-signature=${signature}`;
  }

  async function agentCall(
    headers: Record<string, string>,
    body: object,
  ): Promise<Record<string, unknown> & { Error?: { Code: string; Message: string } }> {
    const a = await request('POST', `${tatd.url}/agent/invoke`, headers, Buffer.from(JSON.stringify(body)));
    return (JSON.parse(a.body.toString()) as { Response: Record<string, unknown> }).Response;
  }

  /** A machine spoken by hand: the test decides when its task starts and ends. */
  async function wireTask(
    c: TatClient,
    headers: () => Record<string, string>,
    instanceId: string,
    prefix: string,
  ): Promise<{ invocationId: string; taskId: string; ws: WebSocket }> {
    const opened = await openAgentSocket(tatd.url, headers());
    assert.ok(opened.ws, `the socket opened (HTTP ${opened.status})`);
    const { InvocationId } = await c.RunCommand({
      Content: b64('echo by hand'),
      InstanceIds: [instanceId],
      OutputCOSBucketUrl: bucketUrl,
      OutputCOSKeyPrefix: prefix,
    });
    const got = await agentCall(headers(), { Action: 'DescribeTasks' });
    const task = (got.InvocationNormalTaskSet as { InvocationTaskId: string }[])[0]!;
    return { invocationId: InvocationId!, taskId: task.InvocationTaskId, ws: opened.ws };
  }

  test('a credential writes only its task’s object, once, and only while the task runs', async () => {
    const machine = 'cos-wire';
    const wire = () => agentHeaders(machine);
    const instanceId = derivedInstanceId(ACCOUNT.appId, 'ap-guangzhou', machine);
    const { invocationId, taskId, ws } = await wireTask(tat, wire, instanceId, 'manual');
    try {
      const ask = () => agentCall(wire(), { Action: 'GetCosCredential', InvocationTaskId: taskId });
      // Not started yet: no credential.
      assert.equal((await ask()).Error?.Code, 'UnsupportedOperation');
      const started = await agentCall(wire(), {
        Action: 'ReportTaskStart',
        InvocationTaskId: taskId,
        TimeStamp: Math.floor(Date.now() / 1000),
      });
      assert.equal(started.Error, undefined);
      const cred = await ask();
      assert.equal(cred.Error, undefined, JSON.stringify(cred.Error));
      assert.equal(cred.InvocationId, invocationId);
      assert.ok(typeof cred.TmpSecretId === 'string' && typeof cred.TmpSecretKey === 'string');
      assert.ok(typeof cred.Token === 'string' && typeof cred.ExpireTime === 'number');
      // Another machine gets no credential for this task.
      const foreign = await agentCall(agentHeaders('cos-intruder'), {
        Action: 'GetCosCredential',
        InvocationTaskId: taskId,
      });
      assert.equal(foreign.Error?.Code, 'ResourceNotFound');

      const key = `/manual/${invocationId}/${taskId}.log`;
      const port = new URL(tatd.url).port;
      const put = (path: string, secretKey: string, token: string | undefined, body: Buffer) => {
        // Like the reference agent: Host without the port.
        const signed = {
          host: '127.0.0.1',
          date: new Date().toUTCString(),
          'content-type': 'application/xml',
          'content-length': String(body.length),
        };
        const auth = referenceAuthorization(String(cred.TmpSecretId), secretKey, path, signed);
        return request(
          'PUT',
          `http://127.0.0.1:${port}/cos/${BUCKET}${path}`,
          {
            ...signed,
            authorization: auth,
            ...(token !== undefined ? { 'x-cos-security-token': token } : {}),
          },
          body,
        );
      };
      const sk = String(cred.TmpSecretKey);
      const token = String(cred.Token);
      const body = Buffer.from('written by hand\n');

      const otherKey = await put(`/manual/${invocationId}/someone-else.log`, sk, token, body);
      assert.equal(otherKey.status, 403);
      assert.equal(xmlCode(otherKey), 'AccessDenied');
      const noToken = await put(key, sk, undefined, body);
      assert.equal(noToken.status, 403);
      const wrongSecret = await put(key, `${sk}x`, token, body);
      assert.equal(wrongSecret.status, 403);
      assert.equal(xmlCode(wrongSecret), 'SignatureDoesNotMatch');
      const tampered = await put(key, sk, `${token.slice(0, -2)}AA`, body);
      assert.equal(tampered.status, 403);

      const ok = await put(key, sk, token, body);
      assert.equal(ok.status, 200, ok.body.toString());
      assert.match(String(ok.headers.etag), /^"[0-9a-f]{32}"$/);
      // Written once: the same credential cannot replace it.
      const again = await put(key, sk, token, Buffer.from('replaced\n'));
      assert.equal(again.status, 409);
      assert.equal(xmlCode(again), 'FileAlreadyExists');
      // Objects are owner-only files, like the rest of --data.
      assert.equal(statSync(join(tatd.dataDir, 'cos', BUCKET, key)).mode & 0o777, 0o600);

      const finished = await agentCall(wire(), {
        Action: 'ReportTaskFinish',
        InvocationTaskId: taskId,
        TimeStamp: Math.floor(Date.now() / 1000),
        Result: 'SUCCESS',
        ExitCode: 0,
        FinalLogIndex: null,
        OutputUrl: `${bucketUrl}${key}`,
        OutputUploadCOSErrorInfo: '',
      });
      assert.equal(finished.Error, undefined);
      const [t] = await tasksOf(tat, invocationId);
      assert.equal((await request('GET', t!.TaskResult!.OutputUrl!)).body.toString(), 'written by hand\n');
      // The task has ended: no new credential, and the old one writes nothing more.
      assert.equal((await ask()).Error?.Code, 'UnsupportedOperation');
      const late = await put(key, sk, token, Buffer.from('late\n'));
      assert.equal(late.status, 403);
      assert.match(late.body.toString(), /not running/);
    } finally {
      ws.terminate();
    }
  });

  test('an agent reporting the URL of another account’s object gets no signed link to it', async () => {
    // Account A's object of the first test; account B's agent claims it as its own output.
    const victim = mibTask.TaskResult!.OutputUrl!.split('?')[0]!;
    const other = client(tatd, OTHER);
    const code = await other.CreateRegisterCode({});
    const { identity } = await registerByHand(
      tatd.url,
      { id: code.RegisterCodeId!, value: code.RegisterCodeValue! },
      'cos-thief',
    );
    const thief = () => signedHeaders(identity!);
    const { invocationId, taskId, ws } = await wireTask(other, thief, identity!.instanceId, '');
    try {
      await agentCall(thief(), {
        Action: 'ReportTaskStart',
        InvocationTaskId: taskId,
        TimeStamp: Math.floor(Date.now() / 1000),
      });
      await agentCall(thief(), {
        Action: 'ReportTaskFinish',
        InvocationTaskId: taskId,
        TimeStamp: Math.floor(Date.now() / 1000),
        Result: 'SUCCESS',
        ExitCode: 0,
        OutputUrl: victim,
      });
      const [t] = await tasksOf(other, invocationId);
      // Shown as reported, unsigned: tatd signs only the key it derives for the task.
      assert.equal(t!.TaskResult!.OutputUrl, victim);
      const got = await request('GET', victim);
      assert.equal(got.status, 403);
      assert.equal(xmlCode(got), 'AccessDenied');
    } finally {
      ws.terminate();
    }
  });
});

describe('what the object store keeps: object size, quota per account, removal with the records', () => {
  const LIMITED = 'limited-1300000101';
  let small: Tatd;
  let smallTat: TatClient;
  let smallAgent: AgentProcess;
  let smallId: string;
  const output = (kb: number) => `head -c ${kb * 1000} /dev/zero | tr '\\0' a`;

  before(async () => {
    small = await startTatd({
      accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
      openEnrollment: true,
      config: {
        defaults: taskDefaults(work),
        cos: {
          buckets: [{ name: LIMITED }],
          allowHttp: true,
          maxObjectBytes: 100_000,
          quotaBytesPerAccount: 150_000,
        },
        // Beyond the newest 3 invocations, records go (with their objects) within a second.
        retention: { maxInvocationsPerAccount: 3, intervalMs: 500 },
      },
    });
    smallTat = client(small, ACCOUNT);
    smallAgent = startAgent(small.url, { machineId: 'cos-limited', account: ACCOUNT.appId });
    smallId = smallAgent.instanceId;
    await waitAgents(smallTat, [smallId]);
  });

  after(async () => {
    await smallAgent?.stop();
    await small?.stop();
  });

  let runs = 0;
  const runOnce = async (kb: number): Promise<Task> => {
    const { InvocationId } = await smallTat.RunCommand({
      // A body of its own: the same RunCommand within one second would be a replay.
      Description: `run ${++runs}`,
      Content: b64(output(kb)),
      InstanceIds: [smallId],
      OutputCOSBucketUrl: `${small.url}/cos/${LIMITED}`,
    });
    const { tasks } = await waitFinal(smallTat, InvocationId!);
    return tasks[0]!;
  };
  const objectFile = (t: Task) =>
    join(small.dataDir, 'cos', LIMITED, t.InvocationId!, `${t.InvocationTaskId}.log`);

  test('an object over maxObjectBytes and one beyond the account quota are refused; records taking theirs free it', async () => {
    const first = await runOnce(80);
    assert.equal(first.TaskResult!.OutputUploadCOSErrorInfo, '');
    assert.equal(statSync(objectFile(first)).size, 80_000);

    const tooLarge = await runOnce(120);
    assert.equal(tooLarge.TaskStatus, 'SUCCESS', 'the task result does not depend on the upload');
    assert.match(tooLarge.TaskResult!.OutputUploadCOSErrorInfo!, /HTTP 400 EntityTooLarge/);
    const overQuota = await runOnce(80);
    assert.match(overQuota.TaskResult!.OutputUploadCOSErrorInfo!, /HTTP 403 QuotaExceeded/);
    assert.equal(existsSync(objectFile(overQuota)), false);

    // A fourth invocation: retention removes the first one, its object file with it, and the
    // quota it held is free again.
    const fourth = await runOnce(10);
    await waitFor(() => !existsSync(objectFile(first)), { what: 'the first object removed by retention' });
    assert.equal(fourth.TaskResult!.OutputUploadCOSErrorInfo, '');
    const fifth = await runOnce(80);
    assert.equal(fifth.TaskResult!.OutputUploadCOSErrorInfo, '');
    assert.equal(statSync(objectFile(fifth)).size, 80_000);
  });
});
