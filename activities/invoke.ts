// One invocation of a step's command on a chunk of instances, made at most once per key. Before
// invoking, the invocations already made of the command are searched for one whose recorded
// Parameters carry this key: a retry after a lost answer, a worker crash or a TAT outage finds it
// and returns it instead of running the command a second time.

import type { TatClient } from '../tat/node/client.js';
import { KEY_PARAMETER } from './commands.js';
import { badInput, tatCall } from './errors.js';
import { allPages, IDS_PER_CALL, unique } from './pages.js';
import type { InvokeChunkInput, InvokedChunk } from './types.js';

/** Keys go into a comment line of the script: no newline, no braces, nothing a shell would read. */
const KEY_FORMAT = /^[A-Za-z0-9._:-]{1,64}$/;

type Invocation = NonNullable<Awaited<ReturnType<TatClient['DescribeInvocations']>>['InvocationSet']>[number];

function keyOf(inv: Invocation): string | undefined {
  try {
    const p = JSON.parse(inv.Parameters || '{}') as Record<string, unknown>;
    const key = p[KEY_PARAMETER];
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/** Every invocation made of `commandId`. */
function invocationsOf(tat: TatClient, commandId: string): Promise<Invocation[]> {
  return allPages(async (Offset, Limit) => {
    const r = await tatCall('DescribeInvocations', () =>
      tat.DescribeInvocations({ Filters: [{ Name: 'command-id', Values: [commandId] }], Offset, Limit }),
    );
    return { items: r.InvocationSet ?? [], total: r.TotalCount ?? 0 };
  });
}

/** The invocation of `commandId` made with `key`, if any. */
async function invocationWithKey(
  tat: TatClient,
  commandId: string,
  key: string,
): Promise<Invocation | undefined> {
  return (await invocationsOf(tat, commandId)).find((inv) => keyOf(inv) === key);
}

function checkInput(input: InvokeChunkInput): void {
  const n = input.instanceIds.length;
  if (n === 0) throw badInput('invokeChunk: no instances given.');
  if (n > IDS_PER_CALL)
    throw badInput(`invokeChunk: ${n} instances; at most ${IDS_PER_CALL} go into one invocation.`);
  if (unique(input.instanceIds).length !== n) throw badInput('invokeChunk: an instance id is given twice.');
  if (!KEY_FORMAT.test(input.key))
    throw badInput(`invokeChunk: the key "${input.key}" is not 1-64 characters of [A-Za-z0-9._:-].`);
  if (input.parameters && KEY_PARAMETER in input.parameters)
    throw badInput(`invokeChunk: the parameter name "${KEY_PARAMETER}" is reserved by tatflow.`);
}

export async function invokeChunk(tat: TatClient, input: InvokeChunkInput): Promise<InvokedChunk> {
  checkInput(input);
  const existing = await invocationWithKey(tat, input.commandId, input.key);
  if (existing) {
    const targets = (existing.InvocationTaskBasicInfoSet ?? []).map((t) => t.InstanceId ?? '');
    if (!sameSet(targets, input.instanceIds))
      throw badInput(
        `Invocation ${existing.InvocationId} already has the key "${input.key}" for other instances ` +
          `(${targets.join(', ')}): a key must name one chunk.`,
        'tatflow.KeyConflict',
      );
    return { invocationId: existing.InvocationId!, reused: true };
  }
  const r = await tatCall('InvokeCommand', () =>
    tat.InvokeCommand({
      CommandId: input.commandId,
      InstanceIds: input.instanceIds,
      Parameters: JSON.stringify({ ...input.parameters, [KEY_PARAMETER]: input.key }),
    }),
  );
  return { invocationId: r.InvocationId!, reused: false };
}

const OPEN_INVOCATION_STATUSES = new Set(['PENDING', 'RUNNING', 'CANCELLING']);

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
