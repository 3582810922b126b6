// One invocation of a step's command on a chunk of instances, made once per activity, with nothing
// TAT does not record by itself: no custom parameter, no marker in the script (docs/runbooks.md,
// "Idempotency").
//
// TAT's InvokeCommand takes no client token, and an invocation carries no name or tag; but TAT
// records each invocation's command, instances and creation time. A first attempt just invokes. A
// retried attempt (attempt > 1: an earlier one lost its answer, its worker died, TAT failed
// mid-call) first looks for what an earlier attempt made: an invocation of this command whose
// instances are exactly this chunk, created after the activity was first scheduled (less
// LOOKBACK_MS for TAT's whole-second times and clock differences), and none the run already holds
// for the same chunk (`known`: a health check's earlier attempts run the same command on the same
// instances). Found: it is returned, and nothing is invoked again.
//
// The look and the call are two requests, and an attempt Temporal has given up (it stalled past its
// heartbeat timeout) may still be running while its retry invokes. So:
//  - right before sending, an attempt checks it is still certainly the current one (errors.ts,
//    `aliveUntil`); if not, it does not invoke;
//  - after the call, an attempt that cannot be sure it was current when TAT created its invocation
//    (a retry, whose predecessors may still be running; or an answer that came back after its
//    liveness ran out, e.g. a request held up on the way) looks again; if another invocation of
//    the chunk was made before its own, it cancels its own at once (still PENDING or DELIVERING,
//    it ends CANCELLED: nothing ran) and returns the earlier one. Both attempts order the
//    invocations the same way (creation time, then id), so exactly one survives.

import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { TatClient } from '../tat/node/client.js';
import { aliveUntil, badInput, heartbeat, tatCall } from './errors.js';
import { allPages, IDS_PER_CALL, slices, unique } from './pages.js';
import { watchTasks } from './poll.js';
import type { InvokeChunkInput, InvokedChunk } from './types.js';

/** How far before the activity's first scheduling an earlier attempt's invocation may seem made. */
export const LOOKBACK_MS = 60_000;

/** Test seams (fault injection): never set in production. */
export interface InvokeHooks {
  /** Runs right before the liveness check and InvokeCommand. */
  beforeInvoke?: (input: InvokeChunkInput, attempt: number) => Promise<void>;
}

type Invocation = NonNullable<Awaited<ReturnType<TatClient['DescribeInvocations']>>['InvocationSet']>[number];

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/** TAT times are ISO 8601 (whole seconds); an unreadable one counts as recent (never skipped). */
const timeOf = (t: string | null | undefined) => {
  const ms = Date.parse(t ?? '');
  return Number.isFinite(ms) ? ms : Infinity;
};

interface Made {
  invocationId: string;
  created: number;
}

/**
 * Invocations of the command on exactly the chunk, created at or after `since`, not in `known`,
 * earliest first. Any invocation of exactly the chunk has a task on its first instance, so one
 * filtered DescribeInvocationTasks finds them all, and one DescribeInvocations reads their
 * instance sets.
 */
async function chunkInvocations(
  tat: TatClient,
  input: InvokeChunkInput,
  since: number,
  known: Set<string>,
): Promise<Made[]> {
  const first = input.instanceIds[0]!;
  const tasks = await allPages(async (Offset, Limit) => {
    const r = await tatCall(tat, 'DescribeInvocationTasks', () =>
      tat.DescribeInvocationTasks({
        Filters: [
          { Name: 'command-id', Values: [input.commandId] },
          { Name: 'instance-id', Values: [first] },
        ],
        HideOutput: true,
        Offset,
        Limit,
      }),
    );
    return { items: r.InvocationTaskSet ?? [], total: r.TotalCount ?? 0 };
  });
  const candidates = unique(
    tasks
      .filter((t) => timeOf(t.CreatedTime) >= since && !known.has(t.InvocationId ?? ''))
      .map((t) => t.InvocationId!),
  );
  const found: Invocation[] = [];
  for (const ids of slices(candidates)) {
    const r = await tatCall(tat, 'DescribeInvocations', () =>
      tat.DescribeInvocations({ InvocationIds: ids, Limit: ids.length }),
    );
    found.push(...(r.InvocationSet ?? []));
  }
  return found
    .filter((inv) =>
      sameSet(
        (inv.InvocationTaskBasicInfoSet ?? []).map((t) => t.InstanceId ?? ''),
        input.instanceIds,
      ),
    )
    .map((inv) => ({ invocationId: inv.InvocationId!, created: timeOf(inv.CreatedTime) }))
    .sort((a, b) => a.created - b.created || a.invocationId.localeCompare(b.invocationId));
}

