// Deadlines the server enforces itself: DELIVER_FAILED for tasks no agent picked up in time,
// TASK_TIMEOUT for started tasks whose agent went silent past Timeout plus a grace.

import { UNSTARTED_TASK_STATUSES, STARTED_TASK_STATUSES } from '../../tat/index.js';
import type { ServerContext } from '../context.js';

/** Ends the tasks in `statuses` whose `deadline` has passed, as `status`; returns how many. */
async function endOverdue(
  server: ServerContext,
  statuses: readonly string[],
  deadline: 'deliver_deadline' | 'run_deadline',
  status: 'DELIVER_FAILED' | 'TASK_TIMEOUT',
  why: string,
): Promise<number> {
  const now = server.now();
  const r = await server.db
    .updateTable('tasks')
    .set({ status, error_info: why, script: null, end_at: now, updated_at: now })
    .where('status', 'in', [...statuses])
    .where(deadline, '<=', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** One pass over the deadlines; returns how many tasks ended. */
export async function sweepDeadlines(server: ServerContext): Promise<number> {
  const undelivered = await endOverdue(
    server,
    UNSTARTED_TASK_STATUSES,
    'deliver_deadline',
    'DELIVER_FAILED',
    'the agent did not pick up the task before the delivery deadline',
  );
  const lost = await endOverdue(
    server,
    STARTED_TASK_STATUSES,
    'run_deadline',
    'TASK_TIMEOUT',
    'the agent reported no result within Timeout plus the grace period',
  );
  return undelivered + lost;
}

/**
 * At start-up: agents need a moment to reconnect and re-send the reports they kept while tatd
 * was down, so no started task is declared lost before that grace has passed.
 */
export async function extendRunDeadlines(server: ServerContext): Promise<void> {
  const floor = server.now() + server.config.timings.restartGraceMs;
  await server.db
    .updateTable('tasks')
    .set({ run_deadline: floor })
    .where('status', 'in', [...STARTED_TASK_STATUSES])
    .where('run_deadline', '<', floor)
    .execute();
}

export function startSweeper(server: ServerContext): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepDeadlines(server)
      .then((n) => {
        if (n > 0) server.log.info({ tasks: n }, 'deadlines passed');
      })
      .catch((err: unknown) => server.log.error({ err }, 'deadline sweep failed'))
      .finally(() => {
        running = false;
      });
  }, server.config.timings.sweepIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
