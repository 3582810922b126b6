// The worker process: runs the runbook workflows (built-in and user-written) and the activities
// that call the TAT API, on one task queue.

import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivitiesConfig, type InvokeHooks } from '../activities/index.js';
import type { RunbookRegistry } from '../workflows/registry.js';
import { bundleRunbooks } from './bundle.js';
import { definitionActivities } from './definitions.js';
import { loadRunbooks } from './runbook-files.js';

export const DEFAULT_TASK_QUEUE = 'tatflow';

export interface WorkerConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  tat: ActivitiesConfig;
  /** User runbook files (TypeScript or JavaScript) whose exported runbooks the worker also runs. */
  runbooks: string[];
  /** A bundle made beforehand (tests make one per process); default: bundled here. */
  workflowBundle?: WorkflowBundle;
  /** Fault injection for tests (activities/invoke.ts); never set in production. */
  invokeHooks?: InvokeHooks;
}

export interface RunningWorker {
  worker: Worker;
  /** The runbooks it runs: the built-in ones and the user's files. */
  runbooks: RunbookRegistry;
  /** Resolves when the worker has stopped; rejects if it failed. */
  done: Promise<void>;
  /** Stops polling, lets running activities finish their current call, and closes the connection. */
  stop(): Promise<void>;
}

export async function startWorker(c: WorkerConfig): Promise<RunningWorker> {
  // The user's files join the registry first: a file that does not load, exports no runbook or
  // reuses a runbook's name is refused here, with its name, before anything is bundled.
  const runbooks = await loadRunbooks(c.runbooks);
  const connection = await NativeConnection.connect({ address: c.temporalAddress });
  try {
    const worker = await Worker.create({
      connection,
      namespace: c.namespace,
      taskQueue: c.taskQueue,
      workflowBundle: c.workflowBundle ?? (await bundleRunbooks(c.runbooks)),
      activities: {
        ...createActivities(c.tat, c.invokeHooks ? { invoke: c.invokeHooks } : {}),
        ...definitionActivities(runbooks),
      },
      // Polls wait on remote tasks; many may be in flight at once on a small machine.
      maxConcurrentActivityTaskExecutions: 200,
    });
    const done = worker.run().finally(() => connection.close());
    return {
      worker,
      runbooks,
      done,
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
    };
  } catch (e) {
    await connection.close();
    throw e;
  }
}
