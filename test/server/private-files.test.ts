// tatd's files are its user's alone, whatever the umask it is started with: the data directory
// 0700, the database with its -wal and -shm files, the object store's key and objects 0600, its
// folders 0700. tatd runs here with umask 000 (every file would otherwise be world-readable and
// writable), keeps a `tat-hidden` value and an uploaded object, and the modes are read back.

import assert from 'node:assert/strict';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { agentHeaders } from '../../agent/headers.js';
import { derivedInstanceId } from '../../server/gateway/identity.js';
import { cosAuthorization, cosKeyPath, outputObjectKey } from '../../tat/node/cos.js';
import { agentPost, openAgentSocket } from '../helpers/agent-wire.js';
import { b64 } from '../helpers/invocations.js';
import { client, DEFAULT_ACCOUNT, startTatd, type Tatd } from '../../testkit/tatd.js';

const BUCKET = 'private-out';
const MACHINE = 'files-machine';
let tatd: Tatd;

before(async () => {
  tatd = await startTatd({
    umask: 0,
    openEnrollment: true,
    config: { cos: { buckets: [{ name: BUCKET }], allowHttp: true } },
  });
});

after(async () => {
  await tatd?.stop();
});

const mode = (path: string) => statSync(path).mode & 0o777;

function put(url: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('with umask 000, the data directory, database, WAL, keys and objects are owner-only', async () => {
  const tat = client(tatd, DEFAULT_ACCOUNT);
  const socket = await openAgentSocket(tatd.url, agentHeaders(MACHINE));
  try {
    const instance = derivedInstanceId(DEFAULT_ACCOUNT.appId, 'ap-guangzhou', MACHINE);
    // A secret parameter value goes into the database; the output of its task into an object.
    const { InvocationId } = await tat.RunCommand({
      Content: b64('echo {{tat-hidden:token}}'),
      EnableParameter: true,
      Parameters: JSON.stringify({ token: 's3cr3t' }),
      InstanceIds: [instance],
      OutputCOSBucketUrl: `${tatd.url}/cos/${BUCKET}`,
    });
    const headers = agentHeaders(MACHINE);
    const described = await agentPost(tatd.url, headers, { Action: 'DescribeTasks' });
    const taskId = (described.InvocationNormalTaskSet as { InvocationTaskId: string }[])[0]!.InvocationTaskId;
    const now = Math.floor(Date.now() / 1000);
    await agentPost(tatd.url, headers, {
      Action: 'ReportTaskStart',
      InvocationTaskId: taskId,
      TimeStamp: now,
    });
    const cred = await agentPost(tatd.url, headers, { Action: 'GetCosCredential', InvocationTaskId: taskId });
    assert.equal(cred.Error, undefined, JSON.stringify(cred.Error));
    const key = outputObjectKey('', InvocationId!, taskId);
    const body = Buffer.from('s3cr3t\n');
    const signed = { host: `127.0.0.1:${tatd.port}`, 'content-length': String(body.length) };
    const authorization = cosAuthorization(String(cred.TmpSecretId), {
      secretKey: String(cred.TmpSecretKey),
      method: 'PUT',
      pathname: `/${key}`,
      keyTime: `${now};${now + 600}`,
      headers: signed,
    });
    const status = await put(
      `${tatd.url}/cos/${BUCKET}${cosKeyPath(key)}`,
      { ...signed, authorization, 'x-cos-security-token': String(cred.Token) },
      body,
    );
    assert.equal(status, 200);

    const data = tatd.dataDir;
    assert.equal(mode(data), 0o700, 'the data directory');
    const files = readdirSync(data);
    for (const f of ['tatd.sqlite', 'tatd.sqlite-wal', 'tatd.sqlite-shm', 'cos.key']) {
      assert.ok(files.includes(f), `${f} exists`);
      assert.equal(mode(join(data, f)), 0o600, f);
    }
    for (const dir of ['cos', 'cos/.uploads', `cos/${BUCKET}`, `cos/${BUCKET}/${InvocationId}`])
      assert.equal(mode(join(data, dir)), 0o700, dir);
    assert.equal(mode(join(data, 'cos', BUCKET, key)), 0o600, 'the object');
  } finally {
    socket.ws?.terminate();
  }
});

test('files an older tatd left readable are made private at the next start', async () => {
  await tatd.stop();
  const data = tatd.dataDir;
  chmodSync(data, 0o755);
  for (const f of ['tatd.sqlite', 'cos.key']) chmodSync(join(data, f), 0o644);
  chmodSync(join(data, 'cos', BUCKET), 0o755);
  await tatd.restart();
  assert.equal(mode(data), 0o700);
  for (const f of ['tatd.sqlite', 'tatd.sqlite-wal', 'tatd.sqlite-shm', 'cos.key'])
    assert.equal(mode(join(data, f)), 0o600, f);
  assert.equal(mode(join(data, 'cos', BUCKET)), 0o700);
});
