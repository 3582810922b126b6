// The official Python SDK (which tccli is built on) against tatd, with TC3 and the v1 signature:
// it signs the host with its port and service `tat`, sends `{"Limit": 10}` with spaces, and reads
// errors only from a response whose Content-Type is exactly application/json. The SDK is
// installed by `npm test` into .tools/python-sdk (scripts/test.mjs).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_ACCOUNT, startTatd, type Tatd } from '../../testkit/tatd.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const python = `${root}.tools/python-sdk/bin/python`;
const script = `${root}test/interop/python_sdk.py`;

let tatd: Tatd;

before(async () => {
  tatd = await startTatd();
});

after(async () => {
  await tatd.stop();
});

for (const signMethod of ['TC3-HMAC-SHA256', 'HmacSHA256', 'HmacSHA1'])
  test(`Python SDK, ${signMethod}: commands, filters, error codes, regions`, async () => {
    const { stdout } = await run(python, [script], {
      env: {
        ...process.env,
        TATD_ENDPOINT: new URL(tatd.url).host,
        SECRET_ID: DEFAULT_ACCOUNT.secretId,
        SECRET_KEY: DEFAULT_ACCOUNT.secretKey,
        SIGN_METHOD: signMethod,
        http_proxy: '',
        https_proxy: '',
      },
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.match(out.created as string, /^cmd-[a-z0-9]{8}$/);
    assert.deepEqual(out.listed, [out.created]);
    assert.equal(out.total, 1);
    assert.equal(out.error, 'ResourceNotFound.CommandNotFound');
    assert.match(out.request_id as string, /^[0-9a-f-]{36}$/);
    assert.equal(out.duplicate, 'InvalidParameterValue.CommandNameDuplicated');
    assert.equal(out.regions, 11);
  });
