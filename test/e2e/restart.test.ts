// Crashes lose no task result: tatd killed with SIGKILL mid-run and started again on the same
// data, tasks that end while it is down, an agent killed with reports still unconfirmed, and an
// agent that goes silent (TASK_TIMEOUT).

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64, outputOf, processesMatching, waitFinal, waitTasks } from '../helpers/invocations.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';
import { taskUser, taskDefaults } from '../../testkit/task-user.js';

const ACCOUNT = { secretId: 'AKIDrestart', secretKey: 'restart-secret', appId: '1400000001' };
const work = taskUser().dir('work');
const options = {
  accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
  openEnrollment: true,
  config: {
    defaults: taskDefaults(work),
    timings: { taskTimeoutGraceMs: 2000, restartGraceMs: 15_000, sweepIntervalMs: 200 },
  },
};

let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];

before(async () => {
  tatd = await startTatd(options);
  tat = client(tatd, ACCOUNT);
  agents = ['restart-a', 'restart-b', 'restart-c'].map((m) =>
    startAgent(tatd.url, { machineId: m, account: ACCOUNT.appId, maxBackoffSeconds: 3 }),
  );
  await waitAgents(
    tat,
    agents.map((a) => a.instanceId),
  );
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd.stop();
});

async function crashAndRestart(whileDown: () => Promise<void>): Promise<void> {
  await tatd.kill('SIGKILL');
  await whileDown();
  tatd = await startTatd({ ...options, port: tatd.port, dataDir: tatd.dataDir });
  tat = client(tatd, ACCOUNT);
}

test('SIGKILL of tatd mid-run: every task reaches its right final state with its output', async () => {
  const [a, b, c] = agents as [AgentProcess, AgentProcess, AgentProcess];
  // a: still running after the restart, with output in several chunks around it
  const r1 = await tat.RunCommand({
    Content: b64("echo begin; sleep 6; head -c 6000 /dev/zero | tr '\\0' x; echo; echo end"),
    InstanceIds: [a.instanceId],
  });
  // b: ends while tatd is down
  const r2 = await tat.RunCommand({ Content: b64('sleep 1; echo quick'), InstanceIds: [b.instanceId] });
  // c: not yet picked up when tatd dies
  c.signal('SIGSTOP');
  const r3 = await tat.RunCommand({ Content: b64('echo late'), InstanceIds: [c.instanceId] });
  await waitTasks(tat, r1.InvocationId!, (t) => t[0]!.TaskStatus === 'RUNNING');
  await waitTasks(tat, r2.InvocationId!, (t) => t[0]!.TaskStatus === 'RUNNING');

  await crashAndRestart(async () => {
    // c wakes while tatd is down: it finds nobody there before tatd comes back.
    const seen = c.lines.length;
    c.signal('SIGCONT');
    await waitFor(() => c.lines.slice(seen).some((l) => /"msg":"(cannot connect|reconnecting)"/.test(l)), {
      what: 'agent c to find tatd gone',
    });
  });

  const f1 = await waitFinal(tat, r1.InvocationId!, 60_000);
  assert.equal(f1.tasks[0]!.TaskStatus, 'SUCCESS');
  assert.equal(outputOf(f1.tasks[0]!), `begin\n${'x'.repeat(6000)}\nend\n`);
  const f2 = await waitFinal(tat, r2.InvocationId!, 60_000);
  assert.equal(f2.tasks[0]!.TaskStatus, 'SUCCESS');
  assert.equal(outputOf(f2.tasks[0]!), 'quick\n');
  const f3 = await waitFinal(tat, r3.InvocationId!, 60_000);
  assert.equal(f3.tasks[0]!.TaskStatus, 'SUCCESS');
  assert.equal(outputOf(f3.tasks[0]!), 'late\n');
  await waitAgents(
    tat,
    agents.map((x) => x.instanceId),
  );
});

test('an agent killed with unconfirmed reports re-sends them from disk when it comes back', async () => {
  const a = agents[0]!;
  const r = await tat.RunCommand({ Content: b64('sleep 1; echo kept-on-disk'), InstanceIds: [a.instanceId] });
  await waitTasks(tat, r.InvocationId!, (t) => t[0]!.TaskStatus === 'RUNNING');
  await crashAndRestart(async () => {
    const outbox = join(a.dir, 'outbox');
    await waitFor(() => readdirSync(outbox).some((f) => f.includes('.json')), {
      what: 'the finish report to be kept on disk',
    });
    a.signal('SIGKILL');
    await new Promise((resolve) => a.proc.once('exit', resolve));
  });
  a.start();
  const f = await waitFinal(tat, r.InvocationId!, 60_000);
  assert.equal(f.tasks[0]!.TaskStatus, 'SUCCESS');
  assert.equal(outputOf(f.tasks[0]!), 'kept-on-disk\n');
  await waitFor(() => readdirSync(join(a.dir, 'outbox')).length === 0, { what: 'the outbox to empty' });
  await waitAgents(
    tat,
    agents.map((x) => x.instanceId),
  );
});

test('an agent that goes silent during a task → TASK_TIMEOUT after Timeout plus the grace', async () => {
  const b = agents[1]!;
  const marker = 'sleep 987653';
  const r = await tat.RunCommand({ Content: b64(marker), InstanceIds: [b.instanceId], Timeout: 2 });
  await waitTasks(tat, r.InvocationId!, (t) => t[0]!.TaskStatus === 'RUNNING');
  b.signal('SIGSTOP');
  try {
    const f = await waitFinal(tat, r.InvocationId!, 30_000);
    assert.equal(f.tasks[0]!.TaskStatus, 'TASK_TIMEOUT');
    assert.equal(f.invocation.InvocationStatus, 'FAILED');
  } finally {
    b.signal('SIGCONT');
  }
  // Once resumed, the agent kills the overdue process and reports TIMEOUT: its report is the truth.
  const f = await waitTasks(tat, r.InvocationId!, (t) => t[0]!.TaskStatus === 'TIMEOUT');
  assert.equal(f[0]!.TaskResult!.ExitCode, -1);
  assert.deepEqual(processesMatching(marker), []);
});
