// The real Temporal for tests: one dev server per test process (in memory, headless), started on
// first use and shared by every test in the file, plus workflow bundles built once per process
// (bundling costs seconds; Worker.create({ workflowsPath }) would pay it on every create).
// Stop it in after() with stopSharedTemporal(); whatever happens, it dies with the test process.

import { resolve } from 'node:path';
import { constants } from 'node:os';
import { Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { startTemporalDevServer, type TemporalDevServer } from '../temporal/dev-server.js';

// A signal would end the test process without 'exit': exit through it, so that every 'exit'
// hook (the dev server's among them) kills what it started.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(sig, () => process.exit(128 + constants.signals[sig]));

export interface SharedTemporal {
  /** `127.0.0.1:PORT` */
  address: string;
  /** For clients (`new Client({ connection })`, `new ScheduleClient({ connection })`). */
  connection: Connection;
  /** For workers (`Worker.create({ connection: nativeConnection, ... })`). */
  nativeConnection: NativeConnection;
  namespace: 'default';
  server: TemporalDevServer;
}

let shared: Promise<SharedTemporal> | undefined;

async function start(): Promise<SharedTemporal> {
  const server = await startTemporalDevServer({ headless: true });
  try {
    const connection = await Connection.connect({ address: server.address });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    return { address: server.address, connection, nativeConnection, namespace: 'default', server };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** The test process's dev server and connections to it; started by the first call. */
export function sharedTemporal(): Promise<SharedTemporal> {
  shared ??= start().catch((e: unknown) => {
    shared = undefined; // the next caller tries again
    throw e;
  });
  return shared;
}

/** Closes the connections and stops the shared server, if one was started; after() calls it. */
export async function stopSharedTemporal(): Promise<void> {
  const pending = shared;
  shared = undefined;
  const t = await pending?.catch(() => undefined);
  if (!t) return;
  await t.connection.close();
  await t.nativeConnection.close();
  await t.server.stop();
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The webpack bundle of a workflows module, built once per test process for each path. */
export function workflowBundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  const path = resolve(workflowsPath);
  let bundle = bundles.get(path);
  if (!bundle) {
    // WARN: webpack's per-asset INFO lines would fill every test's output.
    bundle = bundleWorkflowCode({ workflowsPath: path, logger: new DefaultLogger('WARN') });
    bundles.set(path, bundle);
    bundle.catch(() => bundles.delete(path)); // a fixed file can be bundled again
  }
  return bundle;
}
