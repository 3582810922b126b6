// The pure parts of the activities: command names, the content of commands made before 2026-12,
// output excerpts, error classes, the request-rate lanes, credentials files.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import sdkException from 'tencentcloud-sdk-nodejs/tencentcloud/common/exception/tencent_cloud_sdk_exception.js';
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { legacyContent, stepCommandName } from '../../activities/commands.js';
import { fileCredentials, parseCredentials } from '../../activities/credentials.js';
import { Lane, RateLimiter, WINDOW_MS } from '../../activities/rate-limit.js';
import { classifyTatError, isPermanentCode } from '../../activities/errors.js';
import {
  HEAD_BYTES,
  MAX_EXCERPT_BYTES,
  OutputBudget,
  TAIL_BYTES,
  outputExcerpt,
} from '../../activities/output.js';

const SdkError = sdkException.default;

function apiError(code: string): Error {
  const e = new SdkError(`message of ${code}`, 'req-1');
  (e as unknown as { code: string }).code = code;
  return e;
}

describe('step command names', () => {
  test('tatflow-<12 hex of the run>-<step>, the same every time', () => {
    const name = stepCommandName('rolling-patch-2024-05-01', 'main');
    assert.match(name, /^tatflow-[0-9a-f]{12}-main$/);
    assert.equal(stepCommandName('rolling-patch-2024-05-01', 'main'), name);
    assert.notEqual(stepCommandName('rolling-patch-2024-05-02', 'main'), name);
    assert.notEqual(stepCommandName('rolling-patch-2024-05-01', 'health'), name);
  });

  test('a long run id or step key still gives a valid name of at most 60 bytes', () => {
    const long = stepCommandName('x'.repeat(500), 'a-very-long-step-key-that-goes-on-and-on-and-on');
    assert.ok(Buffer.byteLength(long) <= 60, long);
    assert.match(long, /^[A-Za-z0-9_.-]+$/);
    const odd = stepCommandName('run', 'roll back/phase 2');
    assert.match(odd, /^tatflow-[0-9a-f]{12}-roll_back_phase_2-[0-9a-f]{8}$/);
    assert.notEqual(stepCommandName('run', 'roll back/phase 3'), odd);
  });
});

describe('the key line of commands made before 2026-12 (found again by runs begun then)', () => {
  test('goes first in a SHELL script, and after its #! line', () => {
    assert.equal(legacyContent('echo hi'), '# tatflow {{tatflow_key}}\necho hi');
    assert.equal(
      legacyContent('#!/bin/bash\nset -e\necho hi\n'),
      '#!/bin/bash\n# tatflow {{tatflow_key}}\nset -e\necho hi\n',
    );
    assert.equal(legacyContent('#!/bin/sh'), '#!/bin/sh\n# tatflow {{tatflow_key}}\n');
  });

  test('is a comment in PowerShell and a silent REM in BAT, with the script line endings', () => {
    assert.equal(legacyContent('Get-Date\r\n', 'POWERSHELL'), '# tatflow {{tatflow_key}}\r\nGet-Date\r\n');
    assert.equal(
      legacyContent('@echo off\r\ndir\r\n', 'BAT'),
      '@REM tatflow {{tatflow_key}}\r\n@echo off\r\ndir\r\n',
    );
  });
});

