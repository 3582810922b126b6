// A Temporal client for the CLI, and a run's handle by id.

import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { EngineSettings } from './settings.js';

export async function connectClient(
  s: Pick<EngineSettings, 'temporalAddress' | 'namespace'>,
): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: s.temporalAddress, connectTimeout: '5 seconds' });
    return new Client({ connection, namespace: s.namespace });
  } catch (e) {
    throw new Error(
      `cannot reach Temporal at ${s.temporalAddress}: ${(e as Error).message} (start it with \`tatflow dev\`, or pass --temporal-address)`,
    );
  }
}

/** The run's handle, or a clear error when no run has that id. */
export async function runHandle(client: Client, runId: string): Promise<WorkflowHandle> {
  const handle = client.workflow.getHandle(runId);
  try {
    await handle.describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError)
      throw new Error(`no run with id "${runId}" in namespace ${client.options.namespace}`);
    throw e;
  }
  return handle;
}
