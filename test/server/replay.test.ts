// Replayed API requests. Requests of the official SDK are captured on their way to tatd (a
// forwarding recorder between the two, as an eavesdropper on plain HTTP would see them) and sent
// again, unchanged or with another X-TC-Action, from the client's address or another one
// (127.0.0.2). A change runs once, also across a restart of tatd; identical reads keep working; a
// signature does not serve another action from elsewhere; v1 requests are refused when their
// signature (over the Nonce) was seen before. Replays are AuthFailure.SignatureExpire, changed
// requests AuthFailure.SignatureFailure (docs/api-coverage.md).

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { agentHeaders } from '../../agent/headers.js';
import { derivedInstanceId } from '../../server/gateway/identity.js';
import type { TatClient } from '../../tat/node/client.js';
import { tc3Authorization, v1Signature, v1StringToSign } from '../../tat/node/signing.js';
import { openAgentSocket } from '../helpers/agent-wire.js';
import { b64 } from '../helpers/invocations.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';

const A = { secretId: 'AKIDreplay', secretKey: 'replay-secret', appId: '1900000001' };
const ELSEWHERE = '127.0.0.2';

let tatd: Tatd;
let tat: TatClient;

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface Answer {
  RequestId: string;
  Error?: { Code: string; Message: string };
  [k: string]: unknown;
}

/** An HTTP server that forwards every request to tatd unchanged, and keeps a copy of each. */
async function recorder(): Promise<{ url: string; seen: Captured[]; close(): Promise<void> }> {
  const seen: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured: Captured = {
        method: req.method!,
        path: req.url!,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks),
      };
      seen.push(captured);
      void send(captured).then((a) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ Response: a }));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Sends a captured request to tatd as it was (Host header included), optionally changed. */
