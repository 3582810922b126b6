// One invoker fire, as the activity inside tatd runs it: read the invoker (the database is the
// truth, not what the Schedule carries), start the invocation exactly as InvokeCommand would, and
// record the fire (an InvokerRecord) in the same transaction. A record per (invoker, scheduled
// time) is unique, so a retried activity, a duplicate fire or a race with the missed-fire
// bookkeeping (./missed.ts) never starts a second invocation.

import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Insertable, Kysely } from 'kysely';
import { apiTime, isTatError } from '../../tat/index.js';
import type { CallContext, ServerContext } from '../context.js';
import { invokeSavedCommand } from '../resources/invocations.js';
import type { Database, InvokerRecordsTable } from '../store/schema.js';
import type { FireOutcome, FireRequest } from './names.js';
import { firesAt, invokerRow } from './row.js';

/** A fire handled later than this after its time counts as on time in its record's Reason. */
const ON_TIME_MS = 5_000;

/** The primary key refused a second record for the same fire. */
function isDuplicate(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || code === '23505');
}

export type RecordRow = Insertable<InvokerRecordsTable>;

/** Inserts a record unless the fire has one already; true when this one was written. */
export async function insertRecord(db: Kysely<Database>, r: RecordRow): Promise<boolean> {
  const res = await db
    .insertInto('invoker_records')
    .values(r)
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Keeps the newest `retention.maxRecordsPerInvoker` records of an invoker. */
export async function trimRecords(server: ServerContext, invokerId: string): Promise<void> {
  const edge = await server.db
    .selectFrom('invoker_records')
    .select('invoke_at')
    .where('invoker_id', '=', invokerId)
    .orderBy('invoke_at', 'desc')
    .limit(1)
    .offset(server.config.retention.maxRecordsPerInvoker - 1)
    .executeTakeFirst();
  if (edge)
    await server.db
      .deleteFrom('invoker_records')
      .where('invoker_id', '=', invokerId)
      .where('invoke_at', '<', edge.invoke_at)
      .execute();
}

export function skippedReason(lateMs: number, catchUpMs: number): string {
  return `skipped: not started within the ${Math.round(catchUpMs / 1000)} s catch-up window (handled ${Math.round(lateMs / 1000)} s after the scheduled time; tatd or Temporal was unavailable).`;
}

/** Thrown to have Temporal retry the fire: its agents may still be reconnecting to a restarted tatd. */
class AgentsReconnecting extends Error {}

/**
 * Handles one fire. `startedAt` is when this tatd started: for `timings.restartGraceMs` after it,
 * agents are still reconnecting, so a fire refused only because an agent is offline is retried
 * (while inside the catch-up window) rather than recorded as FAILED at once.
 */
export async function fire(server: ServerContext, req: FireRequest, startedAt = 0): Promise<FireOutcome> {
  const now = server.now();
  const log = server.log.child({ invokerId: req.invokerId, scheduledAt: apiTime(req.scheduledAt) });
  const ignored = (reason: string): FireOutcome => {
    log.info({ reason }, 'invoker fire ignored');
    return { outcome: 'ignored', reason };
  };
  const row = await invokerRow(server.db, req, req.invokerId);
  if (!row) return ignored('the invoker was deleted');
  if (row.enabled !== 1) return ignored('the invoker is disabled');
  if (req.scheduledAt < row.schedule_since || !firesAt(row, req.scheduledAt))
    return ignored("not a fire time of the invoker's current schedule (it was changed)");

  const base = {
    invoker_id: row.id,
    account: row.account,
    region: row.region,
    invoke_at: req.scheduledAt,
    created_at: now,
  };
  const duplicate: FireOutcome = { outcome: 'duplicate', reason: 'this fire was handled before' };
  const late = now - req.scheduledAt;
  const catchUp = server.config.timings.invokerCatchUpMs;
  if (late > catchUp) {
    const reason = skippedReason(late, catchUp);
    if (!(await insertRecord(server.db, { ...base, invocation_id: '', result: 'FAILED', reason })))
      return duplicate;
    log.warn({ lateMs: late }, 'invoker fire skipped: too late');
    await trimRecords(server, row.id);
    return { outcome: 'skipped', reason };
  }

  const ctx: CallContext = {
    server,
    account: row.account,
    region: row.region,
    requestId: randomUUID(),
    log: log as FastifyBaseLogger,
  };
  const reason =
    late <= ON_TIME_MS
      ? 'start an invocation at scheduled time.'
      : `start an invocation ${Math.round(late / 1000)} s after the scheduled time (caught up: tatd or Temporal was unavailable).`;
  try {
    const invocationId = await invokeSavedCommand(
      ctx,
      {
        CommandId: row.command_id,
        InstanceIds: JSON.parse(row.instance_ids) as string[],
        ...(row.parameters !== '' ? { Parameters: row.parameters } : {}),
        ...(row.username !== '' ? { Username: row.username } : {}),
      },
      {
        source: 'INVOKER',
        alongside: async (trx, id) => {
          await trx
            .insertInto('invoker_records')
            .values({ ...base, invocation_id: id, result: '', reason })
            .execute();
        },
      },
    );
    await trimRecords(server, row.id);
    return { outcome: 'started', invocationId, reason };
  } catch (e) {
    if (isDuplicate(e)) return duplicate;
    // Anything but a refusal InvokeCommand would answer (the store, say) is retried by Temporal.
    if (!isTatError(e)) throw e;
    if (
      e.code === 'ResourceUnavailable.AgentStatusNotOnline' &&
      now - startedAt < server.config.timings.restartGraceMs &&
      late < catchUp - ON_TIME_MS
    ) {
      log.info({ reason: e.message }, 'invoker fire waits for agents reconnecting after the start of tatd');
      throw new AgentsReconnecting(
        `tatd started ${Math.round((now - startedAt) / 1000)} s ago: ${e.message}`,
      );
    }
    const why = `${e.code}: ${e.message}`;
    if (!(await insertRecord(server.db, { ...base, invocation_id: '', result: 'FAILED', reason: why })))
      return duplicate;
    log.warn({ error: e.code, reason: e.message }, 'invoker fire refused');
    await trimRecords(server, row.id);
    return { outcome: 'failed', reason: why };
  }
}

/** The activities of the worker inside tatd. */
export function createFireActivities(server: ServerContext, startedAt: number) {
  return { fireInvoker: (req: FireRequest) => fire(server, req, startedAt) };
}
export type FireActivities = ReturnType<typeof createFireActivities>;
