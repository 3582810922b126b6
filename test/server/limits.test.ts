// Limits on what callers can make tatd do, with the real process: TAT's 20 calls per second per
// action and account (RequestLimitExceeded), failed authentications and RegisterInstance
// throttled per source address, ReportAgentLog capped in size and rate, request bodies capped,
// sockets that send headers and then nothing closed while calls are served, and a cap on HTTP
// connections that leaves agents' WebSockets alone. Source addresses are 127.0.0.x.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { agentHeaders } from '../../agent/headers.js';
import type { TatClient } from '../../tat/node/client.js';
import { tc3Authorization } from '../../tat/node/signing.js';
import { agentPost, openAgentSocket, registerByHand } from '../helpers/agent-wire.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { sleep, waitFor } from '../../testkit/wait.js';

const A = { secretId: 'AKIDlimits', secretKey: 'limits-secret', appId: '1910000001' };
const B = { secretId: 'AKIDlimitsb', secretKey: 'limits-secret-b', appId: '1910000002' };
const accounts = [A, B].map((a) => `${a.secretId}:${a.secretKey}:${a.appId}`);

interface Answer {
  RequestId: string;
  Error?: { Code: string; Message: string };
  [k: string]: unknown;
}

/** A TC3-signed API call built by hand, sent from `from` (a local address). */
function signedCall(
  tatd: Tatd,
  o: { action: string; body?: string; secretKey?: string; from?: string },
): Promise<{ status: number; answer: Answer }> {
  const body = o.body ?? '{}';
  const timestamp = Math.floor(Date.now() / 1000);
  const host = `127.0.0.1:${tatd.port}`;
  const authorization = tc3Authorization(A.secretId, {
    secretKey: o.secretKey ?? A.secretKey,
    service: 'tat',
    host,
    timestamp,
    method: 'POST',
    query: '',
    contentType: 'application/json',
    payload: Buffer.from(body),
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${tatd.url}/`,
      {
        method: 'POST',
        agent: false,
        ...(o.from ? { localAddress: o.from } : {}),
        headers: {
          'content-type': 'application/json',
          'x-tc-action': o.action,
          'x-tc-version': '2020-10-28',
          'x-tc-region': 'ap-guangzhou',
          'x-tc-timestamp': String(timestamp),
          authorization,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            answer: (JSON.parse(Buffer.concat(chunks).toString()) as { Response: Answer }).Response,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const errorCode = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('rate limits (rateLimit in the configuration)', () => {
  let tatd: Tatd;
  let tat: TatClient;
  before(async () => {
    tatd = await startTatd({
      accounts,
      openEnrollment: true,
      config: {
        rateLimit: {
          enabled: true,
          apiPerActionPerSecond: 20,
          failedAuthPerMinute: 10,
          registerPerMinute: 3,
          agentLogPerMinute: 2,
        },
        agents: { agentLogBytes: 4096 },
      },
    });
    tat = client(tatd, A);
  });
  after(async () => {
    await tatd?.stop();
  });

  test('20 calls per second of one action by one account; other actions and accounts are not held up', async () => {
    const started = Date.now();
    const codes = await Promise.all(Array.from({ length: 40 }, () => errorCode(tat.DescribeScenes({}))));
    const spanMs = Date.now() - started;
    const ok = codes.filter((c) => c === undefined).length;
    const limited = codes.filter((c) => c === 'RequestLimitExceeded').length;
    assert.equal(ok + limited, 40, JSON.stringify(codes));
    // All 40 within one second of the first: one window of 20 (two, were the calls slower).
    assert.ok(ok >= 20 && ok <= (spanMs < 1000 ? 20 : 40), `${ok} served in ${spanMs} ms`);
    assert.ok(limited > 0);
    assert.equal(await errorCode(tat.DescribeCommands({})), undefined, 'another action');
    assert.equal(await errorCode(client(tatd, B).DescribeScenes({})), undefined, 'another account');
    await waitFor(async () => (await errorCode(tat.DescribeScenes({}))) === undefined, {
      what: 'DescribeScenes served again in the next second',
    });
  });

  test('failed authentications from one address: beyond the limit the address is refused for the minute', async () => {
    const from = '127.0.0.3';
    for (let i = 0; i < 10; i++) {
      const { answer } = await signedCall(tatd, { action: 'DescribeCommands', secretKey: 'wrong', from });
      assert.equal(answer.Error?.Code, 'AuthFailure.SignatureFailure');
    }
    const blocked = await signedCall(tatd, { action: 'DescribeCommands', from });
    assert.equal(blocked.status, 200);
    assert.equal(blocked.answer.Error?.Code, 'RequestLimitExceeded', 'even a correct signature');
    assert.match(blocked.answer.Error!.Message, /failed authentications from 127\.0\.0\.3/);
    // The agent endpoints refuse that address too; other addresses are served.
    const agentCall = await agentPost(tatd.url, agentHeaders('from-3'), { Action: 'DescribeTasks' }, from);
    assert.equal(agentCall.Error?.Code, 'RequestLimitExceeded');
    const ws = await new Promise<number>((resolve) => {
      const req = http.request(`${tatd.url}/agent/ws`, {
        localAddress: from,
        headers: {
          ...agentHeaders('from-3'),
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => resolve(101));
      req.end();
    });
    assert.equal(ws, 429);
    assert.equal(
      (await signedCall(tatd, { action: 'DescribeCommands', from: '127.0.0.1' })).answer.Error,
      undefined,
    );
  });

  test('RegisterInstance: a few per minute from one address', async () => {
    const code = { id: '00000000-0000-4000-8000-000000000000', value: 'f'.repeat(64) };
    for (let i = 0; i < 3; i++) {
      const { answer } = await registerByHand(tatd.url, code, `reg-${i}`, { localAddress: '127.0.0.4' });
      assert.equal(answer.Error?.Code, 'ResourceNotFound.RegisterCodesNotFoundCode');
    }
    const fourth = await registerByHand(tatd.url, code, 'reg-3', { localAddress: '127.0.0.4' });
    assert.equal(fourth.answer.Error?.Code, 'RequestLimitExceeded');
    assert.match(fourth.answer.Error!.Message, /registrations from 127\.0\.0\.4/);
    const other = await registerByHand(tatd.url, code, 'reg-4', { localAddress: '127.0.0.5' });
    assert.equal(other.answer.Error?.Code, 'ResourceNotFound.RegisterCodesNotFoundCode');
  });

  test('ReportAgentLog: LogInfo cut at agents.agentLogBytes, a few reports per minute per machine', async () => {
    const headers = agentHeaders('noisy-agent');
    const report = (info: string) =>
      agentPost(tatd.url, headers, {
        Action: 'ReportAgentLog',
        AgentVersion: '1.1.9',
        LogLevel: 'ERROR',
        LogInfo: info,
      });
    assert.equal((await report('x'.repeat(10_000))).Error, undefined);
    assert.equal((await report('second')).Error, undefined);
    const third = await report('third');
    assert.equal(third.Error?.Code, 'RequestLimitExceeded');
    const line = await waitFor(() =>
      tatd.logs().find((l) => l.msg === 'agent reported an error' && l.truncatedFrom === 10_000),
    );
    assert.equal((line.agentLog as string).length, 4096);
    assert.ok(!tatd.logs().some((l) => l.agentLog === 'third'));
  });
});

describe('request bodies', () => {
  let tatd: Tatd;
  before(async () => {
    tatd = await startTatd({
      accounts,
      openEnrollment: true,
      config: { connections: { apiBodyBytes: 64 * 1024, agentBodyBytes: 16 * 1024 } },
    });
  });
  after(async () => {
    await tatd?.stop();
  });

  test('an API body over connections.apiBodyBytes and an agent body over agentBodyBytes are refused in the envelope', async () => {
    const big = await signedCall(tatd, {
      action: 'DescribeCommands',
      body: JSON.stringify({ x: 'y'.repeat(70_000) }),
    });
    assert.equal(big.status, 200);
    assert.equal(big.answer.Error?.Code, 'RequestSizeLimitExceeded');
    assert.match(big.answer.Error!.Message, /65536 bytes/);
    const agent = await agentPost(tatd.url, agentHeaders('big-body'), {
      Action: 'ReportAgentLog',
      LogLevel: 'ERROR',
      LogInfo: 'z'.repeat(20_000),
    });
    assert.equal(agent.Error?.Code, 'RequestSizeLimitExceeded');
    assert.match(agent.Error!.Message, /16384 bytes/);
  });
});

describe('slow and idle sockets (connections in the configuration)', () => {
  let tatd: Tatd;
  let tat: TatClient;
  const IDLE_MS = 1500;
  before(async () => {
    tatd = await startTatd({
      accounts,
      openEnrollment: true,
      config: {
        connections: {
          headersTimeoutMs: 1000,
          requestTimeoutMs: 2000,
          idleTimeoutMs: IDLE_MS,
          keepAliveTimeoutMs: 1000,
          checkIntervalMs: 250,
        },
      },
    });
    tat = client(tatd, A);
  });
  after(async () => {
    await tatd?.stop();
  });

  /** A raw socket that sends `text` and then nothing; resolves `closed` when tatd closes it. */
  function slowSocket(text: string): Promise<{ closed: Promise<number>; socket: net.Socket }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(tatd.port, '127.0.0.1', () => {
        // Read whatever comes (a 408 answer), so that tatd's close is seen.
        socket.resume();
        socket.write(text);
        const opened = Date.now();
        const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - opened)));
        resolve({ closed, socket });
      });
      socket.on('error', () => undefined);
      socket.once('error', reject);
    });
  }

  test('200 sockets that send headers and then nothing are closed; calls are served meanwhile', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        slowSocket(
          i % 2 === 0
            ? // The headers never end.
              'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
            : // The headers end; the announced body never comes.
              'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
        ),
      ),
    );
    try {
      // A normal call while they hang.
      assert.ok(((await tat.DescribeRegions()).TotalCount ?? 0) > 0);
      const lifetimes = await Promise.all(sockets.map((s) => s.closed));
      // Closed by the header deadline (1 s) or the request deadline (2 s), checked every 250 ms.
      assert.ok(Math.max(...lifetimes) < 10_000, `longest ${Math.max(...lifetimes)} ms`);
    } finally {
      for (const s of sockets) s.socket.destroy();
    }
  });

  test("an agent's WebSocket is not an idle HTTP connection: it stays open past the idle timeout", async () => {
    const socket = await openAgentSocket(tatd.url, agentHeaders('quiet-agent'));
    assert.ok(socket.ws);
    let closed = false;
    socket.ws.on('close', () => (closed = true));
    // Three idle timeouts without a byte either way: an HTTP connection would have been closed
    // after the first (the test above); the agent's own pings come every 120 s.
    await sleep(3 * IDLE_MS);
    assert.equal(closed, false);
    socket.ws.terminate();
  });
});

describe('connection cap (connections.maxHttp; agents count against maxAgentSockets)', () => {
  let tatd: Tatd;
  let tat: TatClient;
  before(async () => {
    tatd = await startTatd({
      accounts,
      openEnrollment: true,
      config: { connections: { maxHttp: 5, maxAgentSockets: 3, idleTimeoutMs: 30_000 } },
    });
    tat = client(tatd, A);
  });
  after(async () => {
    await tatd?.stop();
  });

  const idle = () =>
    new Promise<net.Socket>((resolve) => {
      const s = net.connect(tatd.port, '127.0.0.1', () => resolve(s));
      s.on('error', () => undefined);
    });

  test('beyond maxHttp a request is answered RequestLimitExceeded; connected agents are left alone', async () => {
    const agents = [];
    for (let i = 0; i < 3; i++) {
      const a = await openAgentSocket(tatd.url, agentHeaders(`capped-${i}`));
      assert.ok(a.ws, `agent ${i} connected`);
      agents.push(a.ws);
    }
    // Agents' sockets are not HTTP connections: five idle ones still fit.
    const held = await Promise.all(Array.from({ length: 5 }, idle));
    try {
      const refused = await signedCall(tatd, { action: 'DescribeRegions' });
      assert.equal(refused.answer.Error?.Code, 'RequestLimitExceeded');
      assert.match(refused.answer.Error!.Message, /at most 5 HTTP connections/);
      // A fourth agent is beyond maxAgentSockets (its upgrade, on a sixth connection, too).
      held.pop()!.destroy();
      await waitFor(
        async () => (await signedCall(tatd, { action: 'DescribeRegions' })).answer.Error === undefined,
        {
          what: 'a connection free again',
        },
      );
      const fourth = await openAgentSocket(tatd.url, agentHeaders('capped-3'));
      assert.equal(fourth.status, 503);
      for (const ws of agents) assert.equal(ws.readyState, ws.OPEN);
      // Once the refused upgrade's connection is gone, the SDK is served (4 held + its own).
      await waitFor(async () => ((await tat.DescribeRegions()).TotalCount ?? 0) > 0, {
        what: 'the SDK served',
      });
    } finally {
      for (const s of held) s.destroy();
      for (const ws of agents) ws.terminate();
    }
  });
});
