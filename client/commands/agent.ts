// `tatflow agent`: run the agent (one identity, or a fleet of them).

import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import {
  defaultMachineId,
  endpointsFromConfigDat,
  endpointsFromServer,
  fleetMachineIds,
  runAgent,
} from '../../agent/main.js';
import { REFERENCE_BACKOFF } from '../../agent/session.js';
import { parseFlags } from '../flags.js';
import { onShutdown } from '../shutdown.js';

const Flags = z.object({
  server: z.string().optional(),
  config: z.string().optional(),
  machineId: z.string().min(1).max(128).optional(),
  fleet: z.coerce.number().int().min(1).max(5000).default(1),
  dir: z.string().optional(),
  maxBackoff: z.coerce.number().int().min(3).max(512).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export function defaultAgentDir(): string {
  return process.getuid?.() === 0
    ? '/var/lib/tatflow/agent'
    : join(homedir(), '.local', 'state', 'tatflow', 'agent');
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('Run the agent: connects to tatd (or any TAT agent endpoint), runs scripts, reports output')
    .option('--server <url>', 'tatd base URL, e.g. http://127.0.0.1:9000')
    .option(
      '--config <config.dat>',
      'reference-agent config file {"url":{"invoke_url":…,"ws_url":…}} (instead of --server)',
    )
    .option('--machine-id <id>', 'machine identity (default: /etc/machine-id)')
    .option('--fleet <n>', 'serve N identities <machine-id>-0 … -(N-1) from this process')
    .option('--dir <dir>', `state directory (default ${defaultAgentDir()})`)
    .option(
      '--max-backoff <seconds>',
      `cap of the reconnect back-off (default ${REFERENCE_BACKOFF.maxSeconds})`,
    )
    .option('--log-level <level>', 'log level (default info)')
    .action(async (raw: unknown) => {
      const flags = parseFlags(Flags, raw);
      if (!flags.server === !flags.config) throw new Error('give exactly one of --server and --config');
      const endpoints = flags.server
        ? endpointsFromServer(flags.server)
        : endpointsFromConfigDat(flags.config!);
      const log = pino({ level: flags.logLevel, base: { service: 'agent' } });
      const agent = await runAgent({
        ...endpoints,
        machineIds: fleetMachineIds(flags.machineId ?? defaultMachineId(), flags.fleet),
        dir: flags.dir ?? defaultAgentDir(),
        log,
        backoff: { ...REFERENCE_BACKOFF, ...(flags.maxBackoff ? { maxSeconds: flags.maxBackoff } : {}) },
      });
      onShutdown(() => agent.stop());
    });
}
