// `tatflow worker`: the process that runs runbooks (built-in and the user's) and their activities.

import { Command } from 'commander';
import { pino } from 'pino';
import { installTemporalLogger } from '../../temporal/logging.js';
import { startWorker } from '../../worker/main.js';
import { runbookFilesFromEnv } from '../../worker/runbook-files.js';
import { engineOptions, engineSettings, type EngineFlags } from '../settings.js';
import { onShutdown } from '../shutdown.js';

export function workerCommand(): Command {
  return engineOptions(
    new Command('worker').description(
      'Run a worker: executes runbook workflows and their TAT API activities',
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
        `tatflow worker: task queue "${s.taskQueue}" on ${s.temporalAddress} (namespace ${s.namespace}), TAT at ${s.tat.endpoint ?? 'Tencent Cloud'}; runbooks: ${w.runbooks.names().join(', ')}\n`,
      );
      await w.done;
    });
}
