// Why a run does not answer. A run's progress comes from a query, which a worker answers by
// replaying the run; when the run's workflow task keeps failing (a worker that cannot run its code:
// a non-determinism error after a bad upgrade, a runbook the worker does not have) no query can be
// answered, and Temporal only says "Failed to query Workflow". What Temporal does record is the
// failed workflow task: its attempt count (DescribeWorkflowExecution) and its failure (the latest
// WorkflowTaskFailed event of the history). `status`, `--follow` and `abort` show that instead.

import type { Client, WorkflowHandle } from '@temporalio/client';

export interface Stuck {
  /** Attempts of the workflow task so far. */
  attempt: number;
  /** Why the last attempt failed, as the worker reported it. */
  reason: string;
}

/** Workflow task attempts from which a run counts as stuck (the first failure may be a worker restart). */
export const STUCK_ATTEMPTS = 2;

/** The latest workflow-task failure of the run, from the end of its history. */
async function lastTaskFailure(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<string | undefined> {
  const r = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId, ...(runId ? { runId } : {}) },
    maximumPageSize: 100,
  });
  for (const e of r.history?.events ?? []) {
    const a = e.workflowTaskFailedEventAttributes;
    if (!a) continue;
    const f = a.failure;
    const message = f?.message ?? 'workflow task failed';
    // The stack's line that names the error's type (`TypeError: …`) says more than the message.
    const typed = f?.stackTrace
      ?.split('\n')
      .map((l) => l.trim())
      .find((l) => /^\w*(Error|Exception)\b.*: /.test(l) && l.includes(message));
    const cause = f?.cause?.message ? ` (${f.cause.message})` : '';
    return `${typed ?? message}${cause}`;
  }
  return undefined;
}

/** The run's workflow task keeps failing: how often, and why; undefined when it does not. */
export async function stuckRun(client: Client, handle: WorkflowHandle): Promise<Stuck | undefined> {
  const d = await handle.describe();
  if (d.status.name !== 'RUNNING') return undefined;
  const attempt = d.raw.pendingWorkflowTask?.attempt ?? 0;
  if (attempt < STUCK_ATTEMPTS) return undefined;
  const reason = (await lastTaskFailure(client, handle.workflowId, d.runId)) ?? 'no failure recorded yet';
  return { attempt, reason };
}

export function stuckMessage(runId: string, s: Stuck): string {
  return (
    `run ${runId} is stuck: its workflow task failed ${s.attempt - 1} time(s) in a row, last with: ` +
    `${s.reason}\nNothing runs until a worker can run it; \`tatflow abort ${runId}\` ends it.`
  );
}