describe('output excerpts', () => {
  test('a short output is kept whole', () => {
    assert.equal(outputExcerpt(Buffer.from('hello\n')), 'hello\n');
    const exact = Buffer.alloc(HEAD_BYTES + TAIL_BYTES, 'x');
    assert.equal(outputExcerpt(exact), exact.toString());
  });

  test('a long output keeps 1 KiB of head and 3 KiB of tail, and says how much is left out', () => {
    const raw = Buffer.concat([Buffer.alloc(6000, 'a'), Buffer.from('MIDDLE'), Buffer.alloc(6000, 'b')]);
    const ex = outputExcerpt(raw);
    assert.equal(ex, `${'a'.repeat(1024)}\n…[${12006 - 4096} bytes omitted]…\n${'b'.repeat(3072)}`);
    assert.ok(Buffer.byteLength(ex) <= MAX_EXCERPT_BYTES);
  });

  test('never cuts a UTF-8 character in two', () => {
    const raw = Buffer.from('é'.repeat(5000)); // 2 bytes each
    const ex = outputExcerpt(Buffer.concat([Buffer.from('x'), raw]));
    assert.ok(!ex.includes('\uFFFD'), 'no replacement characters');
    const [head, tail] = ex.split(/\n…\[\d+ bytes omitted\]…\n/);
    assert.equal(head, 'x' + 'é'.repeat(511));
    assert.equal(tail, 'é'.repeat(1536));
  });

  test('bytes TAT did not keep are noted at the end', () => {
    assert.equal(outputExcerpt(Buffer.from('abc'), 10), 'abc\n…[10 more bytes not kept by TAT]');
  });

  test('a budget leaves outputs out once it is spent', () => {
    const b = new OutputBudget(10);
    assert.equal(b.take('123456'), '123456');
    assert.equal(b.take('123456'), undefined);
    assert.equal(b.take('1234'), '1234');
  });
});

describe('error classes', () => {
  test('refusals of the request itself are non-retryable, typed with the TAT code', () => {
    for (const code of [
      'InvalidParameter',
      'InvalidParameterValue.InvalidCommandId',
      'ResourceNotFound.CommandNotFound',
      'UnauthorizedOperation.CamAuthFailed',
      'AuthFailure.SignatureFailure',
      'MissingParameter',
      'UnsupportedOperation',
      'LimitExceeded',
      'LimitExceeded.FilterValueExceeded',
      'ResourceUnavailable.UserHasNoQuotaCode',
      'OperationDenied',
      'FailedOperation',
      'FailedOperation.CVMError',
      'FailedOperation.LighthouseError',
      'UnsupportedOperation',
    ]) {
      assert.ok(isPermanentCode(code), code);
      const f = classifyTatError(apiError(code), 'SomeAction');
      assert.ok(f instanceof ApplicationFailure, code);
      assert.equal(f.nonRetryable, true);
      assert.equal(f.type, code);
      assert.match(f.message, new RegExp(`^SomeAction: ${code.replace('.', '\\.')}: message of`));
    }
  });

  test('refusals about some instances of a call are permanent: the engine takes those targets out', () => {
    for (const code of ['ResourceUnavailable.AgentStatusNotOnline', 'ResourceUnavailable.AgentNotInstalled'])
      assert.equal(isPermanentCode(code), true, code);
  });

  test('passing faults are thrown as they are, for Temporal to retry', () => {
    // AuthFailure.SignatureExpire: a changing call repeated within one second, refused by tatd as
    // a replay; re-signed by the retry a second later, it passes.
    for (const code of [
      'InternalError',
      'RequestLimitExceeded',
      'RequestLimitExceeded.UinLimitExceeded',
      'ResourceUnavailable',
      'AuthFailure.SignatureExpire',
    ]) {
      assert.equal(isPermanentCode(code), false, code);
      const e = apiError(code);
      assert.equal(classifyTatError(e, 'X'), e);
    }
    const network = new SdkError('connect ECONNREFUSED 127.0.0.1:1');
    assert.equal(classifyTatError(network, 'X'), network);
    const other = new Error('boom');
    assert.equal(classifyTatError(other, 'X'), other);
  });
});

