// The whole path with real processes: the official SDK → tatd → 3 agent processes → bash → the
// output back through the SDK. Covers running, parameters, output limits, exit codes, Timeout,
// cancel, start failures, delivery deadlines, and what another account can see.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import {
  agentCaughtUp,
  b64,
  invocation,
  outputOf,
  processesMatching,
  tasksOf,
  waitFinal,
  waitTasks,
} from '../helpers/invocations.js';
import { client, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskUser, taskDefaults } from '../../testkit/task-user.js';

const ACCOUNT = { secretId: 'AKIDexec', secretKey: 'exec-secret', appId: '1300000001' };
const OTHER = { secretId: 'AKIDother', secretKey: 'other-secret', appId: '1300000002' };
const user = taskUser().name;
const work = taskUser().dir('work');

let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];
let ids: string[];

before(async () => {
  tatd = await startTatd({
    accounts: [
      `${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`,
      `${OTHER.secretId}:${OTHER.secretKey}:${OTHER.appId}`,
    ],
    openEnrollment: true,
    config: {
      defaults: taskDefaults(work),
      timings: {
        deliveryTimeoutMs: 4000,
        taskTimeoutGraceMs: 3000,
        sweepIntervalMs: 200,
        restartGraceMs: 1000,
      },
    },
  });
  tat = client(tatd, ACCOUNT);
  agents = ['exec-a', 'exec-b', 'exec-c'].map((m) =>
    startAgent(tatd.url, {
      machineId: m,
      account: ACCOUNT.appId,
      dir: mkdtempSync(join(tmpdir(), m === 'exec-b' ? 'tatflow-agent-failing-' : 'tatflow-agent-')),
    }),
  );
  ids = agents.map((a) => a.instanceId);
  await waitAgents(tat, ids);
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd.stop();
});

