// `tatflow server`: run tatd.

import { Command, Option } from 'commander';
import {
  accountsFromEnv,
  parseAccountSpec,
  parseServerConfig,
  readConfigFile,
  type ServerConfig,
} from '../../server/config.js';
import { startTatd } from '../../server/app.js';
import { onShutdown } from '../shutdown.js';

interface ServerFlags {
  config?: string;
  listen?: string;
  data?: string;
  account: string[];
  openEnrollment?: boolean;
  temporalAddress?: string;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
}

/** Config file, then TATFLOW_ACCOUNTS, then flags: later sources win field by field. */
export function serverConfigFrom(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const accounts = [
    ...((file.accounts as unknown[] | undefined) ?? []),
    ...accountsFromEnv(env.TATFLOW_ACCOUNTS),
    ...flags.account.map(parseAccountSpec),
  ];
  return parseServerConfig({
    ...file,
    ...(flags.listen ? { listen: flags.listen } : {}),
    ...(flags.data ? { data: flags.data } : {}),
    ...(flags.openEnrollment ? { openEnrollment: true } : {}),
    ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}),
    ...(flags.logLevel ? { logLevel: flags.logLevel } : {}),
    ...(flags.tlsCert || flags.tlsKey
      ? {
          tls: {
            ...(file.tls as object | undefined),
            ...(flags.tlsCert ? { cert: flags.tlsCert } : {}),
            ...(flags.tlsKey ? { key: flags.tlsKey } : {}),
          },
        }
      : {}),
    ...(flags.insecureHttp ? { insecureHttp: true } : {}),
    accounts,
  });
}

export function serverCommand(): Command {
  return new Command('server')
    .description('Run tatd, the TAT API 3.0 server, with the agent gateway on the same listener')
    .option(
      '--config <file>',
      'JSON config file (accounts, regions, timings, defaults); keeps keys off the command line',
    )
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:9000)')
    .option('--data <dir>', 'directory for the SQLite database')
    .option('--tls-cert <pem>', 'certificate (chain) of the listener: API, agents and object store over TLS')
    .option('--tls-key <pem>', 'private key of --tls-cert')
    .option(
      '--insecure-http',
      'allow listening without TLS on an address other than loopback (a private network only)',
    )
    .option(
      '--account <id:key[:appid]>',
      'an API key pair; repeatable (also TATFLOW_ACCOUNTS="id:key[:appid],...")',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--open-enrollment',
      'enroll unknown agents into the first account and region on their first call',
    )
    .option(
      '--temporal-address <host:port>',
      'Temporal frontend for invokers (default: tatd runs the pinned Temporal dev server under --data once an invoker exists)',
    )
    .addOption(
      new Option('--log-level <level>', 'log level').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .action(async (flags: ServerFlags) => {
      const config = serverConfigFrom(flags);
      const tatd = await startTatd(config);
      onShutdown(() => tatd.close());
    });
}
