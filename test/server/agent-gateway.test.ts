// tatd's agent side spoken on the wire exactly as the reference agent tat_agent does
// (docs/agent-protocol-reference.md, "HTTP calls"): a WebSocket that only carries kicks, and JSON
// POSTs with no Content-Type to /agent/invoke. No agent of ours is involved.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { derivedInstanceId } from '../../server/gateway/identity.js';
import type { AgentTaskMessage } from '../../tat/agent-protocol.js';
import type { TatClient } from '../../tat/node/client.js';
import { b64, waitTasks } from '../helpers/invocations.js';
import { client, DEFAULT_ACCOUNT, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';

const MACHINE = 'wire-machine-1';
const headers = { MachineId: MACHINE, 'Tat-Version': '1.1.9', 'Tat-KernelName': 'Linux' };

let tatd: Tatd;
let tat: TatClient;
let ws: WebSocket;
interface Kick {
  Type: string;
  Data: { InvocationTaskID: string };
}
interface Answer {
  RequestId: string;
  Error?: { Code: string; Message: string };
  NeedUpdate?: boolean;
  InvocationNormalTaskSet: AgentTaskMessage[];
  InvocationCancelTaskSet: { InvocationTaskId: string }[];
}
const kicks: Kick[] = [];
const instanceId = derivedInstanceId(DEFAULT_ACCOUNT.appId, 'ap-guangzhou', MACHINE);

/** An agent call as tat_agent sends it: POST, JSON body, no Content-Type. */
async function agentCall(
  body: object,
  machineId = MACHINE,
): Promise<{ status: number; type: string | null; json: { Response: Answer } }> {
  const res = await fetch(`${tatd.url}/agent/invoke`, {
    method: 'POST',
    headers: { ...headers, MachineId: machineId },
    body: new Blob([JSON.stringify(body)]), // a Blob without a type: no Content-Type header
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    json: (await res.json()) as { Response: Answer },
  };
}

before(async () => {
  tatd = await startTatd({ openEnrollment: true });
  tat = client(tatd, DEFAULT_ACCOUNT);
  ws = new WebSocket(`${tatd.url.replace('http', 'ws')}/agent/ws`, { headers });
  ws.on('message', (d) => kicks.push(JSON.parse(String(d)) as Kick));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
});

after(async () => {
  ws.terminate();
  await tatd.stop();
});

async function run(script: string, extra: object = {}): Promise<{ invocationId: string; taskId: string }> {
  const { InvocationId } = await tat.RunCommand({
    Content: b64(script),
    InstanceIds: [instanceId],
    ...extra,
  });
  const inv = await tat.DescribeInvocations({ InvocationIds: [InvocationId!] });
  return {
    invocationId: InvocationId!,
    taskId: inv.InvocationSet![0]!.InvocationTaskBasicInfoSet![0]!.InvocationTaskId!,
  };
}

describe('the reference agent protocol', () => {
  test('a connected machine is Online; answers are HTTP 200 JSON envelopes with a RequestId', async () => {
    const s = await tat.DescribeAutomationAgentStatus({ InstanceIds: [instanceId] });
    assert.equal(s.AutomationAgentSet![0]!.AgentStatus, 'Online');
    assert.equal(s.AutomationAgentSet![0]!.Version, '1.1.9');
    const r = await agentCall({ Action: 'CheckUpdate', Version: '1.1.9' });
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.equal(r.json.Response.NeedUpdate, false);
    assert.match(r.json.Response.RequestId, /^[0-9a-f-]{36}$/);
    const log = await agentCall({
      Action: 'ReportAgentLog',
      AgentVersion: '1.1.9',
      LogLevel: 'ERROR',
      LogInfo: 'x',
    });
    assert.deepEqual(Object.keys(log.json.Response), ['RequestId']);
  });

  test('kick → DescribeTasks → ReportTaskStart → UploadTaskLog (out of order) → ReportTaskFinish', async () => {
    const { invocationId, taskId } = await run('echo {{who}}', {
      EnableParameter: true,
      Parameters: '{"who":"wire"}',
      Timeout: 33,
      WorkingDirectory: '/tmp',
      Username: 'someone',
    });
    await waitFor(() => kicks.some((k) => k.Type === 'kick' && k.Data.InvocationTaskID === taskId), {
      what: 'the kick',
    });
    const described = await agentCall({ Action: 'DescribeTasks' });
    assert.deepEqual(described.json.Response.InvocationCancelTaskSet, []);
    const t = described.json.Response.InvocationNormalTaskSet.find((x) => x.InvocationTaskId === taskId)!;
    assert.equal(
      Buffer.from(t.Command, 'base64').toString(),
      'echo wire',
      'the agent gets the substituted script',
    );
    assert.equal(t.TimeOut, 33);
    assert.equal(t.CommandType, 'SHELL');
    assert.equal(t.Username, 'someone');
    assert.equal(t.WorkingDirectory, '/tmp');

    assert.ok(
      !(await agentCall({ Action: 'ReportTaskStart', InvocationTaskId: taskId, TimeStamp: 1 })).json.Response
        .Error,
    );
    // A repeated start (a lost answer) is accepted; the task is not handed out again.
    assert.ok(
      !(await agentCall({ Action: 'ReportTaskStart', InvocationTaskId: taskId, TimeStamp: 1 })).json.Response
        .Error,
    );
    const again = await agentCall({ Action: 'DescribeTasks' });
    assert.ok(!again.json.Response.InvocationNormalTaskSet.some((x) => x.InvocationTaskId === taskId));
    await waitTasks(tat, invocationId, (ts) => ts[0]!.TaskStatus === 'RUNNING');

    const part = (s: string) => Buffer.from(s).toString('base64');
    await agentCall({
      Action: 'UploadTaskLog',
      InvocationTaskId: taskId,
      Index: 1,
      Output: part('world\n'),
      Dropped: 0,
    });
    await agentCall({
      Action: 'UploadTaskLog',
      InvocationTaskId: taskId,
      Index: 0,
      Output: part('hello '),
      Dropped: 0,
    });
    await agentCall({ Action: 'UploadTaskLog', InvocationTaskId: taskId, Index: 2, Output: '', Dropped: 42 });
    const finish = {
      Action: 'ReportTaskFinish',
      InvocationTaskId: taskId,
      TimeStamp: Math.floor(Date.now() / 1000),
      Result: 'SUCCESS',
      ErrorInfo: '',
      ExitCode: 0,
      FinalLogIndex: 2,
      OutputUrl: '',
      OutputUploadCOSErrorInfo: '',
    };
    assert.ok(!(await agentCall(finish)).json.Response.Error);
    assert.ok(!(await agentCall(finish)).json.Response.Error, 'a repeated finish is acknowledged');
    const [task] = await waitTasks(tat, invocationId, (ts) => ts[0]!.TaskStatus === 'SUCCESS');
    assert.equal(Buffer.from(task!.TaskResult!.Output!, 'base64').toString(), 'hello world\n');
    assert.equal(task!.TaskResult!.Dropped, 42);
    const inv = await tat.DescribeInvocations({ InvocationIds: [invocationId] });
    assert.equal(inv.InvocationSet![0]!.InvocationStatus, 'SUCCESS');
    assert.ok(inv.InvocationSet![0]!.EndTime);
  });

  test('a task cancelled before it started is no longer handed out and its start is refused', async () => {
    const { invocationId, taskId } = await run('echo no');
    await tat.CancelInvocation({ InvocationId: invocationId });
    const described = await agentCall({ Action: 'DescribeTasks' });
    assert.ok(!described.json.Response.InvocationNormalTaskSet.some((x) => x.InvocationTaskId === taskId));
    const start = await agentCall({ Action: 'ReportTaskStart', InvocationTaskId: taskId, TimeStamp: 1 });
    assert.ok(start.json.Response.Error, 'the start of a cancelled task is refused');
    const [t] = await waitTasks(tat, invocationId, () => true);
    assert.equal(t!.TaskStatus, 'CANCELLED');
  });

  test('a running task being cancelled is CANCELLING, listed in InvocationCancelTaskSet, then TERMINATED', async () => {
    const { invocationId, taskId } = await run('sleep 100');
    await agentCall({ Action: 'DescribeTasks' });
    await agentCall({ Action: 'ReportTaskStart', InvocationTaskId: taskId, TimeStamp: 1 });
    const before = kicks.length;
    await tat.CancelInvocation({ InvocationId: invocationId });
    await waitFor(() => kicks.length > before, { what: 'a kick for the cancel' });
    const inv = await tat.DescribeInvocations({ InvocationIds: [invocationId] });
    assert.equal(inv.InvocationSet![0]!.InvocationStatus, 'CANCELLING');
    const described = await agentCall({ Action: 'DescribeTasks' });
    assert.deepEqual(described.json.Response.InvocationCancelTaskSet, [{ InvocationTaskId: taskId }]);
    await agentCall({
      Action: 'ReportTaskFinish',
      InvocationTaskId: taskId,
      TimeStamp: 1,
      Result: 'TERMINATED',
      ErrorInfo: '',
      ExitCode: -1,
      FinalLogIndex: null,
      OutputUrl: '',
      OutputUploadCOSErrorInfo: '',
    });
    const [t] = await waitTasks(tat, invocationId, (ts) => ts[0]!.TaskStatus === 'TERMINATED');
    assert.equal(t!.TaskResult!.ExitCode, -1);
  });

  test("reports for another machine's task are refused", async () => {
    const { taskId } = await run('echo mine');
    const other = await agentCall(
      { Action: 'ReportTaskStart', InvocationTaskId: taskId, TimeStamp: 1 },
      'wire-machine-2',
    );
    assert.equal(other.json.Response.Error?.Code, 'ResourceNotFound');
  });

  test('malformed calls get an error envelope, never a crash', async () => {
    const res = await fetch(`${tatd.url}/agent/invoke`, { method: 'POST', headers, body: 'not json' });
    const json = (await res.json()) as { Response: Answer };
    assert.equal(res.status, 200);
    assert.equal(json.Response.Error?.Code, 'InvalidParameter');
    assert.equal((await agentCall({ Action: 'Nope' })).json.Response.Error?.Code, 'InvalidAction');
    assert.equal(
      (await agentCall({ Action: 'ReportTaskStart' })).json.Response.Error?.Code,
      'InvalidParameter',
    );
  });
});

describe('without open enrollment', () => {
  let closed: Tatd;
  before(async () => {
    closed = await startTatd();
  });
  after(async () => {
    await closed.stop();
  });

  test('an unknown machine is refused on the WebSocket and on HTTP', async () => {
    const socket = new WebSocket(`${closed.url.replace('http', 'ws')}/agent/ws`, { headers });
    socket.on('error', () => undefined); // the refusal also surfaces as an error event
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.once('open', () => resolve(undefined));
    });
    socket.terminate();
    assert.equal(status, 401);
    const res = await fetch(`${closed.url}/agent/invoke`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ Action: 'DescribeTasks' }),
    });
    const json = (await res.json()) as { Response: Answer };
    assert.equal(json.Response.Error?.Code, 'AuthFailure.UnauthorizedOperation');
    assert.match(json.Response.Error?.Message ?? '', /not known/);
  });
});