describe('request-rate lanes', () => {
  /** A lane on a clock the test moves: `wait` advances it. */
  function lane(perSecond: number) {
    let now = 1_000_000;
    const l = new Lane(
      perSecond,
      () => now,
      (ms) => {
        now += ms;
        return Promise.resolve();
      },
    );
    return { l, now: () => now };
  }

  test('at most N requests start in any window, in the order they asked', async () => {
    const { l, now } = lane(20);
    const starts: number[] = [];
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 70 }, (_, i) =>
        l.take().then(() => {
          starts.push(now());
          order.push(i);
        }),
      ),
    );
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    for (let i = 20; i < starts.length; i++)
      assert.ok(starts[i]! - starts[i - 20]! >= WINDOW_MS, `request ${i} came too soon`);
    // And no slower than the limit: 70 requests in 3 windows (20 at once, then 20 per window).
    assert.equal(starts.at(-1)! - starts[0]!, 3 * WINDOW_MS);
  });

  test('RequestLimitExceeded pauses the lane, longer with each refusal in a row, and resets', async () => {
    const { l, now } = lane(20);
    await l.take();
    const t0 = now();
    const first = l.refused();
    assert.ok(first >= 800 && first <= 1200, `first pause ${first} ms`);
    await l.take();
    assert.ok(now() - t0 >= first, 'nobody sends during the pause');
    const second = l.refused();
    assert.ok(second >= 1600 && second <= 2400, `second pause ${second} ms`);
    l.accepted();
    assert.ok(l.refused() <= 1200, 'after an accepted request the back-off starts again');
  });

  test('one lane per (account, region, action)', () => {
    const r = new RateLimiter(20);
    assert.equal(r.lane('a', 'ap-guangzhou', 'InvokeCommand'), r.lane('a', 'ap-guangzhou', 'InvokeCommand'));
    assert.notEqual(
      r.lane('a', 'ap-guangzhou', 'InvokeCommand'),
      r.lane('a', 'ap-guangzhou', 'DescribeInvocations'),
    );
    assert.notEqual(
      r.lane('a', 'ap-guangzhou', 'InvokeCommand'),
      r.lane('a', 'ap-shanghai', 'InvokeCommand'),
    );
    assert.notEqual(
      r.lane('a', 'ap-guangzhou', 'InvokeCommand'),
      r.lane('b', 'ap-guangzhou', 'InvokeCommand'),
    );
    assert.throws(() => new RateLimiter(0), /whole number ≥ 1/);
  });
});

describe('credentials files', () => {
  test("tatflow's shape and STS's Credentials object", () => {
    assert.deepEqual(parseCredentials('{"secretId":"AKID1","secretKey":"k1"}', 'f'), {
      secretId: 'AKID1',
      secretKey: 'k1',
    });
    assert.deepEqual(parseCredentials('{"secretId":"AKID1","secretKey":"k1","token":"t1"}', 'f'), {
      secretId: 'AKID1',
      secretKey: 'k1',
      token: 't1',
    });
    assert.deepEqual(
      parseCredentials('{"TmpSecretId":"AKID2","TmpSecretKey":"k2","Token":"t2","ExpiredTime":1}', 'f'),
      { secretId: 'AKID2', secretKey: 'k2', token: 't2' },
    );
    assert.throws(() => parseCredentials('{"secretId":"x"}', 'creds.json'), /creds\.json holds neither/);
    assert.throws(() => parseCredentials('nope', 'creds.json'), /creds\.json is not JSON/);
  });

  test('read again when the file changes; a broken file keeps the last good credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tatflow-creds-'));
    try {
      const file = join(dir, 'credentials.json');
      const source = fileCredentials(file);
      await assert.rejects(source.getCredential(), /no TAT credentials: .*credentials\.json/);
      writeFileSync(file, JSON.stringify({ secretId: 'AKID1', secretKey: 'k1', token: 't1' }));
      chmodSync(file, 0o600);
      assert.equal((await source.getCredential()).secretId, 'AKID1');
      // Renewed: written beside and renamed over, as a renewer should.
      writeFileSync(
        join(dir, 'next'),
        JSON.stringify({ TmpSecretId: 'AKID2', TmpSecretKey: 'k2', Token: 't2' }),
      );
      renameSync(join(dir, 'next'), file);
      assert.deepEqual(await source.getCredential(), { secretId: 'AKID2', secretKey: 'k2', token: 't2' });
      writeFileSync(file, '{"TmpSecretId": "AKID3", "TmpSec');
      assert.equal((await source.getCredential()).secretId, 'AKID2', 'a half-written file is not used');
      assert.equal(source.account, `file:${file}`, 'the account stays the same across renewals');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
