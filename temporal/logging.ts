// The Temporal SDK's log lines (worker state, failed workflows, activity retries) as pino JSON, like
// every other tatflow service. The SDK's Runtime takes its logger once per process, before use.

import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger as Pino } from 'pino';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/** Routes the SDK's logs to `log`; a no-op after the first call (the Runtime exists by then). */
export function installTemporalLogger(log: Pino): void {
  if (installed) return;
  installed = true;
  const emit = (level: LogLevel, message: string, meta?: LogMetadata) =>
    log[LEVELS[level]](meta ?? {}, message);
  Runtime.install({
    logger: {
      log: emit,
      trace: (m, meta) => emit('TRACE', m, meta),
      debug: (m, meta) => emit('DEBUG', m, meta),
      info: (m, meta) => emit('INFO', m, meta),
      warn: (m, meta) => emit('WARN', m, meta),
      error: (m, meta) => emit('ERROR', m, meta),
    },
  });
}
