// Deadlines the server enforces itself: DELIVER_FAILED for tasks no agent picked up in time,
// TASK_TIMEOUT for started tasks whose agent went silent past Timeout plus a grace.

import { UNSTARTED_TASK_STATUSES, STARTED_TASK_STATUSES } from '../../tat/index.js';
import type { ServerContext } from '../context.js';

/** One pass over the deadlines; returns how many tasks ended. */
export async function sweepDeadlines(server: ServerContext): Promise<number> {
  const now = server.now();
  const { db } = server;
  const undelivered = await db
    .updateTable('tasks')
    .set({
      status: 'DELIVER_FAILED',
      error_info: 'the agent did not pick up the task before the delivery deadline',
      script: null,
      end_at: now,
      updated_at: now,
    })
    .where('status', 'in', [...UNSTARTED_TASK_STATUSES])
    .where('deliver_deadline', '<=', now)
    .executeTakeFirst();
  const lost = await db
    .updateTable('tasks')
    .set({
      status: 'TASK_TIMEOUT',
      error_info: 'the agent reported no result within Timeout plus the grace period',
      script: null,
      end_at: now,
      updated_at: now,
    })
    .where('status', 'in', [...STARTED_TASK_STATUSES])
    .where('run_deadline', '<=', now)
    .executeTakeFirst();
  return Number(undelivered.numUpdatedRows + lost.numUpdatedRows);
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