function checkInput(input: InvokeChunkInput): void {
  const n = input.instanceIds.length;
  if (n === 0) throw badInput('invokeChunk: no instances given.');
  if (n > IDS_PER_CALL)
    throw badInput(`invokeChunk: ${n} instances; at most ${IDS_PER_CALL} go into one invocation.`);
  if (unique(input.instanceIds).length !== n) throw badInput('invokeChunk: an instance id is given twice.');
}

function activityInfo(): Context['info'] | undefined {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

/** The attempt has outlived its certain liveness: Temporal may have handed the activity to a retry. */
const stale = () =>
  ApplicationFailure.retryable(
    'this attempt went without a heartbeat for longer than its heartbeat timeout, so a retry may ' +
      'already be invoking: not invoking from here',
    'tatflow.StaleAttempt',
  );

export async function invokeChunk(
  tat: TatClient,
  input: InvokeChunkInput,
  hooks: InvokeHooks = {},
): Promise<InvokedChunk> {
  checkInput(input);
  heartbeat();
  const info = activityInfo();
  const attempt = info?.attempt ?? 1;
  const since = (info?.scheduledTimestampMs ?? Date.now()) - LOOKBACK_MS;
  const known = new Set(input.known ?? []);
  const done = async (invocationId: string, reused: boolean): Promise<InvokedChunk> => {
    const out: InvokedChunk = { invocationId, reused };
    if (input.watch) out.finished = await watchTasks(tat, invocationId, input.watch);
    return out;
  };

  if (attempt > 1) {
    const earlier = await chunkInvocations(tat, input, since, known);
    if (earlier.length > 0) return done(earlier[0]!.invocationId, true);
  }
  await hooks.beforeInvoke?.(input, attempt);
  let certainUntil = 0;
  const r = await tatCall(
    tat,
    'InvokeCommand',
    () =>
      tat.InvokeCommand({
        CommandId: input.commandId,
        InstanceIds: input.instanceIds,
        ...(input.parameters ? { Parameters: JSON.stringify(input.parameters) } : {}),
      }),
    {
      beforeSend: () => {
        heartbeat();
        certainUntil = aliveUntil();
        if (Date.now() >= certainUntil) throw stale();
      },
    },
  );
  const mine = r.InvocationId!;
  if (attempt === 1 && Date.now() < certainUntil) return done(mine, false);

  // Another attempt of this activity may have invoked too: the earliest invocation stays.
  const all = await chunkInvocations(tat, input, since, known);
  const first = all[0];
  if (!first || first.invocationId === mine) return done(mine, false);
  await tatCall(tat, 'CancelInvocation', () => tat.CancelInvocation({ InvocationId: mine }));
  Context.current().log.warn('cancelled a second invocation of the same chunk made by a late attempt', {
    cancelled: mine,
    kept: first.invocationId,
  });
  return done(first.invocationId, true);
}

const OPEN_INVOCATION_STATUSES = new Set(['PENDING', 'RUNNING', 'CANCELLING']);

/** Every invocation made of `commandId`. */
function invocationsOf(tat: TatClient, commandId: string): Promise<Invocation[]> {
  return allPages(async (Offset, Limit) => {
    const r = await tatCall(tat, 'DescribeInvocations', () =>
      tat.DescribeInvocations({ Filters: [{ Name: 'command-id', Values: [commandId] }], Offset, Limit }),
    );
    return { items: r.InvocationSet ?? [], total: r.TotalCount ?? 0 };
  });
}

/**
 * Invocations of these commands that are not final: what a run made, including one whose
 * invokeChunk answer never reached the workflow (cancelled or crashed mid-call).
 */
export async function openInvocations(tat: TatClient, commandIds: string[]): Promise<string[]> {
  const open: string[] = [];
  for (const commandId of unique(commandIds)) {
    for (const inv of await invocationsOf(tat, commandId))
      if (OPEN_INVOCATION_STATUSES.has(inv.InvocationStatus ?? '')) open.push(inv.InvocationId!);
  }
  return open;
}
