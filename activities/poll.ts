// Waiting for tasks to end. One DescribeInvocations per 100 invocations and interval gives every
// task's status; details (and outputs) are fetched only for the tasks that just ended. The loop
// heartbeats, so a cancelled activity ends at its next sleep (with CancelledFailure) and a dead
// worker is noticed.

import { Context } from '@temporalio/activity';
import type { TatClient } from '../tat/node/client.js';
import { badInput } from './errors.js';
import { unique } from './pages.js';
import { isFinal, resultsOf, snapshot } from './tasks.js';
import type { OutputCapture, PollTasksInput, PollTasksResult, TaskResult } from './types.js';

export async function pollTasks(tat: TatClient, input: PollTasksInput): Promise<PollTasksResult> {
  const invocationIds = unique(input.invocationIds);
  if (invocationIds.length === 0) return { finished: [], pending: {} };
  const known = new Set(input.known);
  const ctx = Context.current();
  for (;;) {
    const { tasks, missing } = await snapshot(tat, invocationIds);
    if (missing.length > 0)
      throw badInput(
        `Invocations not found in ${input.region}: ${missing.join(', ')}.`,
        'ResourceNotFound.InvocationNotFound',
      );
    const fresh = tasks.filter((t) => isFinal(t) && !known.has(t.taskId));
    const open = tasks.filter((t) => !isFinal(t));
    // `any` also returns once nothing is left to wait for, so it cannot wait forever.
    const done = open.length === 0 || (input.returnWhen === 'any' && fresh.length > 0);
    if (done) {
      const finished = await resultsOf(tat, fresh, input.output);
      return { finished, pending: Object.fromEntries(open.map((t) => [t.instanceId, t.status])) };
    }
    ctx.heartbeat({ final: tasks.length - open.length, open: open.length });
    await ctx.sleep(input.pollIntervalMs);
  }
}

/**
 * Looks at one new invocation's tasks every `pollIntervalMs` for up to `waitMs` (the first look
 * after one interval: tasks just handed to their agents cannot have ended), until every task is
 * final; returns those that are. Part of invokeChunk, so that a quick step needs no poll activity
 * and no workflow task of its own.
 */
export async function watchTasks(
  tat: TatClient,
  invocationId: string,
  o: { waitMs: number; pollIntervalMs: number; output: OutputCapture },
): Promise<TaskResult[]> {
  const ctx = Context.current();
  const until = Date.now() + o.waitMs;
  for (;;) {
    const wait = Math.min(o.pollIntervalMs, until - Date.now());
    if (wait > 0) {
      ctx.heartbeat();
      await ctx.sleep(wait);
    }
    const { tasks } = await snapshot(tat, [invocationId]);
    const final = tasks.filter(isFinal);
    if ((tasks.length > 0 && final.length === tasks.length) || Date.now() >= until)
      return resultsOf(tat, final, o.output);
  }
}
