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
    .option(
      '--tat-rate-limit <n>',
      "TAT API requests per second per action and region, for every run of this worker (default 20, TAT's limit; env TATFLOW_TAT_RATE_LIMIT)",
    )
    .action(
      async (flags: EngineFlags & { runbooks?: string[]; logLevel?: string; tatRateLimit?: string }) => {
        const s = engineSettings(flags);
        const rate = flags.tatRateLimit ?? process.env.TATFLOW_TAT_RATE_LIMIT;
        if (rate !== undefined) {
          if (!/^\d+$/.test(rate) || Number(rate) < 1)
            throw new Error(`--tat-rate-limit: expected a whole number ≥ 1, got "${rate}"`);
          s.tat.requestsPerSecond = Number(rate);
        }
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
          `tatflow worker on ${s.temporalAddress} (namespace ${s.namespace}), TAT at ${s.tat.endpoint ?? 'Tencent Cloud'} ` +
            `(≤ ${s.tat.requestsPerSecond ?? 20} requests/s per action); runbooks by task queue: ${queueLines(w)}\n`,
        );
        await w.done;
      },
    );
}
