// tatd as a process: its log lines, a graceful restart and a SIGKILL on the same port and data
// (committed data survives both), and a stop that frees the port.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TatClient } from '../../tat/node/client.js';
import { client, DEFAULT_ACCOUNT, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

let tatd: Tatd;
let tat: TatClient;

before(async () => {
  tatd = await startTatd();
  tat = client(tatd, DEFAULT_ACCOUNT);
});

after(async () => {
  await tatd?.stop();
});

test('one JSON log line per API call, with action, account and region, and never the secret key', async () => {
  await tat.CreateCommand({ CommandName: 'logged', Content: b64('true') });
  await expectTatError(tat.DeleteCommand({ CommandId: 'cmd-zzzzzzzz' }), 'ResourceNotFound.CommandNotFound');
  // The log reaches us through a pipe, possibly after the HTTP answer.
  const logs = await waitFor(
    () => {
      const all = tatd.logs();
      return all.some((l) => l.msg === 'api call failed' && l.action === 'DeleteCommand') && all;
    },
    { what: 'the log lines of both calls' },
  );
  assert.ok(logs.some((l) => l.msg === 'tatd listening' && l.url === tatd.url));
  const ok = logs.find((l) => l.msg === 'api call' && l.action === 'CreateCommand');
  assert.ok(ok, 'no log line for CreateCommand');
  assert.equal(ok.account, DEFAULT_ACCOUNT.appId);
  assert.equal(ok.region, 'ap-guangzhou');
  const failed = logs.find((l) => l.msg === 'api call failed' && l.action === 'DeleteCommand');
  assert.equal(failed?.error, 'ResourceNotFound.CommandNotFound');
  assert.ok(!tatd.lines.some((l) => l.includes(DEFAULT_ACCOUNT.secretKey)));
});

test('a graceful restart keeps the port and the data', async () => {
  const { CommandId } = await tat.CreateCommand({ CommandName: 'before-restart', Content: b64('true') });
  const { url } = tatd;
  await tatd.restart();
  assert.equal(tatd.url, url);
  assert.equal((await tat.DescribeCommands({ CommandIds: [CommandId!] })).TotalCount, 1);
});

test('after SIGKILL, a tatd started on the same port and data has every committed command', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await tat.CreateCommand({ CommandName: `durable-${i}`, Content: b64('true') })).CommandId!);
  await tatd.kill('SIGKILL');
  assert.equal(tatd.proc.signalCode, 'SIGKILL');
  const again = await startTatd({ port: tatd.port, dataDir: tatd.dataDir });
  tatd = again;
  const r = await client(again, DEFAULT_ACCOUNT).DescribeCommands({ CommandIds: ids });
  assert.equal(r.TotalCount, 5);
});

test('stop() ends the process and frees the port', async () => {
  const other = await startTatd();
  await other.stop();
  assert.equal(other.proc.exitCode, 0);
  await assert.rejects(fetch(`${other.url}/`, { method: 'POST', body: '{}' }), TypeError);
});

test('account entries that would merge are refused, naming them', async () => {
  await assert.rejects(
    startTatd({
      accounts: [
        'AKIDdup:one-secret:1100000001',
        'AKIDdup:two-secret:1100000002',
        '1100000009:k',
        'AKIDx:y:1100000009',
      ],
    }),
    (e: Error) => {
      assert.match(e.message, /SecretId "AKIDdup" is given more than once/);
      assert.match(e.message, /SecretId "1100000009" is also the APPID of key "AKIDx"/);
      return true;
    },
  );
});
