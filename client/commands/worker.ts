// `tatflow worker`: the process that runs runbooks (built-in and the user's) and their activities.

import { Command } from 'commander';
import { pino } from 'pino';
import { installTemporalLogger } from '../../temporal/logging.js';
import { startWorker, type RunningWorker } from '../../worker/main.js';
import { taskQueueOf } from '../../workflows/registry.js';
import { runbookFilesFromEnv } from '../../worker/runbook-files.js';
import { credentialsOption, engineOptions, engineSettings, type EngineFlags } from '../settings.js';
import { onShutdown } from '../shutdown.js';

/** `tatflow: rollingCommand, patchFleet …; tatflow-rotate-logs: rotateLogs`. */
export function queueLines(w: RunningWorker): string {
  return w.taskQueues
    .map((q) => {
      const names = w.runbooks.list().filter((r) => taskQueueOf(r, w.taskQueues[0]!) === q);
      return `${q}: ${names.map((r) => r.name).join(', ')}`;
    })
    .join('; ');
}

export function workerCommand(): Command {
  return credentialsOption(
    engineOptions(
      new Command('worker').description(
        'Run a worker: executes runbook workflows and their TAT API activities, on the task queue of each runbook it loads',
      ),
    ),
  )
    .option(
      '--runbooks <file...>',
      'user runbook files (TypeScript or JavaScript) to load besides the built-in ones (env TATFLOW_RUNBOOKS)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug, trace')
    .action(async (flags: EngineFlags & { runbooks?: string[]; logLevel?: string }) => {
      const s = engineSettings(flags);
      installTemporalLogger(pino({ level: flags.logLevel ?? 'info', base: { service: 'worker' } }));
      const w = await startWorker({
        temporalAddress: s.temporalAddress,
        namespace: s.namespace,
        taskQueue: s.taskQueue,
        tat: s.tat,
        runbooks: flags.runbooks ?? runbookFilesFromEnv(),
      });
      onShutdown(() => w.stop(), 60_000);
      process.stderr.write(
        `tatflow worker on ${s.temporalAddress} (namespace ${s.namespace}), TAT at ${s.tat.endpoint ?? 'Tencent Cloud'}; ` +
          `runbooks by task queue: ${queueLines(w)}\n`,
      );
      await w.done;
    });
}
