// Running commands through the SDK and waiting for their results.

import { execFileSync } from 'node:child_process';
import type { TatClient } from '../../tat/node/client.js';
import { isFinalInvocationStatus, type InvocationStatus } from '../../tat/status.js';
import { waitFor } from '../../testkit/wait.js';

export type Task = NonNullable<
  Awaited<ReturnType<TatClient['DescribeInvocationTasks']>>['InvocationTaskSet']
>[number];
export type Invocation = NonNullable<
  Awaited<ReturnType<TatClient['DescribeInvocations']>>['InvocationSet']
>[number];

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
export const outputOf = (t: Task) => Buffer.from(t.TaskResult?.Output ?? '', 'base64').toString('utf8');

export async function invocation(client: TatClient, id: string): Promise<Invocation> {
  const r = await client.DescribeInvocations({ InvocationIds: [id] });
  return r.InvocationSet![0]!;
}

export async function tasksOf(client: TatClient, invocationId: string): Promise<Task[]> {
  const r = await client.DescribeInvocationTasks({
    Filters: [{ Name: 'invocation-id', Values: [invocationId] }],
    HideOutput: false,
    Limit: 100,
  });
  return r.InvocationTaskSet!;
}

export async function waitTasks(
  client: TatClient,
  invocationId: string,
  done: (tasks: Task[]) => boolean,
  timeoutMs = 30_000,
): Promise<Task[]> {
  return waitFor(
    async () => {
      const tasks = await tasksOf(client, invocationId);
      return done(tasks) ? tasks : false;
    },
    { timeoutMs, what: `tasks of ${invocationId}` },
  );
}

/** Waits until the invocation is final; returns it and its tasks (with output). */
export async function waitFinal(
  client: TatClient,
  invocationId: string,
  timeoutMs = 30_000,
): Promise<{ invocation: Invocation; tasks: Task[] }> {
  const inv = await waitFor(
    async () => {
      const i = await invocation(client, invocationId);
      return isFinalInvocationStatus(i.InvocationStatus as InvocationStatus) ? i : false;
    },
    { timeoutMs, what: `invocation ${invocationId} to end` },
  );
  return { invocation: inv, tasks: await tasksOf(client, invocationId) };
}

/**
 * Runs `true` on one instance and waits until it succeeded. An agent fetches its tasks in order,
 * so when this returns it has handled every kick given to it before: the moment to check that an
 * earlier task (cancelled, or never delivered) did not run.
 */
export async function agentCaughtUp(client: TatClient, instanceId: string): Promise<void> {
  const { InvocationId } = await client.RunCommand({ Content: b64('true'), InstanceIds: [instanceId] });
  const { invocation: inv } = await waitFinal(client, InvocationId!);
  if (inv.InvocationStatus !== 'SUCCESS')
    throw new Error(`a probe task on ${instanceId} ended ${inv.InvocationStatus}, not SUCCESS`);
}

/** Processes whose command line contains `marker` (pgrep -f). */
export function processesMatching(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
