// The worker process: runs the runbook workflows (built-in and user-written) and the activities
// that call the TAT API, on the task queue of each runbook it loaded (workflows/registry.ts): the
// default queue for the built-in ones, a runbook file's own for its runbooks. One SDK Worker per
// queue, sharing the connection and the workflow bundle.

import { NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivitiesConfig, type InvokeHooks } from '../activities/index.js';
import type { RunbookRegistry } from '../workflows/registry.js';
import { bundleRunbooks } from './bundle.js';
import { definitionActivities } from './definitions.js';
import { loadRunbooks } from './runbook-files.js';
import { registerRunSearchAttributes } from './search-attributes.js';

export const DEFAULT_TASK_QUEUE = 'tatflow';

export interface WorkerConfig {
  temporalAddress: string;
  namespace: string;
  /** The built-in runbooks' queue; a runbook file's queue is derived from it (or declared). */
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
  /** One SDK worker per task queue, in the order of `taskQueues`. */
  workers: Worker[];
  /** The queues it polls: the default one first. */
  taskQueues: string[];
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
  const taskQueues = runbooks.taskQueues(c.taskQueue);
  const connection = await NativeConnection.connect({ address: c.temporalAddress });
  try {
    // Runs set and upsert them (workflows/engine/visibility.ts): the namespace must have them. A
    // namespace that cannot take them is a warning: the runs then set none.
    const attributes = await registerRunSearchAttributes(connection.operatorService, c.namespace);
    if (!attributes.ok) Runtime.instance().logger.warn(attributes.why);
    const workflowBundle = c.workflowBundle ?? (await bundleRunbooks(c.runbooks));
    // One set of activities for every queue: the process's rate lanes are shared by all its runs.
    const activities = {
      ...createActivities(c.tat, {
        searchAttributes: attributes.ok,
        ...(c.invokeHooks ? { invoke: c.invokeHooks } : {}),
      }),
      ...definitionActivities(runbooks),
    };
    const workers: Worker[] = [];
    for (const taskQueue of taskQueues)
      workers.push(
        await Worker.create({
          connection,
          namespace: c.namespace,
          taskQueue,
          workflowBundle,
          activities,
          // Polls wait on remote tasks; many may be in flight at once on a small machine.
          maxConcurrentActivityTaskExecutions: 200,
        }),
      );
    // One worker failing stops the others: the process then ends, as with a single worker.
    const runs = workers.map((w) =>
      w.run().catch((e: unknown) => {
        for (const other of workers) if (other !== w && other.getState() === 'RUNNING') other.shutdown();
        throw e;
      }),
    );
    const done = Promise.allSettled(runs).then(async (results) => {
      await connection.close();
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
    return {
      workers,
      taskQueues,
      runbooks,
      done,
      async stop() {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await done;
      },
    };
  } catch (e) {
    await connection.close();
    throw e;
  }
}
