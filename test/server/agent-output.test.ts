// What an agent can make tatd store as task output: at most 24 KB per task (more chunks are
// refused with LimitExceeded, a repeated one is not counted twice), nothing before the task
// started or after it ended (but the Dropped-only last report), and what an older tatd let in is
// read back at most 24 KB per task, in SQL: tatd's memory does not grow with it. Spoken by hand as
// the reference agent does; then our agent, whose refused reports are final: it goes on and
// finishes its task.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import type { WebSocket } from 'ws';
import { agentHeaders } from '../../agent/headers.js';
import { derivedInstanceId } from '../../server/gateway/identity.js';
import type { TatClient } from '../../tat/node/client.js';
import { agentPost, openAgentSocket, type AgentAnswer } from '../helpers/agent-wire.js';
import { startAgent, waitAgents } from '../../testkit/agents.js';
import { b64, tasksOf, waitFinal } from '../helpers/invocations.js';
import { client, DEFAULT_ACCOUNT, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';
import { taskDefaults } from '../../testkit/task-user.js';

const MACHINE = 'output-wire';
const headers = agentHeaders(MACHINE);
const instance = derivedInstanceId(DEFAULT_ACCOUNT.appId, 'ap-guangzhou', MACHINE);

let tatd: Tatd;
let tat: TatClient;
let ws: WebSocket;

before(async () => {
  tatd = await startTatd({ openEnrollment: true });
  tat = client(tatd, DEFAULT_ACCOUNT);
  const s = await openAgentSocket(tatd.url, headers);
  ws = s.ws!;
});

after(async () => {
  ws?.terminate();
  await tatd?.stop();
});

const call = (body: object): Promise<AgentAnswer> => agentPost(tatd.url, headers, body);
const chunk = (taskId: string, index: number, data: Buffer, dropped = 0) =>
  call({
    Action: 'UploadTaskLog',
    InvocationTaskId: taskId,
    Index: index,
    Output: data.toString('base64'),
    Dropped: dropped,
  });
const now = () => Math.floor(Date.now() / 1000);
let runs = 0;

/** A task for the hand-spoken machine, handed out by DescribeTasks; started unless told not to. */
async function task(start = true): Promise<{ invocationId: string; taskId: string }> {
  const { InvocationId } = await tat.RunCommand({
    Content: b64('true'),
    InstanceIds: [instance],
    Description: `output ${++runs}`,
  });
  const described = await call({ Action: 'DescribeTasks' });
  const t = (described.InvocationNormalTaskSet as { InvocationTaskId: string }[]).at(-1)!;
  if (start)
    await call({ Action: 'ReportTaskStart', InvocationTaskId: t.InvocationTaskId, TimeStamp: now() });
  return { invocationId: InvocationId!, taskId: t.InvocationTaskId };
}

const finish = (taskId: string) =>
  call({
    Action: 'ReportTaskFinish',
    InvocationTaskId: taskId,
    TimeStamp: now(),
    Result: 'SUCCESS',
    ExitCode: 0,
    FinalLogIndex: 9,
  });

const outputOf = async (invocationId: string) => {
  const [t] = await tasksOf(tat, invocationId);
  return { output: Buffer.from(t!.TaskResult!.Output!, 'base64'), dropped: t!.TaskResult!.Dropped! };
};

describe('the reference agent protocol by hand', () => {
  test('at most 24 KB per task: chunks beyond are refused, a repeated chunk is not counted twice', async () => {
    const { invocationId, taskId } = await task();
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(4096, 97 + i));
    const answers = [];
    for (const [i, c] of chunks.entries()) answers.push(await chunk(taskId, i, c));
    // The reference agent retries a chunk whose answer it lost.
    assert.equal((await chunk(taskId, 0, chunks[0]!)).Error, undefined);
    assert.deepEqual(
      answers.map((a) => a.Error?.Code ?? 'ok'),
      [
        'ok',
        'ok',
        'ok',
        'ok',
        'ok',
        'ok',
        'LimitExceeded',
        'LimitExceeded',
        'LimitExceeded',
        'LimitExceeded',
      ],
    );
    assert.match(answers[6]!.Error!.Message, /24576 bytes/);
    assert.equal((await finish(taskId)).Error, undefined);
    const { output } = await outputOf(invocationId);
    assert.equal(output.length, 24576);
    assert.ok(output.equals(Buffer.concat(chunks.slice(0, 6))));
  });

  test('nothing before the start or after the end; the Dropped-only last report is taken after it', async () => {
    const early = await task(false);
    const before = await chunk(early.taskId, 0, Buffer.from('too early\n'));
    assert.equal(before.Error?.Code, 'UnsupportedOperation');
    assert.match(before.Error!.Message, /has not started/);

    const { invocationId, taskId } = await task();
    assert.equal((await chunk(taskId, 0, Buffer.from('kept\n'))).Error, undefined);
    assert.equal((await finish(taskId)).Error, undefined);
    const late = await chunk(taskId, 1, Buffer.alloc(4096, 120));
    assert.equal(late.Error?.Code, 'UnsupportedOperation');
    assert.match(late.Error!.Message, /SUCCESS: output is taken only while it runs/);
    // What the reference agent sends last when it dropped output: an empty Output, the final count.
    assert.equal((await chunk(taskId, 1, Buffer.alloc(0), 123_456)).Error, undefined);
    const { output, dropped } = await outputOf(invocationId);
    assert.equal(output.toString(), 'kept\n');
    assert.equal(dropped, 123_456);
  });

  test('output stored by an older tatd is read at most 24 KB per task, in SQL: memory stays flat', async () => {
    const { invocationId, taskId } = await task();
    assert.equal((await finish(taskId)).Error, undefined);
    // 64 chunks of 1 MiB, as tatd took them before it had a limit, written into its store.
    const db = new SQLite(join(tatd.dataDir, 'tatd.sqlite'));
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare('INSERT INTO task_output (task_id, idx, data) VALUES (?, ?, ?)');
    for (let i = 0; i < 64; i++) insert.run(taskId, i, Buffer.alloc(1024 * 1024, 65 + (i % 26)));
    db.close();
    const rss = () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${tatd.proc.pid}/status`, 'utf8'))![1]) * 1024;
    const before = rss();
    for (let i = 0; i < 5; i++) {
      const { output } = await outputOf(invocationId);
      assert.equal(output.length, 24576);
      assert.ok(output.equals(Buffer.alloc(24576, 65)));
    }
    const grown = rss() - before;
    // Loading the 64 MiB would show as at least that much; what is read is 24 KB per call.
    assert.ok(grown < 24 * 1024 * 1024, `tatd grew by ${Math.round(grown / 1024 / 1024)} MiB`);
  });
});

describe('our agent', () => {
  let small: Tatd;
  before(async () => {
    // A lower cap than the agent's own 24 KB, so tatd refuses some of what the agent sends.
    small = await startTatd({
      openEnrollment: true,
      config: {
        agents: { outputBytesPerTask: 6000 },
        defaults: taskDefaults(),
      },
    });
  });
  after(async () => {
    await small?.stop();
  });

  test('takes a refused report as final: it goes on, and the task finishes', async () => {
    const c = client(small, DEFAULT_ACCOUNT);
    const agent = startAgent(small.url, { machineId: 'capped-agent', account: DEFAULT_ACCOUNT.appId });
    try {
      await waitAgents(c, [agent.instanceId]);
      const { InvocationId } = await c.RunCommand({
        Content: b64('head -c 20000 /dev/zero | tr "\\0" z'),
        InstanceIds: [agent.instanceId],
      });
      const { tasks } = await waitFinal(c, InvocationId!);
      assert.equal(tasks[0]!.TaskStatus, 'SUCCESS');
      const output = Buffer.from(tasks[0]!.TaskResult!.Output!, 'base64');
      assert.equal(output.length, 6000);
      const refusedLines = () =>
        agent.lines.filter((l) => l.includes('report refused by the server') && l.includes('LimitExceeded'));
      const refused = await waitFor(() => refusedLines().length > 0 && refusedLines(), {
        what: "the agent's log of a refused report",
      });
      // Each refused chunk once: 20000 bytes in 4 KiB chunks, two of them (partly) kept.
      assert.ok(refused.length >= 1 && refused.length <= 4, refused.join('\n'));
    } finally {
      await agent.stop();
    }
  });
});
