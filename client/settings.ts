// Where the engine's parts are: Temporal (address, namespace, task queue) and the TAT API (endpoint,
// credentials, region). Each comes from a flag, else the environment, else the state `tatflow dev`
// leaves in `.tatflow/dev/engine.json` (so a second terminal next to `tatflow dev` just works),
// else a default. Shared by `worker`, `run`, `preview` and the run-control commands.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';

export const DEV_ENGINE_FILE = '.tatflow/dev/engine.json';

export interface EngineSettings {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  region: string;
  tat: { endpoint?: string; secretId: string; secretKey: string };
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
    .option('--region <region>', 'TAT region (env TATFLOW_REGION; default ap-guangzhou)');
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

/** The TAT region: flag, environment, the dev system's, else ap-guangzhou. */
export function regionSetting(f: EngineFlags): string {
  return f.region ?? process.env.TATFLOW_REGION ?? devEngine().region ?? 'ap-guangzhou';
}

export function engineSettings(f: EngineFlags): EngineSettings {
  const env = process.env;
  const dev = devEngine();
  const secretId = env.TENCENTCLOUD_SECRET_ID ?? dev.tat?.secretId;
  const secretKey = env.TENCENTCLOUD_SECRET_KEY ?? dev.tat?.secretKey;
  if (!secretId || !secretKey)
    throw new Error(
      'no TAT credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or run `tatflow dev` in this directory first)',
    );
  const endpoint =
    f.tatEndpoint ?? env.TATFLOW_TAT_ENDPOINT ?? (env.TENCENTCLOUD_SECRET_ID ? undefined : dev.tat?.endpoint);
  return {
    ...temporalSettings(f),
    region: regionSetting(f),
    tat: { ...(endpoint ? { endpoint } : {}), secretId, secretKey },
  };
}
