// Retention of invocation records, as TAT keeps them: for 3 months, and at most 10000 per account
// (`retention` in the configuration). A periodic pass removes invocations older than the age
// limit, then those beyond the count limit of their account (oldest first), each with its tasks,
// their output, the objects they uploaded to the object store (`cos.removeWithRecords`), the
// invoker record of the fire that started it, and the temporary command of a RunCommand without
// SaveCommand. Invoker records of fires that started nothing age out alike. Only invocations
// whose tasks are all final go. Work is done in small transactions with the event loop let go in
// between, so API calls and agent reports are served while a large purge runs.

import { sql } from 'kysely';
import { FINAL_TASK_STATUSES } from '../../tat/index.js';
import type { ServerContext } from '../context.js';

export interface RetentionResult {
  invocations: number;
  tasks: number;
  batches: number;
}

const DAY_MS = 86_400_000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const allTasksFinal = sql<boolean>`not exists (select 1 from tasks t where t.invocation_id = invocations.id and t.status not in (${sql.join(
  FINAL_TASK_STATUSES.map((s) => sql.lit(s)),
)}))`;

/**
 * Of the candidates (oldest first), the longest prefix whose tasks fit in one batch (at least
 * one invocation, so an invocation with more tasks than the batch size still goes).
 */
async function takeBatch(server: ServerContext, candidates: string[]): Promise<string[]> {
  if (candidates.length === 0) return [];
  const counts = await server.db
    .selectFrom('tasks')
    .select(['invocation_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('invocation_id', 'in', candidates)
    .groupBy('invocation_id')
    .execute();
  const n = new Map(counts.map((c) => [c.invocation_id, Number(c.n)]));
  const batch: string[] = [];
  let tasks = 0;
  for (const id of candidates) {
    const k = n.get(id) ?? 0;
    if (batch.length > 0 && tasks + k > server.config.retention.batchSize) break;
    batch.push(id);
    tasks += k;
  }
  return batch;
}

/**
 * Removes the invocations `ids` and everything that hangs off them, in one transaction; then the
 * files of their tasks' objects (`cos.removeWithRecords`). Returns how many tasks went.
 */
async function removeInvocations(server: ServerContext, ids: string[]): Promise<number> {
  const objects: { bucket: string; key: string }[] = [];
  const tasks = await server.db.transaction().execute(async (trx) => {
    if (server.config.cos.removeWithRecords) {
      const taskIds = trx.selectFrom('tasks').select('id').where('invocation_id', 'in', ids);
      objects.push(
        ...(await trx
          .selectFrom('cos_objects')
          .select(['bucket', 'key'])
          .where('task_id', 'in', taskIds)
          .execute()),
      );
      await trx.deleteFrom('cos_objects').where('task_id', 'in', taskIds).execute();
    }
    const commandIds = (
      await trx.selectFrom('invocations').select('command_id').distinct().where('id', 'in', ids).execute()
    ).map((r) => r.command_id);
    await trx
      .deleteFrom('task_output')
      .where('task_id', 'in', (eb) => eb.selectFrom('tasks').select('id').where('invocation_id', 'in', ids))
      .execute();
    const tasks = await trx.deleteFrom('tasks').where('invocation_id', 'in', ids).executeTakeFirst();
    await trx.deleteFrom('invocations').where('id', 'in', ids).execute();
    // An invoker's record of a fire goes with the invocation it started.
    await trx.deleteFrom('invoker_records').where('invocation_id', 'in', ids).execute();
    // The temporary command of a RunCommand without SaveCommand lives only for its invocation.
    if (commandIds.length > 0)
      await trx
        .deleteFrom('commands')
        .where('id', 'in', commandIds)
        .where('saved', '=', 0)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb.selectFrom('invocations as i').select('i.id').whereRef('i.command_id', '=', 'commands.id'),
            ),
          ),
        )
        .execute();
    return Number(tasks.numDeletedRows);
  });
  for (const o of objects) await server.cos.remove(o.bucket, o.key);
  return tasks;
}

/** Removes batches of what `next` picks until it picks nothing or the pass is stopped. */
async function drain(
  server: ServerContext,
  next: (limit: number) => Promise<string[]>,
  total: RetentionResult,
  stopped: () => boolean,
): Promise<void> {
  // Ids are bound one variable each: far below SQLite's limit per statement.
  const limit = Math.min(server.config.retention.batchSize, 1000);
  while (!stopped()) {
    const batch = await takeBatch(server, await next(limit));
    if (batch.length === 0) return;
    total.tasks += await removeInvocations(server, batch);
    total.invocations += batch.length;
    total.batches++;
    await yieldToEventLoop();
  }
}

/** One retention pass over every account. */
export async function enforceRetention(
  server: ServerContext,
  stopped: () => boolean = () => false,
): Promise<RetentionResult> {
  const { maxAgeDays, maxInvocationsPerAccount: max } = server.config.retention;
  const total: RetentionResult = { invocations: 0, tasks: 0, batches: 0 };
  const cutoff = server.now() - Math.round(maxAgeDays * DAY_MS);
  await drain(
    server,
    async (limit) =>
      (
        await server.db
          .selectFrom('invocations')
          .select('id')
          .where('created_at', '<', cutoff)
          .where(allTasksFinal)
          .orderBy('created_at')
          .limit(limit)
          .execute()
      ).map((r) => r.id),
    total,
    stopped,
  );
  // Records of fires that started nothing (refused, skipped) age out like invocations.
  await server.db
    .deleteFrom('invoker_records')
    .where('invocation_id', '=', '')
    .where('invoke_at', '<', cutoff)
    .execute();
  const crowded = await server.db
    .selectFrom('invocations')
    .select(['account', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('account')
    .having((eb) => eb.fn.countAll(), '>', max)
    .execute();
  for (const { account } of crowded)
    await drain(
      server,
      async (limit) => {
        // The newest invocation beyond the account's newest `max` (re-read after every batch).
        const edge = await server.db
          .selectFrom('invocations')
          .select(['id', 'created_at'])
          .where('account', '=', account)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .offset(max)
          .executeTakeFirst();
        if (!edge) return [];
        const rows = await server.db
          .selectFrom('invocations')
          .select('id')
          .where('account', '=', account)
          .where((eb) =>
            eb.or([
              eb('created_at', '<', edge.created_at),
              eb.and([eb('created_at', '=', edge.created_at), eb('id', '<=', edge.id)]),
            ]),
          )
          .where(allTasksFinal)
          .orderBy('created_at')
          .orderBy('id')
          .limit(limit)
          .execute();
        return rows.map((r) => r.id);
      },
      total,
      stopped,
    );
  return total;
}

/**
 * Runs a pass every `retention.intervalMs`, the first one interval after start. The returned stop
 * ends the pass in progress after its current batch and resolves once it has.
 */
export function startRetention(server: ServerContext): () => Promise<void> {
  let stopped = false;
  let pass: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout;
  const run = () => {
    const started = performance.now();
    pass = enforceRetention(server, () => stopped)
      .then((r) => {
        if (r.invocations > 0)
          server.log.info(
            { ...r, ms: Math.round(performance.now() - started) },
            'retention removed old invocations',
          );
      })
      .catch((err: unknown) => server.log.error({ err }, 'retention pass failed'))
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(run, server.config.retention.intervalMs);
    timer.unref();
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await pass;
  };
}
