// Cancelling invocations and waiting (bounded) until no remote process is left: tasks not started
// end CANCELLED at once, running ones TERMINATED once their agent has killed the process group.
// The workflow calls this from a non-cancellable scope when it aborts or is cancelled.

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TatClient } from '../tat/node/client.js';
import { errorCode, tatCall } from './errors.js';
import { unique } from './pages.js';
import { isFinal, resultsOf, snapshot, type TaskState } from './tasks.js';
import type { CancelInput, CancelResult } from './types.js';

/**
 * CancelInvocation for one invocation. TAT documents no code for "nothing left to cancel", so a
 * refusal is accepted when the invocation is gone or all its tasks are final by now.
 */
async function cancelOne(tat: TatClient, invocationId: string): Promise<void> {
  try {
    await tatCall(tat, 'CancelInvocation', () => tat.CancelInvocation({ InvocationId: invocationId }));
  } catch (e) {
    if (errorCode(e) === undefined || !(e instanceof ApplicationFailure)) throw e; // a passing fault: retried
    const { tasks, missing } = await snapshot(tat, [invocationId]);
    if (missing.length === 0 && !tasks.every(isFinal)) throw e;
  }
}

export async function cancelInvocations(tat: TatClient, input: CancelInput): Promise<CancelResult> {
  const ctx = Context.current();
  const deadline = Date.now() + input.waitMs;
  const invocationIds = unique(input.invocationIds);
  const before = await snapshot(tat, invocationIds);
  const open = new Set(before.tasks.filter((t) => !isFinal(t)).map((t) => t.invocationId));
  for (const id of invocationIds) if (open.has(id)) await cancelOne(tat, id);

  let tasks: TaskState[] = before.tasks;
  let settled = open.size === 0;
  while (!settled && Date.now() < deadline) {
    ctx.heartbeat({ open: tasks.filter((t) => !isFinal(t)).length });
    await ctx.sleep(Math.min(input.pollIntervalMs, Math.max(0, deadline - Date.now())));
    tasks = (await snapshot(tat, invocationIds)).tasks;
    settled = tasks.every(isFinal);
  }
  return { settled, results: await resultsOf(tat, tasks.filter(isFinal), 'failures') };
}
