// Where the engine's parts are: Temporal (address, namespace, task queue) and the TAT API (endpoint,
// credentials, region). Each comes from a flag, else the environment, else the state `tatflow dev`
// leaves in `.tatflow/dev/engine.json` (so a second terminal next to `tatflow dev` just works),
// else a default. Shared by `worker`, `run`, `preview` and the run-control commands.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { ActivitiesConfig } from '../activities/index.js';

export const DEV_ENGINE_FILE = '.tatflow/dev/engine.json';

export interface EngineSettings {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  region: string;
  tat: ActivitiesConfig;
}

const DevEngine = z
  .object({
    temporalAddress: z.string(),
    region: z.string(),
    tat: z.object({ endpoint: z.string().optional(), secretId: z.string(), secretKey: z.string() }),
    /** The runbook files the dev worker loaded (absolute paths). */
    runbooks: z.array(z.string()),
  })
  .partial();

export function devEngine(): z.infer<typeof DevEngine> {
  const file = resolve(DEV_ENGINE_FILE);
  if (!existsSync(file)) return {};
  const r = DevEngine.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return r.success ? r.data : {};
}

export interface EngineFlags {
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
  tatEndpoint?: string;
  region?: string;
  credentialsFile?: string;
}

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
      'task queue of the tatflow workers (env TATFLOW_TASK_QUEUE; default "tatflow")',
    )
    .option(
      '--tat-endpoint <url>',
      'TAT API endpoint: tatd URL, or omit for Tencent Cloud (env TATFLOW_TAT_ENDPOINT)',
    )
    .option('--region <region>', 'TAT region (env TATFLOW_REGION; default ap-guangzhou)')
    .option(
      '--credentials-file <path>',
      'TAT credentials as JSON, read again whenever the file changes (temporary credentials that get renewed): ' +
        '{"secretId","secretKey","token"} or STS\'s {"TmpSecretId","TmpSecretKey","Token"} (env TATFLOW_CREDENTIALS_FILE)',
    );
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

/**
 * The TAT API's settings: the endpoint, and the credentials: a credentials file (read again when
 * it changes), else TENCENTCLOUD_SECRET_ID / _SECRET_KEY with TENCENTCLOUD_SESSION_TOKEN for
 * temporary credentials (fixed for the process's life), else those of `tatflow dev`.
 */
export function engineSettings(f: EngineFlags): EngineSettings {
  const env = process.env;
  const dev = devEngine();
  const credentialsFile = f.credentialsFile ?? env.TATFLOW_CREDENTIALS_FILE;
  const fromEnv = !!env.TENCENTCLOUD_SECRET_ID || !!credentialsFile;
  const secretId = env.TENCENTCLOUD_SECRET_ID ?? dev.tat?.secretId;
  const secretKey = env.TENCENTCLOUD_SECRET_KEY ?? dev.tat?.secretKey;
  const token = env.TENCENTCLOUD_SESSION_TOKEN;
  if (!credentialsFile && (!secretId || !secretKey))
    throw new Error(
      'no TAT credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (with TENCENTCLOUD_SESSION_TOKEN ' +
        'for temporary ones), or give --credentials-file (or run `tatflow dev` in this directory first)',
    );
  if (credentialsFile && !existsSync(credentialsFile))
    throw new Error(`--credentials-file ${credentialsFile}: not found`);
  const endpoint = f.tatEndpoint ?? env.TATFLOW_TAT_ENDPOINT ?? (fromEnv ? undefined : dev.tat?.endpoint);
  const tat: ActivitiesConfig = credentialsFile
    ? { credentialsFile }
    : { secretId: secretId!, secretKey: secretKey!, ...(token ? { token } : {}) };
  return {
    ...temporalSettings(f),
    region: f.region ?? env.TATFLOW_REGION ?? dev.region ?? 'ap-guangzhou',
    tat: { ...(endpoint ? { endpoint } : {}), ...tat },
  };
}
