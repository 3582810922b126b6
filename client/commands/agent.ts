// `tatflow agent`: run the agent (one identity, or a fleet of them).

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
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
import {
  loadRegistration,
  REGISTER_FILE,
  registerMachine,
  registrationFile,
  saveRegistration,
} from '../../agent/registration.js';
import { REFERENCE_BACKOFF } from '../../agent/session.js';
import { collect, parseFlags } from '../flags.js';
import { readRegisterCodeFile } from './register-code.js';
import { onShutdown } from '../shutdown.js';

const sourceAddress = z
  .string()
  .refine((v) => isIP(v) !== 0, 'must be an IP address of this machine')
  .optional();

const Flags = z.object({
  server: z.string().optional(),
  config: z.string().optional(),
  machineId: z.string().min(1).max(128).optional(),
  fleet: z.coerce.number().int().min(1).max(5000).default(1),
  dir: z.string().optional(),
  maxBackoff: z.coerce.number().int().min(3).max(512).optional(),
  sourceAddress,
  caFile: z.string().min(1).optional(),
  registerCodeFile: z.string().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** `--tag key=value`: the value may be empty (`--tag owner=`), the key may not. */
const tag = z
  .string()
  .regex(/^[^=]+=/, 'give key=value (e.g. --tag env=prod)')
  .transform((v) => ({ Key: v.slice(0, v.indexOf('=')), Value: v.slice(v.indexOf('=') + 1) }));

const RegisterFlags = z.object({
  server: z.string().optional(),
  config: z.string().optional(),
  machineId: z.string().min(1).max(128).optional(),
  dir: z.string().optional(),
  sourceAddress,
  caFile: z.string().min(1).optional(),
  tag: z.array(tag).default([]),
});

export function defaultAgentDir(): string {
  return process.getuid?.() === 0
    ? '/var/lib/tatflow/agent'
    : join(homedir(), '.local', 'state', 'tatflow', 'agent');
}

const CA_FILE_ENV = 'TATFLOW_CA_FILE';

interface Endpoints {
  invokeUrl: string;
  wsUrl: string;
  /** CA certificates to trust for https:// and wss://: --ca-file, else TATFLOW_CA_FILE, else config.dat's. */
  ca: Buffer | undefined;
}

function endpointsOf(flags: {
  server?: string | undefined;
  config?: string | undefined;
  caFile?: string | undefined;
}): Endpoints {
  if (!flags.server === !flags.config) throw new Error('give exactly one of --server and --config');
  const e: { invokeUrl: string; wsUrl: string; caFile?: string | undefined } = flags.server
    ? endpointsFromServer(flags.server)
    : endpointsFromConfigDat(flags.config!);
  const caFile = flags.caFile ?? process.env[CA_FILE_ENV] ?? e.caFile;
  let ca: Buffer | undefined;
  if (caFile)
    try {
      ca = readFileSync(caFile);
    } catch (err) {
      throw new Error(`cannot read the CA file ${caFile}: ${(err as Error).message}`, { cause: err });
    }
  return { invokeUrl: e.invokeUrl, wsUrl: e.wsUrl, ca };
}

const CA_FILE_HELP = `CA certificates (PEM) to trust for https:// and wss:// instead of the system's (env ${CA_FILE_ENV}; config.dat "ca_file")`;

/** `tatflow agent register <region> <RegisterCodeId> <RegisterCodeValue>`, as `tat_agent register`. */
function registerCommand(): Command {
  return new Command('register')
    .description(
      'Register this machine with a registration code (CreateRegisterCode): creates its key pair and ' +
        'saves its rins- instance id with the private key (mode 0600), in config.dat with --config, ' +
        `else in <dir>/${REGISTER_FILE}`,
    )
    .argument('<region>', 'region of the registration code, e.g. ap-guangzhou')
    .argument('<id>', 'RegisterCodeId')
    .argument('<value>', 'RegisterCodeValue')
    .option('--server <url>', 'tatd base URL, e.g. http://127.0.0.1:9000')
    .option(
      '--config <config.dat>',
      'reference-agent config file (instead of --server); the registration is saved in it',
    )
    .option('--machine-id <id>', 'machine identity (default: /etc/machine-id)')
    .option('--dir <dir>', `state directory (default ${defaultAgentDir()})`)
    .option('--source-address <ip>', 'local address to connect from (a multi-homed host)')
    .option('--ca-file <pem>', CA_FILE_HELP)
    .option(
      '--tag <key=value>',
      "a tag of the managed instance (repeatable; tatd only: TAT's own registration takes no tags)",
      collect,
    )
    .action(async (region: string, id: string, value: string, raw: unknown) => {
      const flags = parseFlags(RegisterFlags, raw);
      const { invokeUrl, ca } = endpointsOf(flags);
      const file = registrationFile({ configDat: flags.config, dir: flags.dir ?? defaultAgentDir() });
      try {
        const record = await registerMachine({
          invokeUrl,
          region,
          registerCodeId: id,
          registerCodeValue: value,
          machineId: flags.machineId ?? defaultMachineId(),
          localAddress: flags.sourceAddress,
          ca,
          tags: flags.tag,
        });
        saveRegistration(file, record);
        process.stdout.write(`register success: ${record.instance_id} (saved in ${file})\n`);
      } catch (e) {
        process.stdout.write(`register failed: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('Run the agent: connects to tatd (or any TAT agent endpoint), runs scripts, reports output')
    .enablePositionalOptions()
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
    .option('--source-address <ip>', 'local address to connect from (a multi-homed host)')
    .option('--ca-file <pem>', CA_FILE_HELP)
    .option(
      '--register-code-file <file>',
      'not registered yet: register first with the code in this file (tatflow register-code --out)',
    )
    .option('--log-level <level>', 'log level (default info)')
    .addCommand(registerCommand())
    .action(async (raw: unknown) => {
      const flags = parseFlags(Flags, raw);
      const { ca, ...endpoints } = endpointsOf(flags);
      const dir = flags.dir ?? defaultAgentDir();
      const file = registrationFile({ configDat: flags.config, dir });
      if (flags.registerCodeFile && !loadRegistration(file)) {
        if (flags.fleet > 1) throw new Error('--register-code-file registers one identity; drop --fleet');
        const code = readRegisterCodeFile(flags.registerCodeFile);
        const record = await registerMachine({
          invokeUrl: endpoints.invokeUrl,
          region: code.region,
          registerCodeId: code.registerCodeId,
          registerCodeValue: code.registerCodeValue,
          machineId: flags.machineId ?? defaultMachineId(),
          localAddress: flags.sourceAddress,
          ca,
        });
        saveRegistration(file, record);
        process.stdout.write(`register success: ${record.instance_id} (saved in ${file})\n`);
      }
      // A registered machine signs every call; its identity is the one it registered with.
      const registration = loadRegistration(file);
      if (registration && flags.machineId && flags.machineId !== registration.machineId)
        throw new Error(
          `this machine is registered as ${registration.instanceId} with MachineId ${registration.machineId}, not ${flags.machineId}`,
        );
      if (registration && flags.fleet > 1)
        throw new Error('--fleet cannot be used by a registered agent (it has one identity)');
      const log = pino({ level: flags.logLevel, base: { service: 'agent' } });
      const agent = await runAgent({
        ...endpoints,
        machineIds: registration
          ? [registration.machineId]
          : fleetMachineIds(flags.machineId ?? defaultMachineId(), flags.fleet),
        dir,
        log,
        backoff: { ...REFERENCE_BACKOFF, ...(flags.maxBackoff ? { maxSeconds: flags.maxBackoff } : {}) },
        registration,
        localAddress: flags.sourceAddress,
        ca,
      });
      onShutdown(() => agent.stop());
    });
}
