// Agent identity: the reference agent's config.dat, enrollment only when tatd allows it, and a
// stable instance id per (account, region, MachineId) across restarts.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64, outputOf, waitFinal } from '../helpers/invocations.js';
import { client, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';
import { taskDefaults } from '../../testkit/task-user.js';

const ACCOUNT = { secretId: 'AKIDenroll', secretKey: 'enroll-secret', appId: '1600000001' };
const accounts = [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`];
const config = { defaults: taskDefaults() };
const cleanup: (() => Promise<void>)[] = [];

after(async () => {
  for (const c of cleanup.reverse()) await c();
});

function track<T extends Tatd | AgentProcess>(x: T): T {
  cleanup.push(() => x.stop());
  return x;
}

test('an agent configured by config.dat runs commands; its instance id survives a restart of tatd', async () => {
  const tatd = track(await startTatd({ accounts, openEnrollment: true, config }));
  const dir = mkdtempSync(join(tmpdir(), 'tatflow-configdat-'));
  const configDat = join(dir, 'config.dat');
  writeFileSync(
    configDat,
    JSON.stringify({
      url: { invoke_url: `${tatd.url}/agent/invoke`, ws_url: `${tatd.url.replace('http', 'ws')}/agent/ws` },
    }),
  );
  const agent = track(startAgent('', { machineId: 'configdat-1', account: ACCOUNT.appId, configDat }));
  let tat = client(tatd, ACCOUNT);
  await waitAgents(tat, [agent.instanceId]);
  const { InvocationId } = await tat.RunCommand({
    Content: b64('echo via-config-dat'),
    InstanceIds: [agent.instanceId],
  });
  const { tasks } = await waitFinal(tat, InvocationId!);
  assert.equal(outputOf(tasks[0]!), 'via-config-dat\n');

  // The machine keeps its id across a restart. (Without open enrollment an unregistered machine
  // is not served at all: test/e2e/registration.test.ts.)
  await tatd.stop();
  const again = track(
    await startTatd({ accounts, openEnrollment: true, config, port: tatd.port, dataDir: tatd.dataDir }),
  );
  tat = client(again, ACCOUNT);
  await waitAgents(tat, [agent.instanceId]);
  const r = await tat.DescribeAutomationAgentStatus({});
  assert.deepEqual(
    r.AutomationAgentSet!.map((a) => a.InstanceId),
    [agent.instanceId],
  );
});

test('without --open-enrollment an unknown machine is refused and never appears', async () => {
  const tatd = track(await startTatd({ accounts, config }));
  const agent = track(startAgent(tatd.url, { machineId: 'stranger-1', account: ACCOUNT.appId }));
  await waitFor(
    () => tatd.logs().some((l) => l.msg === 'agent refused' && String(l.reason).includes('stranger-1')),
    {
      what: 'tatd to refuse the unknown machine',
    },
  );
  const tat = client(tatd, ACCOUNT);
  assert.equal((await tat.DescribeAutomationAgentStatus({})).TotalCount, 0);
  await expectTatError(
    tat.RunCommand({ Content: b64('true'), InstanceIds: [agent.instanceId] }),
    'ResourceNotFound.InstanceNotFound',
  );
});