function send(c: Captured, o: { action?: string; from?: string } = {}): Promise<Answer> {
  const headers = { ...c.headers, ...(o.action ? { 'x-tc-action': o.action } : {}) };
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${tatd.url}${c.path}`,
      { method: c.method, headers, agent: false, ...(o.from ? { localAddress: o.from } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve((JSON.parse(Buffer.concat(chunks).toString()) as { Response: Answer }).Response),
        );
      },
    );
    req.on('error', reject);
    req.end(c.body);
  });
}

/** Runs `call` with an SDK client pointed at a recorder; returns its answer and the request. */
async function captured<T>(
  call: (c: TatClient) => Promise<T>,
  o: { signMethod?: 'HmacSHA256' } = {},
): Promise<{ answer: T; request: Captured }> {
  const r = await recorder();
  try {
    const answer = await call(client({ url: r.url }, { ...A, ...o }));
    assert.equal(r.seen.length, 1);
    return { answer, request: r.seen[0]! };
  } finally {
    await r.close();
  }
}

const code = (a: Answer) => a.Error?.Code;

before(async () => {
  tatd = await startTatd({ accounts: [`${A.secretId}:${A.secretKey}:${A.appId}`], openEnrollment: true });
  tat = client(tatd, A);
});

after(async () => {
  await tatd?.stop();
});

describe('TC3 (the SDKs sign neither X-TC-Action nor X-TC-Region)', () => {
  test('a captured RunCommand sent again is refused as a replay: the command ran once', async () => {
    const machine = 'replay-machine';
    const socket = await openAgentSocket(tatd.url, agentHeaders(machine));
    const instance = derivedInstanceId(A.appId, 'ap-guangzhou', machine);
    try {
      const { request } = await captured((c) =>
        c.RunCommand({ Content: b64('echo once'), InstanceIds: [instance], Description: 'run once' }),
      );
      for (const from of [undefined, ELSEWHERE]) {
        const again = await send(request, from ? { from } : {});
        assert.equal(code(again), 'AuthFailure.SignatureExpire', JSON.stringify(again));
        assert.match(again.Error!.Message, /already accepted: a replay/);
      }
      // Into another region (X-TC-Region is not signed either): still the same signature.
      const shanghai = await send({
        ...request,
        headers: { ...request.headers, 'x-tc-region': 'ap-shanghai' },
      });
      assert.equal(code(shanghai), 'AuthFailure.SignatureExpire');
      const r = await tat.DescribeInvocations({ Filters: [{ Name: 'instance-kind', Values: ['CVM'] }] });
      assert.equal(r.InvocationSet!.filter((i) => i.Description === 'run once').length, 1);
    } finally {
      socket.ws?.terminate();
    }
  });

  test('identical Describe calls share a signature within a second and are all answered', async () => {
    const { request } = await captured((c) => c.DescribeCommands({ Limit: 7 }));
    for (const from of [undefined, ELSEWHERE, undefined]) {
      const again = await send(request, from ? { from } : {});
      assert.equal(code(again), undefined, JSON.stringify(again));
      assert.equal(typeof again.TotalCount, 'number');
    }
  });

  test('a captured DescribeCommands resent as DeleteCommands from elsewhere deletes nothing', async () => {
    const { CommandId } = await tat.CreateCommand({ CommandName: 'keep-me', Content: b64('true') });
    const { request } = await captured((c) => c.DescribeCommands({ CommandIds: [CommandId!] }));
    const swapped = await send(request, { action: 'DeleteCommands', from: ELSEWHERE });
    assert.equal(code(swapped), 'AuthFailure.SignatureFailure', JSON.stringify(swapped));
    assert.match(swapped.Error!.Message, /changed after signing/);
    // Another read from elsewhere is refused too: the signature was made for DescribeCommands.
    const read = await send(request, { action: 'DescribeInvocations', from: ELSEWHERE });
    assert.equal(code(read), 'AuthFailure.SignatureFailure');
    assert.equal((await tat.DescribeCommands({ CommandIds: [CommandId!] })).TotalCount, 1);
  });

  test('one body for two actions within a second is served from the address that used it first', async () => {
    // A client's own DescribeRegisterCodes({}) and CreateRegisterCode({}) in the same second carry
    // the same signature; resent from that client's address, the second action is its own call.
    // (Resending from there needs its host or a place on the path, from where an unencrypted
    // request can be changed in flight anyway: TLS is the fix for that.)
    const { request } = await captured((c) => c.DescribeRegisterCodes({}));
    const create = await send(request, { action: 'CreateRegisterCode' });
    assert.equal(code(create), undefined, JSON.stringify(create));
    assert.equal(code(await send(request, { action: 'CreateRegisterCode' })), 'AuthFailure.SignatureExpire');
    assert.equal(
      code(await send(request, { action: 'DisableRegisterCodes', from: ELSEWHERE })),
      'AuthFailure.SignatureFailure',
    );
  });

  test('concurrent copies of one signed change: one is served', async () => {
    const body = JSON.stringify({ CommandName: 'raced', Content: b64('true') });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      host: `127.0.0.1:${tatd.port}`,
      'x-tc-action': 'CreateCommand',
      'x-tc-version': '2020-10-28',
      'x-tc-region': 'ap-guangzhou',
      'x-tc-timestamp': String(timestamp),
      authorization: tc3Authorization(A.secretId, {
        secretKey: A.secretKey,
        service: 'tat',
        host: `127.0.0.1:${tatd.port}`,
        timestamp,
        method: 'POST',
        query: '',
        contentType: 'application/json',
        payload: Buffer.from(body),
      }),
    };
    const request: Captured = { method: 'POST', path: '/', headers, body: Buffer.from(body) };
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(request)));
    assert.equal(answers.filter((a) => code(a) === undefined).length, 1, JSON.stringify(answers));
    assert.equal(answers.filter((a) => code(a) === 'AuthFailure.SignatureExpire').length, 7);
    const named = await tat.DescribeCommands({ Filters: [{ Name: 'command-name', Values: ['raced'] }] });
    assert.equal(named.TotalCount, 1);
  });

  test('after a restart of tatd a replay is still refused, and a swap still is', async () => {
    const { request: change } = await captured((c) =>
      c.CreateCommand({ CommandName: 'before-restart', Content: b64('true') }),
    );
    const { CommandId } = await tat.CreateCommand({ CommandName: 'still-here', Content: b64('true') });
    const { request: read } = await captured((c) => c.DescribeCommands({ CommandIds: [CommandId!] }));
    await tatd.restart();
    assert.equal(code(await send(change)), 'AuthFailure.SignatureExpire');
    assert.equal(
      code(await send(read, { action: 'DeleteCommands', from: ELSEWHERE })),
      'AuthFailure.SignatureFailure',
    );
    assert.equal(code(await send(read)), undefined, 'the same read is still served');
    assert.equal((await tat.DescribeCommands({ CommandIds: [CommandId!] })).TotalCount, 1);
  });
});

describe('v1 (Nonce and Action are signed)', () => {
  test('a captured v1 request sent again is refused; its command was made once', async () => {
    const { request } = await captured(
      (c) => c.CreateCommand({ CommandName: 'v1-once', Content: b64('true') }),
      { signMethod: 'HmacSHA256' },
    );
    assert.match(request.body.toString(), /Nonce=\d+/);
    const again = await send(request, { from: ELSEWHERE });
    assert.equal(code(again), 'AuthFailure.SignatureExpire', JSON.stringify(again));
    assert.match(again.Error!.Message, /new Nonce/);
    const named = await tat.DescribeCommands({ Filters: [{ Name: 'command-name', Values: ['v1-once'] }] });
    assert.equal(named.TotalCount, 1);
  });

  /** A v1 form POST signed by hand. */
  const v1 = (params: Record<string, string>): Captured => {
    const host = `127.0.0.1:${tatd.port}`;
    const all: Record<string, string> = {
      Action: 'DescribeCommands',
      Version: '2020-10-28',
      Region: 'ap-guangzhou',
      Timestamp: String(Math.floor(Date.now() / 1000)),
      SecretId: A.secretId,
      SignatureMethod: 'HmacSHA256',
      ...params,
    };
    all.Signature = v1Signature(A.secretKey, 'HmacSHA256', v1StringToSign('POST', host, '/', all));
    return {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded', host },
      body: Buffer.from(new URLSearchParams(all).toString()),
    };
  };

  test('two different calls may carry the same Nonce (the SDKs draw it from 0 to 65535)', async () => {
    assert.equal(code(await send(v1({ Nonce: '42', Limit: '1' }))), undefined);
    assert.equal(code(await send(v1({ Nonce: '42', Limit: '2' }))), undefined);
    const same = v1({ Nonce: '43', Limit: '3' });
    assert.equal(code(await send(same)), undefined);
    assert.equal(code(await send(same)), 'AuthFailure.SignatureExpire');
  });

  test('a v1 request without a Nonce is refused', async () => {
    const a = await send(v1({ Limit: '1' }));
    assert.equal(code(a), 'MissingParameter');
    assert.match(a.Error!.Message, /Nonce/);
  });
});
