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

export interface TemporalLogOptions {
  /**
   * Also route the SDK core's native log lines (otherwise printed as text on stderr) to `log`,
   * leaving out its client's retry warnings, which repeat several times a second while the
   * server cannot be reached (tatd logs an outage once itself).
   */
  quietRetries?: boolean;
  /** Signals on which the SDK shuts its workers down by itself (default: its own list). */
  shutdownSignals?: NodeJS.Signals[];
}

/** Routes the SDK's logs to `log`; a no-op after the first call (the Runtime exists by then). */
export function installTemporalLogger(log: Pino, opts: TemporalLogOptions = {}): void {
  if (installed) return;
  installed = true;
  const emit = (level: LogLevel, message: string, meta?: LogMetadata) =>
    log[LEVELS[level]](meta ?? {}, message);
  Runtime.install({
    ...(opts.shutdownSignals ? { shutdownSignals: opts.shutdownSignals } : {}),
    ...(opts.quietRetries
      ? {
          telemetryOptions: {
            logging: {
              filter: 'ERROR,temporalio_sdk_core=WARN,temporalio_client=ERROR,temporalio_common=WARN',
              forward: {},
            },
          },
        }
      : {}),
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
