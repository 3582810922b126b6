// The task side of output upload: the agent's GetCosCredential (a temporary credential for
// exactly the task's output object) and the OutputUrl DescribeInvocationTasks shows (a
// pre-signed, expiring GET URL of that object).

import { STARTED_TASK_STATUSES } from '../../tat/index.js';
import type { ServerContext } from '../context.js';
import { outputObjectKey } from '../../tat/node/cos.js';
import { builtInBucket } from './buckets.js';

export type CredentialOutcome =
  { ok: true; credential: Record<string, string | number> } | { ok: false; code: string; message: string };

/** GetCosCredential (docs/agent-protocol-reference.md, "HTTP calls"): for a started task of this machine with a bucket. */
export async function cosCredential(
  server: ServerContext,
  instanceId: string,
  taskId: string,
): Promise<CredentialOutcome> {
  const row = await server.db
    .selectFrom('tasks')
    .innerJoin('invocations', 'invocations.id', 'tasks.invocation_id')
    .select([
      'tasks.id',
      'tasks.status',
      'tasks.invocation_id',
      'invocations.account',
      'invocations.cos_bucket_url',
      'invocations.cos_key_prefix',
    ])
    .where('tasks.id', '=', taskId)
    .where('tasks.instance_id', '=', instanceId)
    .executeTakeFirst();
  if (!row)
    return { ok: false, code: 'ResourceNotFound', message: `task ${taskId} is not a task of this machine` };
  if (row.cos_bucket_url === '')
    return { ok: false, code: 'InvalidParameter', message: `task ${taskId} has no OutputCOSBucketUrl` };
  // The agent asks when the task's process has ended, before its ReportTaskFinish: the task is
  // still RUNNING (or CANCELLING) here. Before the start and after the finish, nothing is written.
  if (!(STARTED_TASK_STATUSES as readonly string[]).includes(row.status))
    return {
      ok: false,
      code: 'UnsupportedOperation',
      message: `task ${taskId} is ${row.status}: credentials are issued only while it runs`,
    };
  const bucket = builtInBucket(server.config, row.cos_bucket_url, row.account);
  if (bucket === undefined)
    return {
      ok: false,
      code: 'ResourceNotFound.CosBucketNotFoundCode',
      message: `the bucket of ${row.cos_bucket_url} is no longer configured in tatd`,
    };
  const key = outputObjectKey(row.cos_key_prefix, row.invocation_id, row.id);
  const c = server.cos.issueCredential({ taskId: row.id, bucket, key }, server.now());
  return { ok: true, credential: { ...c, Code: 'Success', InvocationId: row.invocation_id } };
}

/**
 * The OutputUrl of a task: the agent reports `<bucket URL>/<key>` once the upload succeeded. For a
 * built-in bucket the API shows a pre-signed GET URL, valid `cos.outputUrlTtlMs` from this call,
 * of the one key tatd derives for the task (`ownKey`) and only when the report names that key: an
 * agent cannot obtain a signed link to another object by reporting its URL. Anything else is
 * shown as reported, unsigned.
 */
export function outputUrlFor(
  server: ServerContext,
  account: string,
  bucketUrl: string,
  reported: string,
  ownKey: string,
): string {
  if (reported === '') return '';
  const bucket = builtInBucket(server.config, bucketUrl, account);
  const base = bucketUrl.replace(/\/+$/, '');
  if (bucket === undefined || !reported.startsWith(`${base}/`)) return reported;
  let key: string;
  try {
    key = decodeURIComponent(reported.slice(base.length).split('?')[0]!).replace(/^\/+/, '');
  } catch {
    return reported;
  }
  return key === ownKey ? server.cos.presignGet(base, bucket, ownKey, server.now()) : reported;
}
