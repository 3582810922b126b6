// The command activities against a real tatd and three real agents running real shells, each
// activity run in Temporal's MockActivityEnvironment (heartbeats and cancellation as in a worker):
// saved commands per (run, step), scripts as written, invocations made once whatever the retries
// (found again from what TAT records, a stale attempt that does not invoke, a late one that cancels
// its own), polling with output excerpts, cancellation that leaves no process behind, and how API
// errors reach Temporal.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { stepCommandName } from '../../activities/commands.js';
import type { CommandSpec, TaskResult } from '../../activities/types.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { processesMatching, tasksOf, waitFinal } from '../helpers/invocations.js';
import { client, startTatd, TencentCloudSDKHttpException, type Tatd } from '../../testkit/tatd.js';
import { nextSecond, waitFor } from '../../testkit/wait.js';
import { taskUser, taskDefaults } from '../../testkit/task-user.js';

const ACCOUNT = { secretId: 'AKIDacts', secretKey: 'acts-secret', appId: '1300000101' };
const region = 'ap-guangzhou';
const work = taskUser().dir('work');

let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];
let ids: string[];
let acts: ReturnType<typeof createActivities>;

// Activity failures are expected here: the mock worker's warnings about them are noise.
const newEnv = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const runIn = <I, O>(env: MockActivityEnvironment, fn: (i: I) => Promise<O>, input: I): Promise<O> =>
  env.run(fn, input);
/** Runs one activity as a worker would, in a fresh activity context. */
const run = <I, O>(fn: (i: I) => Promise<O>, input: I): Promise<O> => runIn(newEnv(), fn, input);

let runs = 0;
/** A prepared step of a run of its own, so tests do not see each other's invocations. */
async function step(command: CommandSpec): Promise<string> {
  const { commandId } = await run(acts.prepareStep, {
    region,
    runId: `test-run-${++runs}`,
    step: 'main',
    command,
  });
  return commandId;
}