describe('running commands', () => {
  test('InvokeCommand runs a saved command on several instances, each with its own output', async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'whoami-here',
      Content: b64('echo "user=$(id -un) dir=$(pwd) home=$HOME"; echo to-stderr >&2'),
    });
    const { InvocationId } = await tat.InvokeCommand({ CommandId: CommandId!, InstanceIds: ids });
    const { invocation: inv, tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(inv.InvocationStatus, 'SUCCESS');
    assert.deepEqual(
      inv.InvocationTaskBasicInfoSet!.map((t) => t.InstanceId),
      ids,
      'tasks are listed in the order of InstanceIds',
    );
    assert.deepEqual(tasks.map((t) => t.InstanceId).sort(), [...ids].sort());
    for (const t of tasks) {
      assert.equal(t.TaskStatus, 'SUCCESS');
      assert.equal(t.TaskResult!.ExitCode, 0);
      // stderr is merged into stdout, in order
      assert.equal(outputOf(t), `user=${user} dir=${work} home=${taskUser().home}\nto-stderr\n`);
      assert.ok(t.StartTime && t.EndTime && t.TaskResult!.ExecStartTime && t.TaskResult!.ExecEndTime);
      assert.equal(t.CommandDocument!.WorkingDirectory, work);
    }
  });

  test('RunCommand substitutes parameters and hidden parameters on the server, the API shows the template', async () => {
    const template = 'echo "name={{name}} secret={{tat-hidden:token}} dflt={{greeting}}"';
    const { CommandId, InvocationId } = await tat.RunCommand({
      Content: b64(template),
      InstanceIds: [ids[0]!],
      EnableParameter: true,
      DefaultParameters: JSON.stringify({ greeting: 'hi', name: 'default-name' }),
      Parameters: JSON.stringify({ name: 'web-1', token: 's3cr3t' }),
    });
    const { invocation: inv, tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(outputOf(tasks[0]!), 'name=web-1 secret=s3cr3t dflt=hi\n');
    assert.equal(Buffer.from(inv.CommandContent!, 'base64').toString(), template);
    assert.equal(Buffer.from(tasks[0]!.CommandDocument!.Content!, 'base64').toString(), template);
    assert.deepEqual(JSON.parse(inv.Parameters!), { name: 'web-1', token: '******' });
    // A temporary command is not listed and cannot be invoked again.
    const listed = await tat.DescribeCommands({ CommandIds: [CommandId!] });
    assert.equal(listed.TotalCount, 0);
    await expectTatError(
      tat.InvokeCommand({ CommandId: CommandId!, InstanceIds: [ids[0]!] }),
      'ResourceNotFound.CommandNotFound',
    );
  });

  test('RunCommand with SaveCommand keeps the command', async () => {
    const { CommandId, InvocationId } = await tat.RunCommand({
      Content: b64('true'),
      InstanceIds: [ids[1]!],
      SaveCommand: true,
      CommandName: 'kept-by-run',
    });
    await waitFinal(tat, InvocationId!);
    const listed = await tat.DescribeCommands({ CommandIds: [CommandId!] });
    assert.equal(listed.CommandSet![0]!.CommandName, 'kept-by-run');
  });

  test('a non-zero exit is FAILED with its exit code', async () => {
    const { InvocationId } = await tat.RunCommand({
      Content: b64('echo partial; exit 7'),
      InstanceIds: [ids[0]!],
    });
    const { invocation: inv, tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(inv.InvocationStatus, 'FAILED');
    assert.equal(tasks[0]!.TaskStatus, 'FAILED');
    assert.equal(tasks[0]!.TaskResult!.ExitCode, 7);
    assert.equal(outputOf(tasks[0]!), 'partial\n');
  });

  test('mixed results fold into PARTIAL_FAILED', async () => {
    // The script runs from <agent dir>/scripts/: only exec-b's directory is named "failing".
    const { InvocationId } = await tat.RunCommand({
      Content: b64('case "$0" in *failing*) exit 4 ;; esac; echo ok'),
      InstanceIds: ids,
    });
    const { invocation: inv, tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(inv.InvocationStatus, 'PARTIAL_FAILED');
    const failed = tasks.filter((t) => t.TaskStatus === 'FAILED');
    assert.deepEqual(
      failed.map((t) => t.InstanceId),
      [agents[1]!.instanceId],
    );
    assert.equal(failed[0]!.TaskResult!.ExitCode, 4);
  });

  test('output over 24 KB is cut at 24576 bytes and the rest counted in Dropped', async () => {
    const { InvocationId } = await tat.RunCommand({
      Content: b64("head -c 30000 /dev/zero | tr '\\0' a; printf 'TAIL'"),
      InstanceIds: [ids[2]!],
    });
    const { tasks } = await waitFinal(tat, InvocationId!);
    const out = Buffer.from(tasks[0]!.TaskResult!.Output!, 'base64');
    assert.equal(out.length, 24576);
    assert.ok(out.every((b) => b === 0x61));
    assert.equal(tasks[0]!.TaskResult!.Dropped, 30004 - 24576);
    assert.equal(tasks[0]!.TaskStatus, 'SUCCESS');
  });

  test('output just under the limit arrives whole, with its tail', async () => {
    const { InvocationId } = await tat.RunCommand({
      Content: b64("head -c 24000 /dev/zero | tr '\\0' b; printf 'END'"),
      InstanceIds: [ids[2]!],
    });
    const { tasks } = await waitFinal(tat, InvocationId!);
    const out = outputOf(tasks[0]!);
    assert.equal(out.length, 24003);
    assert.ok(out.endsWith('bbbEND'));
    assert.equal(tasks[0]!.TaskResult!.Dropped, 0);
  });
});

describe('time limits and cancellation', () => {
  test('Timeout → TIMEOUT, exit -1, and the whole process group is gone', async () => {
    const marker = 'sleep 987651';
    const { InvocationId } = await tat.RunCommand({
      Content: b64(`echo started; ${marker} & ${marker}`),
      InstanceIds: [ids[0]!],
      Timeout: 2,
    });
    const { tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(tasks[0]!.TaskStatus, 'TIMEOUT');
    assert.equal(tasks[0]!.TaskResult!.ExitCode, -1);
    assert.equal(outputOf(tasks[0]!), 'started\n');
    assert.deepEqual(processesMatching(marker), []);
  });

  test('CancelInvocation on a running sleep → TERMINATED and the process is gone', async () => {
    const marker = 'sleep 987652';
    const { InvocationId } = await tat.RunCommand({
      Content: b64(`${marker}; echo never`),
      InstanceIds: [ids[1]!],
    });
    await waitTasks(tat, InvocationId!, (t) => t[0]!.TaskStatus === 'RUNNING');
    await waitFor(() => processesMatching(marker).length > 0, { what: 'the sleep to start' });
    await tat.CancelInvocation({ InvocationId: InvocationId! });
    const { invocation: inv, tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(tasks[0]!.TaskStatus, 'TERMINATED');
    assert.equal(tasks[0]!.TaskResult!.ExitCode, -1);
    assert.equal(inv.InvocationStatus, 'CANCELLED');
    assert.deepEqual(processesMatching(marker), []);
  });

  test('a task cancelled before its agent picked it up is CANCELLED and never runs', async () => {
    const agent = agents[2]!;
    const flag = join(work, 'must-not-exist');
    agent.signal('SIGSTOP');
    try {
      const { InvocationId } = await tat.RunCommand({
        Content: b64(`touch ${flag}`),
        InstanceIds: [agent.instanceId],
      });
      await tat.CancelInvocation({ InvocationId: InvocationId!, InstanceIds: [agent.instanceId] });
      const { tasks } = await waitFinal(tat, InvocationId!);
      assert.equal(tasks[0]!.TaskStatus, 'CANCELLED');
    } finally {
      agent.signal('SIGCONT');
    }
    await agentCaughtUp(tat, agent.instanceId); // it has handled the buffered kick
    assert.equal(existsSync(flag), false);
  });

  test('an agent that never picks its task up → DELIVER_FAILED after the delivery deadline', async () => {
    const agent = agents[2]!;
    const flag = join(work, 'never-delivered');
    agent.signal('SIGSTOP');
    let invocationId: string;
    try {
      const r = await tat.RunCommand({ Content: b64(`touch ${flag}`), InstanceIds: [agent.instanceId] });
      invocationId = r.InvocationId!;
      const { invocation: inv, tasks } = await waitFinal(tat, invocationId, 15_000);
      assert.equal(tasks[0]!.TaskStatus, 'DELIVER_FAILED');
      assert.equal(inv.InvocationStatus, 'FAILED');
    } finally {
      agent.signal('SIGCONT');
    }
    await agentCaughtUp(tat, agent.instanceId);
    assert.equal(existsSync(flag), false);
  });

  test('a task for an agent that drops before delivery waits as DELIVER_DELAYED, then runs when it returns', async () => {
    const agent = agents[0]!;
    agent.signal('SIGSTOP');
    const { InvocationId } = await tat.RunCommand({
      Content: b64('echo delivered-late'),
      InstanceIds: [agent.instanceId],
    });
    agent.signal('SIGKILL');
    await waitTasks(tat, InvocationId!, (t) => t[0]!.TaskStatus === 'DELIVER_DELAYED');
    assert.equal((await invocation(tat, InvocationId!)).InvocationStatus, 'PENDING');
    await expectTatError(
      tat.RunCommand({ Content: b64('true'), InstanceIds: [agent.instanceId] }),
      'ResourceUnavailable.AgentStatusNotOnline',
    );
    agent.start();
    const { tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(tasks[0]!.TaskStatus, 'SUCCESS');
    assert.equal(outputOf(tasks[0]!), 'delivered-late\n');
  });

  test('CancelInvocation of an instance outside the invocation is refused', async () => {
    const { InvocationId } = await tat.RunCommand({ Content: b64('true'), InstanceIds: [ids[0]!] });
    await expectTatError(
      tat.CancelInvocation({ InvocationId: InvocationId!, InstanceIds: [ids[1]!] }),
      'InvalidParameterValue.InstanceIsNotRelatedToInvocation',
    );
    await waitFinal(tat, InvocationId!);
  });

  test('a command cannot be deleted while it runs', async () => {
    const { CommandId } = await tat.CreateCommand({ CommandName: 'busy-one', Content: b64('sleep 3') });
    const { InvocationId } = await tat.InvokeCommand({ CommandId: CommandId!, InstanceIds: [ids[1]!] });
    await expectTatError(
      tat.DeleteCommand({ CommandId: CommandId! }),
      'ResourceUnavailable.CommandInExecuting',
    );
    await waitFinal(tat, InvocationId!);
    await tat.DeleteCommand({ CommandId: CommandId! });
  });
});

describe('start failures', () => {
  test('an unknown user → START_FAILED with the reference error text', async () => {
    const { InvocationId } = await tat.RunCommand({
      Content: b64('echo hi'),
      InstanceIds: [ids[1]!],
      Username: 'nosuchuser-tat',
    });
    const { tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(tasks[0]!.TaskStatus, 'START_FAILED');
    assert.equal(tasks[0]!.TaskResult!.ExitCode, -1);
    assert.equal(tasks[0]!.ErrorInfo, 'InvalidUser: user `nosuchuser-tat` not exists');
  });

  test('a missing working directory → START_FAILED InvalidWorkingDirectory', async () => {
    const { InvocationId } = await tat.RunCommand({
      Content: b64('echo hi'),
      InstanceIds: [ids[1]!],
      WorkingDirectory: '/nonexistent/tatflow-dir',
    });
    const { invocation: inv, tasks } = await waitFinal(tat, InvocationId!);
    assert.equal(tasks[0]!.TaskStatus, 'START_FAILED');
    assert.match(tasks[0]!.ErrorInfo!, /^InvalidWorkingDirectory: /);
    assert.equal(inv.InvocationStatus, 'FAILED');
  });
});

describe('accounts', () => {
  test('another account sees none of the agents, invocations or tasks', async () => {
    const other = client(tatd, OTHER);
    assert.equal((await other.DescribeAutomationAgentStatus({})).TotalCount, 0);
    assert.equal((await other.DescribeInvocations({})).TotalCount, 0);
    assert.equal((await other.DescribeInvocationTasks({})).TotalCount, 0);
    await expectTatError(
      other.RunCommand({ Content: b64('true'), InstanceIds: [ids[0]!] }),
      'ResourceNotFound.InstanceNotFound',
    );
    const mine = await tat.DescribeInvocations({ Limit: 1 });
    await expectTatError(
      other.CancelInvocation({ InvocationId: mine.InvocationSet![0]!.InvocationId! }),
      'ResourceNotFound.InvocationNotFound',
    );
    const tasks = await tasksOf(tat, mine.InvocationSet![0]!.InvocationId!);
    assert.ok(tasks.length > 0);
  });

  test('DescribeAutomationAgentStatus reports version, environment and filters', async () => {
    const r = await tat.DescribeAutomationAgentStatus({
      Filters: [{ Name: 'environment', Values: ['Linux'] }],
    });
    assert.ok((r.TotalCount ?? 0) >= 3);
    const a = r.AutomationAgentSet!.find((x) => x.InstanceId === ids[1])!;
    assert.equal(a.AgentStatus, 'Online');
    assert.equal(a.Environment, 'Linux');
    assert.match(a.Version!, /^1\.1\.9/);
  });
});
