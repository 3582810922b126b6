// How the agent's calls classify tatd's answers, which decides what is retried: a refusal (a
// limit, a task that ended) is final; no answer, InternalError and a throttle
// (RequestLimitExceeded, e.g. beyond tatd's connection cap) are tried again. Against a small
// HTTP server that answers each code in the envelope, as tatd does.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { AgentCallError, InvokeClient } from '../../agent/invoke-client.js';

let server: http.Server;
let url: string;

before(async () => {
  server = http.createServer((req, res) => {
    const code = (req.url ?? '').slice(1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Response: { RequestId: 'r', Error: { Code: code, Message: `${code} here` } } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

async function failure(code: string): Promise<AgentCallError> {
  try {
    await new InvokeClient(`${url}/${code}`, {}).call('UploadTaskLog', {});
  } catch (e) {
    assert.ok(e instanceof AgentCallError);
    return e;
  }
  assert.fail('the call succeeded');
}

test('refusals are final; InternalError, RequestLimitExceeded and no answer are retried', async () => {
  for (const code of [
    'LimitExceeded',
    'UnsupportedOperation',
    'ResourceNotFound',
    'AuthFailure.SignatureFailure',
  ])
    assert.equal((await failure(code)).retryable, false, code);
  assert.equal((await failure('InternalError')).kind, 'internal');
  const throttled = await failure('RequestLimitExceeded');
  assert.equal(throttled.kind, 'throttled');
  assert.equal(throttled.retryable, true);
  const gone = await new InvokeClient('http://127.0.0.1:1/', {})
    .call('DescribeTasks')
    .catch((e: unknown) => e);
  assert.ok(gone instanceof AgentCallError && gone.kind === 'transport' && gone.retryable);
});