async function expectFailure(p: Promise<unknown>, type: string): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(e)}`);
    assert.equal(e.type, type, e.message);
    assert.equal(e.nonRetryable, true);
    return e;
  }
  assert.fail(`expected a ${type} failure, but the activity succeeded`);
}

const byInstance = (rs: TaskResult[]) => new Map(rs.map((r) => [r.instanceId, r]));

before(async () => {
  tatd = await startTatd({
    accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
    openEnrollment: true,
    config: {
      defaults: taskDefaults(work),
      timings: { deliveryTimeoutMs: 4000, taskTimeoutGraceMs: 3000, sweepIntervalMs: 200 },
    },
  });
  tat = client(tatd, ACCOUNT);
  // Each agent's state directory names its role: scripts run from <dir>/scripts/ and read "$0".
  agents = ['fast', 'fail', 'slow'].map((role) =>
    startAgent(tatd.url, {
      machineId: `acts-${role}`,
      account: ACCOUNT.appId,
      dir: mkdtempSync(join(tmpdir(), `tatflow-agent-${role}-`)),
    }),
  );
  ids = agents.map((a) => a.instanceId);
  await waitAgents(tat, ids);
  acts = createActivities({ secretId: ACCOUNT.secretId, secretKey: ACCOUNT.secretKey, endpoint: tatd.url });
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd.stop();
});

describe('prepareStep', () => {
  test('makes one saved command per (run, step) and finds it again on retry', async () => {
    const input = {
      region,
      runId: 'wf-prepare',
      step: 'main',
      command: { content: 'echo {{greeting}}', timeout: 30, defaultParameters: { greeting: 'hi' } },
    };
    const first = await run(acts.prepareStep, input);
    const again = await run(acts.prepareStep, input);
    assert.equal(again.commandId, first.commandId);
    const { CommandSet } = await tat.DescribeCommands({ CommandIds: [first.commandId] });
    const c = CommandSet![0]!;
    assert.equal(c.CommandName, stepCommandName('wf-prepare', 'main'));
    assert.equal(Buffer.from(c.Content!, 'base64').toString(), 'echo {{greeting}}', 'the script as written');
    assert.equal(c.EnableParameter, true, 'defaults given: custom parameters on');
    assert.deepEqual(JSON.parse(c.DefaultParameters!), { greeting: 'hi' });
    assert.equal(c.Timeout, 30);
    const named = await tat.DescribeCommands({
      Filters: [{ Name: 'command-name', Values: [c.CommandName!] }],
    });
    assert.equal(named.TotalCount, 1, 'not created twice');

    const other = await run(acts.prepareStep, { ...input, step: 'health' });
    assert.notEqual(other.commandId, first.commandId);
  });

  test('custom parameters are on only when the step passes values or the script declares defaults', async () => {
    const template = '#!/bin/bash\ncat <<EOF\n{{ .Values.image }}{{end}}\nEOF';
    const plain = await run(acts.prepareStep, {
      region,
      runId: 'wf-params',
      step: 'plain',
      command: { content: template },
    });
    const passing = await run(acts.prepareStep, {
      region,
      runId: 'wf-params',
      step: 'deploy',
      command: { content: 'deploy {{version}}' },
      parameters: true,
    });
    const { CommandSet } = await tat.DescribeCommands({ CommandIds: [plain.commandId, passing.commandId] });
    const byId = new Map(CommandSet!.map((c) => [c.CommandId!, c]));
    const p = byId.get(plain.commandId)!;
    assert.equal(p.EnableParameter, false);
    assert.equal(Buffer.from(p.Content!, 'base64').toString(), template);
    assert.equal(byId.get(passing.commandId)!.EnableParameter, true);
  });

  test('a command made before 2026-12 (key line, parameters on) is found again and taken', async () => {
    const name = stepCommandName('wf-legacy', 'step.main');
    const { CommandId } = await tat.CreateCommand({
      CommandName: name,
      Content: Buffer.from('# tatflow {{tatflow_key}}\necho legacy').toString('base64'),
      EnableParameter: true,
      DefaultParameters: JSON.stringify({ tatflow_key: '-' }),
    });
    const { commandId } = await run(acts.prepareStep, {
      region,
      runId: 'wf-legacy',
      step: 'step.main',
      command: { content: 'echo legacy' },
    });
    assert.equal(commandId, CommandId);
  });

  test('refuses a command of the same name with other content (another run with the same id)', async () => {
    await run(acts.prepareStep, {
      region,
      runId: 'wf-clash',
      step: 'main',
      command: { content: 'echo one' },
    });
    const f = await expectFailure(
      run(acts.prepareStep, { region, runId: 'wf-clash', step: 'main', command: { content: 'echo two' } }),
      'tatflow.StepCommandConflict',
    );
    assert.match(f.message, /another content/);
  });
});

describe('invokeChunk', () => {
  // Appends a line to <work>/marker-<tag>-<machine>: one line per run of the command on that machine.
  const marker = (tag: string) => `echo "ran ${tag}" >> "${work}/marker-${tag}-$TATFLOW_MACHINE_ID"`;
  const markerLines = (a: AgentProcess, tag: string) => {
    try {
      return readFileSync(join(work, `marker-${tag}-${a.machineId}`), 'utf8')
        .split('\n')
        .filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  /** An activity context as Temporal gives a retry of an activity first scheduled `agoMs` ago. */
  const retryEnv = (agoMs = 5000) =>
    new MockActivityEnvironment(
      { attempt: 2, scheduledTimestampMs: Date.now() - agoMs, heartbeatTimeoutMs: 15_000 },
      { logger: new DefaultLogger('ERROR') },
    );

  test('scripts run as written: {{end}} and {{ .Values }} reach the machine untouched', async () => {
    const script = [
      "cat <<'EOF'",
      'image: {{ .Values.image }}',
      '{{- if .Values.debug }}debug: true{{end}}',
      'EOF',
    ].join('\n');
    const commandId = await step({ content: script });
    const { invocationId } = await run(acts.invokeChunk, { region, commandId, instanceIds: [ids[0]!] });
    const { tasks } = await waitFinal(tat, invocationId);
    assert.equal(tasks[0]!.TaskStatus, 'SUCCESS');
    assert.equal(
      Buffer.from(tasks[0]!.TaskResult!.Output!, 'base64').toString(),
      'image: {{ .Values.image }}\n{{- if .Values.debug }}debug: true{{end}}\n',
    );
  });

  test('a first attempt just invokes; a retry finds what an earlier attempt made and reuses it', async () => {
    const commandId = await step({ content: marker('once') });
    const input = { region, commandId, instanceIds: ids };
    const first = await run(acts.invokeChunk, input);
    assert.equal(first.reused, false);
    const retried = await runIn(retryEnv(), acts.invokeChunk, { ...input, instanceIds: [...ids].reverse() });
    assert.deepEqual(retried, { invocationId: first.invocationId, reused: true });
    await waitFinal(tat, first.invocationId);
    // Also after the invocation has ended.
    const late = await runIn(retryEnv(), acts.invokeChunk, input);
    assert.deepEqual(late, { invocationId: first.invocationId, reused: true });
    for (const a of agents) assert.equal(markerLines(a, 'once'), 1, `ran once on ${a.machineId}`);
  });

  test('a retry never takes an invocation the run holds, nor one of other instances or made before it was scheduled', async () => {
    const commandId = await step({ content: marker('twice') });
    const input = { region, commandId, instanceIds: ids };
    const first = await run(acts.invokeChunk, input);
    await waitFinal(tat, first.invocationId);
    // A health check's next attempt: same command, same instances; the run holds the first. In the
    // next second: the same InvokeCommand within the second of the first is a replay to tatd.
    await nextSecond();
    const next = await runIn(retryEnv(), acts.invokeChunk, { ...input, known: [first.invocationId] });
    assert.equal(next.reused, false);
    assert.notEqual(next.invocationId, first.invocationId);
    await waitFinal(tat, next.invocationId);
    for (const a of agents) assert.equal(markerLines(a, 'twice'), 2, `ran again on ${a.machineId}`);
    // Another chunk of the same command (a subset) is not this one.
    const part = await runIn(retryEnv(), acts.invokeChunk, { ...input, instanceIds: [ids[0]!] });
    assert.equal(part.reused, false);
    await waitFinal(tat, part.invocationId);
    // An activity first scheduled long after the invocations were made is not their retry.
    const later = await runIn(retryEnv(-5 * 60_000), acts.invokeChunk, { ...input, instanceIds: [ids[1]!] });
    assert.equal(later.reused, false);
    await waitFinal(tat, later.invocationId);
  });

  test('a late attempt whose chunk was invoked meanwhile cancels its own invocation: the command runs once', async () => {
    const commandId = await step({ content: `sleep 1; ${marker('late')}` });
    const input = { region, commandId, instanceIds: ids };
    let other = '';
    // Between its look and its call, another attempt of the same activity invokes the chunk (over
    // a second before: TAT's creation times are whole seconds, and an invocation of the same second
    // is ordered by id, which both attempts' checks agree on).
    const late = createActivities(
      { secretId: ACCOUNT.secretId, secretKey: ACCOUNT.secretKey, endpoint: tatd.url },
      {
        invoke: {
          beforeInvoke: async () => {
            other = (await tat.InvokeCommand({ CommandId: commandId, InstanceIds: ids })).InvocationId!;
            await nextSecond();
          },
        },
      },
    );
    const r = await runIn(retryEnv(), late.invokeChunk, input);
    assert.deepEqual(r, { invocationId: other, reused: true });
    const invs = await tat.DescribeInvocations({ Filters: [{ Name: 'command-id', Values: [commandId] }] });
    assert.equal(invs.TotalCount, 2);
    const own = invs.InvocationSet!.find((i) => i.InvocationId !== other)!;
    const { tasks } = await waitFinal(tat, own.InvocationId!);
    for (const t of tasks) assert.ok(['CANCELLED', 'TERMINATED'].includes(t.TaskStatus!), t.TaskStatus);
    await waitFinal(tat, other);
    for (const a of agents) assert.equal(markerLines(a, 'late'), 1, `ran once on ${a.machineId}`);
  });

  test('an attempt that went without a heartbeat past its timeout does not invoke', async () => {
    const commandId = await step({ content: 'true' });
    const stalled = createActivities(
      { secretId: ACCOUNT.secretId, secretKey: ACCOUNT.secretKey, endpoint: tatd.url },
      // The stall itself (the scenario, not a wait for state): longer than the 1 s heartbeat timeout.
      { invoke: { beforeInvoke: () => new Promise((r) => setTimeout(r, 1500)) } },
    );
    const env = new MockActivityEnvironment(
      { attempt: 1, scheduledTimestampMs: Date.now(), heartbeatTimeoutMs: 1000 },
      { logger: new DefaultLogger('ERROR') },
    );
    await assert.rejects(runIn(env, stalled.invokeChunk, { region, commandId, instanceIds: ids }), (e) => {
      assert.ok(e instanceof ApplicationFailure && e.type === 'tatflow.StaleAttempt', String(e));
      assert.equal(e.nonRetryable, false);
      return true;
    });
    const invs = await tat.DescribeInvocations({ Filters: [{ Name: 'command-id', Values: [commandId] }] });
    assert.equal(invs.TotalCount, 0);
  });

  test('with watch, a quick step comes back with its results', async () => {
    const commandId = await step({ content: 'echo watched; exit 3' });
    const r = await run(acts.invokeChunk, {
      region,
      commandId,
      instanceIds: [ids[0]!],
      watch: { waitMs: 10_000, pollIntervalMs: 100, output: 'failures' },
    });
    assert.equal(r.finished?.length, 1);
    assert.equal(r.finished![0]!.status, 'FAILED');
    assert.equal(r.finished![0]!.exitCode, 3);
    assert.equal(r.finished![0]!.output, 'watched\n');
  });

  test('refuses an empty or oversized chunk, or an instance twice', async () => {
    const commandId = await step({ content: 'true' });
    const many = Array.from({ length: 101 }, (_, i) => `ins-${String(i).padStart(8, '0')}`);
    await expectFailure(run(acts.invokeChunk, { region, commandId, instanceIds: many }), 'tatflow.BadInput');
    await expectFailure(run(acts.invokeChunk, { region, commandId, instanceIds: [] }), 'tatflow.BadInput');
    await expectFailure(
      run(acts.invokeChunk, { region, commandId, instanceIds: [ids[0]!, ids[0]!] }),
      'tatflow.BadInput',
    );
  });
});

describe('pollTasks', () => {
  // fast: exits 0 at once; fail: exits 3 after 1.5 s; slow: exits 0 after 3 s (margins for a busy machine).
  const ROLES = [
    'case "$0" in',
    '  *agent-fast-*) echo quick ;;',
    '  *agent-fail-*) sleep 1.5; echo boom; exit 3 ;;',
    '  *) sleep 3; echo slow ;;',
    'esac',
  ].join('\n');

  test('`any` returns each task as it ends, `all` the rest; outputs only of failures', async () => {
    const commandId = await step({ content: ROLES });
    const { invocationId } = await run(acts.invokeChunk, { region, commandId, instanceIds: ids });
    const poll = { region, invocationIds: [invocationId], output: 'failures' as const, pollIntervalMs: 100 };

    const one = await run(acts.pollTasks, { ...poll, known: [], returnWhen: 'any' });
    assert.deepEqual(
      one.finished.map((r) => r.instanceId),
      [ids[0]],
    );
    const fast = one.finished[0]!;
    assert.equal(fast.status, 'SUCCESS');
    assert.equal(fast.outcome, 'succeeded');
    assert.equal(fast.exitCode, 0);
    assert.equal(fast.started, true);
    assert.equal(fast.output, undefined, 'no output for a success');
    assert.equal(fast.outputBytes, undefined);
    assert.equal(fast.invocationId, invocationId);
    // A success whose output is not asked for needs no DescribeInvocationTasks: its times stay unknown.
    assert.equal(fast.startTime, null);
    assert.deepEqual(Object.keys(one.pending).sort(), [ids[1], ids[2]].sort());
    assert.ok(Object.values(one.pending).every((s) => s === 'RUNNING'));

    const two = await run(acts.pollTasks, { ...poll, known: [fast.taskId], returnWhen: 'any' });
    assert.equal(two.finished.length, 1);
    const failed = two.finished[0]!;
    assert.equal(failed.instanceId, ids[1]);
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.exitCode, 3);
    assert.equal(failed.output, 'boom\n');
    assert.equal(failed.outputBytes, 5);
    assert.deepEqual(Object.keys(two.pending), [ids[2]]);

    const rest = await run(acts.pollTasks, {
      ...poll,
      known: [fast.taskId, failed.taskId],
      returnWhen: 'all',
    });
    assert.deepEqual(
      rest.finished.map((r) => [r.instanceId, r.status]),
      [[ids[2], 'SUCCESS']],
    );
    assert.deepEqual(rest.pending, {});

    // Nothing new and nothing open: `any` does not wait for what cannot come.
    const known = [fast.taskId, failed.taskId, rest.finished[0]!.taskId];
    assert.deepEqual(await run(acts.pollTasks, { ...poll, known, returnWhen: 'any' }), {
      finished: [],
      pending: {},
    });

    // `all` outputs (a version probe needs the output of successes), and `none`.
    const all = byInstance(
      (await run(acts.pollTasks, { ...poll, known: [], returnWhen: 'all', output: 'all' })).finished,
    );
    assert.deepEqual(
      ids.map((id) => all.get(id)!.output),
      ['quick\n', 'boom\n', 'slow\n'],
    );
    const none = (await run(acts.pollTasks, { ...poll, known: [], returnWhen: 'all', output: 'none' }))
      .finished;
    assert.ok(none.every((r) => r.output === undefined && r.outputBytes === undefined));
  });

  test('a long output comes back as its head and tail, with the sizes', async () => {
    const commandId = await step({
      content: [
        "head -c {{n}} /dev/zero | tr '\\0' a; printf MIDDLE",
        "head -c {{n}} /dev/zero | tr '\\0' b; printf END; exit 1",
      ].join('\n'),
      defaultParameters: { n: '6000' },
    });
    const small = await run(acts.invokeChunk, { region, commandId, instanceIds: [ids[0]!] });
    const big = await run(acts.invokeChunk, {
      region,
      commandId,
      instanceIds: [ids[1]!],
      parameters: { n: '15000' },
    });
    const { finished } = await run(acts.pollTasks, {
      region,
      invocationIds: [small.invocationId, big.invocationId],
      known: [],
      returnWhen: 'all',
      output: 'failures',
      pollIntervalMs: 100,
    });
    const r = byInstance(finished);
    const s = r.get(ids[0]!)!;
    assert.equal(s.status, 'FAILED');
    assert.equal(s.outputBytes, 12009);
    assert.equal(s.output, `${'a'.repeat(1024)}\n…[${12009 - 4096} bytes omitted]…\n${'b'.repeat(3069)}END`);
    // Over TAT's 24 KB: the tail is the end of what TAT kept, and the rest is counted.
    const b = r.get(ids[1]!)!;
    assert.equal(b.outputBytes, 30009);
    assert.equal(
      b.output,
      `${'a'.repeat(1024)}\n…[${24576 - 4096} bytes omitted]…\n${'b'.repeat(3072)}\n…[${30009 - 24576} more bytes not kept by TAT]`,
    );
  });

  test('ends with CancelledFailure when its activity is cancelled', async () => {
    const marker = `sleep 97${randomInt(100000, 999999)}`;
    const commandId = await step({ content: `${marker}` });
    const { invocationId } = await run(acts.invokeChunk, {
      region,
      commandId,
      instanceIds: [ids[2]!],
    });
    const env = newEnv();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const polling = runIn(env, acts.pollTasks, {
      region,
      invocationIds: [invocationId],
      known: [],
      returnWhen: 'all',
      output: 'failures',
      pollIntervalMs: 100,
    });
    await waitFor(() => beats >= 2, { what: 'heartbeats', timeoutMs: 10_000 });
    env.cancel();
    await assert.rejects(polling, (e) => e instanceof CancelledFailure);
    // The remote task is the workflow's to cancel (with cancelInvocations), not the poll's.
    const { settled } = await run(acts.cancelInvocations, {
      region,
      invocationIds: [invocationId],
      waitMs: 10_000,
      pollIntervalMs: 100,
    });
    assert.equal(settled, true);
    assert.deepEqual(processesMatching(marker), []);
  });
});

describe('cancelInvocations', () => {
  test('terminates running tasks, waits until no process is left, and returns their results', async () => {
    const marker = `sleep 98${randomInt(100000, 999999)}`;
    const commandId = await step({ content: `echo started; ${marker}; echo never` });
    const { invocationId } = await run(acts.invokeChunk, { region, commandId, instanceIds: ids });
    await waitFor(() => processesMatching(marker).length === 3, { what: 'three sleeps to run' });
    const env = newEnv();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const r = await runIn(env, acts.cancelInvocations, {
      region,
      invocationIds: [invocationId],
      waitMs: 15_000,
      pollIntervalMs: 100,
    });
    assert.equal(r.settled, true);
    assert.ok(beats > 0, 'it heartbeats while it waits');
    assert.deepEqual(processesMatching(marker), []);
    assert.equal(r.results.length, 3);
    for (const t of r.results) {
      assert.equal(t.status, 'TERMINATED');
      assert.equal(t.outcome, 'cancelled');
      assert.equal(t.started, true, 'a terminated task had changed its target');
      assert.equal(t.exitCode, -1);
      assert.equal(t.output, 'started\n');
    }
    // Again, on an invocation that is over: nothing to cancel, no error.
    const again = await run(acts.cancelInvocations, {
      region,
      invocationIds: [invocationId],
      waitMs: 1000,
      pollIntervalMs: 100,
    });
    assert.equal(again.settled, true);
    assert.deepEqual(again.results.map((t) => t.status).sort(), ['TERMINATED', 'TERMINATED', 'TERMINATED']);
  });

  test('a task cancelled before its agent started it never ran', async () => {
    const agent = agents[2]!;
    const commandId = await step({ content: `touch "${work}/must-not-exist-$TATFLOW_MACHINE_ID"` });
    agent.signal('SIGSTOP'); // connected (Online) but not reading: the task waits in DELIVERING
    let result;
    try {
      const { invocationId } = await run(acts.invokeChunk, {
        region,
        commandId,
        instanceIds: [agent.instanceId],
      });
      result = await run(acts.cancelInvocations, {
        region,
        invocationIds: [invocationId],
        waitMs: 5000,
        pollIntervalMs: 100,
      });
    } finally {
      agent.signal('SIGCONT');
    }
    assert.equal(result.settled, true);
    const t = result.results[0]!;
    assert.equal(t.status, 'CANCELLED');
    assert.equal(t.started, false);
    assert.equal(t.exitCode, null, 'no exit code for a process that never ran');
    const tasks = await tasksOf(tat, t.invocationId);
    assert.equal(tasks[0]!.TaskStatus, 'CANCELLED');
    // The agent, running again, handles the kick it missed. A task given to it afterwards ends
    // only once it has done so (it fetches tasks in order), so its end is the moment to look.
    const after = await run(acts.invokeChunk, {
      region,
      commandId: await step({ content: 'true' }),
      instanceIds: [agent.instanceId],
    });
    assert.equal((await waitFinal(tat, after.invocationId)).invocation.InvocationStatus, 'SUCCESS');
    assert.equal(existsSync(join(work, `must-not-exist-${agent.machineId}`)), false);
  });
});

describe('errors and clean-up', () => {
  test('a request TAT refuses fails for good, typed with the TAT code', async () => {
    await expectFailure(
      run(acts.invokeChunk, { region, commandId: 'cmd-zzzzzzzz', instanceIds: [ids[0]!] }),
      'ResourceNotFound.CommandNotFound',
    );
    await expectFailure(
      run(acts.invokeChunk, { region, commandId: 'not-a-command', instanceIds: [ids[0]!] }),
      'InvalidParameterValue.InvalidCommandId',
    );
    await expectFailure(
      run(acts.pollTasks, {
        region,
        invocationIds: ['inv-zzzzzzzz'],
        known: [],
        returnWhen: 'any',
        output: 'none',
        pollIntervalMs: 100,
      }),
      'ResourceNotFound.InvocationNotFound',
    );
    const wrongKey = createActivities({ secretId: ACCOUNT.secretId, secretKey: 'wrong', endpoint: tatd.url });
    await expectFailure(
      run(wrongKey.agentStatus, { region, instanceIds: ids }),
      'AuthFailure.SignatureFailure',
    );
  });

  test('a network error is thrown as it is, so Temporal retries it', async () => {
    const down = createActivities({ ...ACCOUNT, endpoint: 'http://127.0.0.1:1' });
    await assert.rejects(
      run(down.agentStatus, { region, instanceIds: ids }),
      (e) => e instanceof TencentCloudSDKHttpException && !(e instanceof ApplicationFailure),
    );
  });

  test('deleteCommands deletes the commands, and ones already gone are fine', async () => {
    const a = await step({ content: 'true' });
    const b = await step({ content: 'true' });
    // `a` is gone already (deleted another way: the same DeleteCommand again within the same
    // second would be refused as a replay, docs/api-coverage.md).
    await tat.DeleteCommands({ CommandIds: [a] });
    await run(acts.deleteCommands, { region, commandIds: [a, b] });
    assert.equal((await tat.DescribeCommands({ CommandIds: [a, b] })).TotalCount, 0);
  });
});
