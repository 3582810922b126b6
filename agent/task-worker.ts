// The worker thread that runs tasks. Forking a child from a process costs milliseconds of its
// event loop; a fleet agent starting many tasks at once would otherwise hold up its own protocol
// calls (the start reports of other identities) behind the forks. Here the executors run on
// their own thread and post back only what is reported: output chunks, finish fields, the end.

import { parentPort } from 'node:worker_threads';
import { TaskExecutor } from './executor.js';
import type { ToWorker, FromWorker } from './task-worker-messages.js';

const port = parentPort!;
const executors = new Map<string, TaskExecutor>();

function executorFor(scriptDir: string, env: Record<string, string> = {}): TaskExecutor {
  let e = executors.get(scriptDir);
  if (!e) {
    e = new TaskExecutor(
      scriptDir,
      {
        chunk: (taskId, chunk) => post({ kind: 'chunk', taskId, chunk }),
        finish: (taskId, fields, full) => post({ kind: 'finish', taskId, fields, ...(full ? { full } : {}) }),
      },
      env,
    );
    executors.set(scriptDir, e);
  }
  return e;
}

function post(m: FromWorker): void {
  port.postMessage(m);
}

port.on('message', (m: ToWorker) => {
  switch (m.kind) {
    case 'run':
      executorFor(m.scriptDir, m.env)
        .run(m.task)
        .then(
          (result) => post({ kind: 'done', taskId: m.task.InvocationTaskId, result }),
          (err: unknown) => post({ kind: 'failed', taskId: m.task.InvocationTaskId, message: String(err) }),
        );
      break;
    case 'cancel':
      executorFor(m.scriptDir).cancel(m.taskId);
      break;
    case 'killAll':
      void executorFor(m.scriptDir)
        .killAll()
        .then(() => post({ kind: 'killedAll', scriptDir: m.scriptDir }));
      break;
  }
});
