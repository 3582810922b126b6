// Where the engine's parts are: Temporal (address, namespace, task queue) and the TAT API (endpoint,
// credentials, region). Each comes from a flag, else the environment, else the state `tatflow dev`
// leaves in `.tatflow/dev/` (so a second terminal next to `tatflow dev` just works), else a
// default. Credentials have their own order (client/credentials.ts). Shared by `worker`, `run`,
// `preview`, `instances` and the run-control commands.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { ActivitiesConfig } from '../activities/index.js';
import { tatCredentials } from './credentials.js';

export const DEV_ENGINE_FILE = '.tatflow/dev/engine.json';

export interface EngineSettings {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  region: string;
  /** The key pair read now, and (from a credentials file) the file the worker reads again. */
  tat: ActivitiesConfig & { secretId: string; secretKey: string };
}

const DevEngine = z
  .object({
    temporalAddress: z.string(),
    region: z.string(),
    /** tatd's URL (the key pair is in credentials.json beside this file). */
    tat: z.object({ endpoint: z.string().optional() }),
    /** The runbook files the dev worker loaded (absolute paths). */
    runbooks: z.array(z.string()),
    /** The fleet's agents run tasks as root on this host (`tatflow dev` ran as root). */
    rootFleet: z.boolean(),
  })
  .partial();

export function devEngine(): z.infer<typeof DevEngine> {
  const file = resolve(DEV_ENGINE_FILE);
  if (!existsSync(file)) return {};
  try {
    const r = DevEngine.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}

export interface EngineFlags {
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
  tatEndpoint?: string;
  region?: string;
  credentialsFile?: string;
}

const CREDENTIALS_HELP =
  'JSON {"secretId", "secretKey", "token"?} or STS\'s {"TmpSecretId", "TmpSecretKey", "Token"}, mode 0600, ' +
  'read again by the worker whenever it changes (env TATFLOW_CREDENTIALS_FILE; else env ' +
  'TENCENTCLOUD_SECRET_ID/_KEY/_SESSION_TOKEN, else .tatflow/dev/credentials.json)';

/** Adds the flags every engine command shares. */
export function engineOptions(cmd: Command): Command {
  return cmd
    .option(
      '--temporal-address <host:port>',
      'Temporal frontend (env TEMPORAL_ADDRESS; default 127.0.0.1:7233)',
    )
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")')
    .option(
      '--task-queue <name>',
      'task queue of the built-in runbooks (env TATFLOW_TASK_QUEUE; default "tatflow"); a runbook file has its own, see `tatflow runbooks`',
    )
    .option(
      '--tat-endpoint <url>',
      'TAT API endpoint: tatd URL, or omit for Tencent Cloud (env TATFLOW_TAT_ENDPOINT)',
    )
    .option('--region <region>', 'TAT region (env TATFLOW_REGION; default ap-guangzhou)');
}

/** Adds the flags of a command that calls the TAT API itself: the endpoint, region and credentials. */
export function tatOptions(cmd: Command): Command {
  return cmd
    .option(
      '--tat-endpoint <url>',
      'TAT API endpoint: tatd URL, or omit for Tencent Cloud (env TATFLOW_TAT_ENDPOINT)',
    )
    .option('--region <region>', 'TAT region (env TATFLOW_REGION; default ap-guangzhou)')
    .option('--credentials-file <file>', CREDENTIALS_HELP);
}

/** Adds --credentials-file to a command that has the engine flags. */
export function credentialsOption(cmd: Command): Command {
  return cmd.option('--credentials-file <file>', CREDENTIALS_HELP);
}

/** Settings for Temporal only (run control does not need TAT credentials). */
export function temporalSettings(
  f: EngineFlags,
): Pick<EngineSettings, 'temporalAddress' | 'namespace' | 'taskQueue'> {
  const env = process.env;
  return {
    temporalAddress:
      f.temporalAddress ?? env.TEMPORAL_ADDRESS ?? devEngine().temporalAddress ?? '127.0.0.1:7233',
    namespace: f.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: f.taskQueue ?? env.TATFLOW_TASK_QUEUE ?? 'tatflow',
  };
}

export function regionSetting(f: Pick<EngineFlags, 'region'>): string {
  return f.region ?? process.env.TATFLOW_REGION ?? devEngine().region ?? 'ap-guangzhou';
}

/**
 * Where the TAT API is and the credentials to call it with (client/credentials.ts): a credentials
 * file (read again when it changes), else TENCENTCLOUD_SECRET_ID / _SECRET_KEY with
 * TENCENTCLOUD_SESSION_TOKEN for temporary credentials, else those of `tatflow dev`.
 */
export function tatSettings(f: Pick<EngineFlags, 'tatEndpoint' | 'region' | 'credentialsFile'>): {
  region: string;
  tat: EngineSettings['tat'];
} {
  const creds = tatCredentials(f);
  // The dev system's endpoint goes with the dev system's key pair only.
  const endpoint =
    f.tatEndpoint ?? process.env.TATFLOW_TAT_ENDPOINT ?? (creds.dev ? devEngine().tat?.endpoint : undefined);
  return {
    region: regionSetting(f),
    tat: {
      ...(endpoint ? { endpoint } : {}),
      secretId: creds.secretId,
      secretKey: creds.secretKey,
      ...(creds.token ? { token: creds.token } : {}),
      // A file given by the user is read again by the worker whenever it changes (renewed
      // temporary credentials, activities/credentials.ts); the key pair above is its content now.
      ...(creds.file ? { credentialsFile: creds.file } : {}),
    },
  };
}

export function engineSettings(f: EngineFlags): EngineSettings {
  return { ...temporalSettings(f), ...tatSettings(f) };
}
