// The whole engine for runbook tests: the shared Temporal dev server, a real tatd with open
// enrollment, real agent processes, and a worker (in this process, or as a `tatflow worker` child
// process that a test may SIGKILL). Everything started here is stopped by `stop()` and, whatever
// happens, killed when the test process exits.

import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, WorkflowFailedError, type Connection, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { WorkflowBundle } from '@temporalio/worker';
import type { ActivitiesConfig, InvokeHooks } from '../../activities/index.js';
import type { TatClient } from '../../tat/node/client.js';
import { pino } from 'pino';
import { bundleRunbooks } from '../../worker/bundle.js';
import { installTemporalLogger } from '../../temporal/logging.js';
import { startWorker, type RunningWorker } from '../../worker/main.js';
import { loadRunbooks } from '../../worker/runbook-files.js';
import { taskQueueOf } from '../../workflows/registry.js';
import { progressQuery } from '../../workflows/engine/messages.js';
import type { RolloutOptions, RolloutState, RunbookInput } from '../../workflows/engine/types.js';
import { fleetMachineIds } from '../../agent/main.js';
import { derivedInstanceId } from '../../server/gateway/identity.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { sharedTemporal } from '../../testkit/temporal.js';
import { waitFor } from '../../testkit/wait.js';
import { taskUser, taskDefaults } from '../../testkit/task-user.js';

const BIN = fileURLToPath(new URL('../../../bin/tatflow', import.meta.url));
export const ACCOUNT = { secretId: 'AKIDengine', secretKey: 'engine-secret', appId: '1400000001' };
export const REGION = 'ap-guangzhou';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const bundles = new Map<string, Promise<WorkflowBundle>>();
/** The runbooks' bundle, made once per test process for each set of user runbooks. */
export function runbookBundle(userRunbooks: string[] = []): Promise<WorkflowBundle> {
  const key = userRunbooks.join('\n');
  let b = bundles.get(key);
  if (!b) bundles.set(key, (b = bundleRunbooks(userRunbooks)));
  return b;
}

export interface EngineOptions {
  agents?: number;
  /** Serve the agents from one `--fleet` process instead of one process each. */
  fleet?: boolean;
  taskQueue: string;
  userRunbooks?: string[];
  /** Start the worker as a child process (so it can be killed) instead of in this process. */
  workerProcess?: boolean;
  tatdConfig?: object;
  /** A Temporal server of the test's own (default: the shared one). */
  temporal?: { address: string; connection: Connection };
  /** Extra environment of each agent process, by its instance id. */
  agentEnv?: (instanceId: string) => NodeJS.ProcessEnv;
  /** How the worker reaches and signs for the TAT API, instead of tatd's url and ACCOUNT's keys. */
  workerTat?: (tatdUrl: string) => ActivitiesConfig;
  /** Fault injection in the worker's invokeChunk (in-process worker only). */
  invokeHooks?: InvokeHooks;
  /** Start no worker: the test starts its own. */
  noWorker?: boolean;
}

export interface Engine {
  tatd: Tatd;
  tat: TatClient;
  agents: AgentProcess[];
  ids: string[];
  client: Client;
  work: string;
  taskQueue: string;
  /** The worker process, when `workerProcess` is set. */
  workerProc?: ChildProcess;
  startWorkerProcess(): ChildProcess;
  start(
    runbook: string,
    params: unknown,
    rollout: Partial<RolloutOptions>,
    id?: string,
  ): Promise<WorkflowHandle>;
  /** A run started another way (by a Schedule): its history is recorded like those of `start`. */
  track(runbook: string, h: WorkflowHandle): void;
  progress(h: WorkflowHandle): Promise<RolloutState>;
  waitProgress(
    h: WorkflowHandle,
    pred: (s: RolloutState) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<RolloutState>;
  stop(): Promise<void>;
}

let runNo = 0;

/** The lines of a marker file (none when it does not exist). */
export const lines = (f: string): string[] =>
  existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];

/** Waits for a run that must fail; returns the reason it gave. */
export async function runFailure(h: { result(): Promise<unknown> }): Promise<string> {
  const err = await h.result().then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.ok(err instanceof WorkflowFailedError, `the run should fail, got ${String(err)}`);
  return err.cause?.message ?? '';
}

/**
 * With TATFLOW_RECORD_HISTORIES=<dir>, the histories of the runs these tests made are saved there
 * (one JSON file per run) to become replay fixtures (test/workflows/replay.test.ts).
 */
async function recordHistories(runs: { runbook: string; handle: WorkflowHandle }[]): Promise<void> {
  const dir = process.env.TATFLOW_RECORD_HISTORIES;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  for (const { runbook, handle } of runs) {
    const history = await handle.fetchHistory();
    const file = join(dir, `${handle.workflowId.replace(/-\d{13}$/, '')}-${runbook}.json`);
    writeFileSync(file, historyToJSON(history));
  }
}
// Failed runs are expected in these tests; the SDK's warnings about them would bury the results.
installTemporalLogger(pino({ level: 'error', base: { service: 'worker' } }, pino.destination(2)));

export async function startEngine(o: EngineOptions): Promise<Engine> {
  const temporal = o.temporal ?? (await sharedTemporal());
  const work = taskUser().dir('engine-work');
  const tatd = await startTatd({
    accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
    openEnrollment: true,
    config: {
      defaults: taskDefaults(work),
      timings: {
        deliveryTimeoutMs: 10_000,
        taskTimeoutGraceMs: 3000,
        sweepIntervalMs: 200,
        restartGraceMs: 1000,
      },
      ...o.tatdConfig,
    },
  });
  const tat = client(tatd, ACCOUNT);
  const n = o.agents ?? 5;
  const prefix = `${o.taskQueue}-m`;
  // Each agent's tasks see TEST_INSTANCE (all agents run on this one host, so a script needs it to
  // know where it runs); a fleet process serves many identities, so it has none.
  const agents = o.fleet
    ? [startAgent(tatd.url, { machineId: prefix, account: ACCOUNT.appId, fleet: n })]
    : Array.from({ length: n }, (_, i) => {
        const machineId = `${prefix}${i}`;
        const instance = derivedInstanceId(ACCOUNT.appId, REGION, machineId);
        return startAgent(tatd.url, {
          machineId,
          account: ACCOUNT.appId,
          env: { TEST_INSTANCE: instance, ...o.agentEnv?.(instance) },
        });
      });
  const ids = o.fleet
    ? fleetMachineIds(prefix, n).map((m) => derivedInstanceId(ACCOUNT.appId, REGION, m))
    : agents.map((a) => a.instanceId);
  for (let i = 0; i < ids.length; i += 100) await waitAgents(tat, ids.slice(i, i + 100), 'Online', 60_000);
  const tatConfig: ActivitiesConfig = o.workerTat?.(tatd.url) ?? {
    endpoint: tatd.url,
    secretId: ACCOUNT.secretId,
    secretKey: ACCOUNT.secretKey,
  };
  // A runbook file's runs go to its own queue, which the worker polls (workflows/registry.ts).
  const registry = await loadRunbooks(o.userRunbooks ?? []);
  const queueOf = (runbook: string) => {
    const r = registry.get(runbook);
    return r ? taskQueueOf(r, o.taskQueue) : o.taskQueue;
  };
  let worker: RunningWorker | undefined;
  const started: { runbook: string; handle: WorkflowHandle }[] = [];
  const engine: Engine = {
    tatd,
    tat,
    agents,
    ids,
    work,
    taskQueue: o.taskQueue,
    client: new Client({ connection: temporal.connection, namespace: 'default' }),
    startWorkerProcess() {
      const args = [
        BIN,
        'worker',
        '--temporal-address',
        temporal.address,
        '--task-queue',
        o.taskQueue,
        '--tat-endpoint',
        tatd.url,
      ];
      for (const r of o.userRunbooks ?? []) args.push('--runbooks', r);
      const p = spawn(process.execPath, args, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          ...process.env,
          TENCENTCLOUD_SECRET_ID: ACCOUNT.secretId,
          TENCENTCLOUD_SECRET_KEY: ACCOUNT.secretKey,
        },
      });
      children.add(p);
      p.on('exit', () => children.delete(p));
      engine.workerProc = p;
      return p;
    },
    async start(runbook, params, rollout, id) {
      const input: RunbookInput = {
        params,
        rollout: { region: REGION, targets: { instanceIds: ids }, pollIntervalMs: 200, ...rollout },
      };
      const h = await engine.client.workflow.start(runbook, {
        taskQueue: queueOf(runbook),
        workflowId: id ?? `${o.taskQueue}-${++runNo}-${Date.now()}`,
        args: [input],
      });
      started.push({ runbook, handle: h });
      return h;
    },
    track: (runbook, h) => void started.push({ runbook, handle: h }),
    progress: (h) => h.query(progressQuery),
    waitProgress: (h, pred, what, timeoutMs = 60_000) =>
      waitFor(
        async () => {
          const s = await h.query(progressQuery);
          return pred(s) ? s : undefined;
        },
        { timeoutMs, intervalMs: 200, what },
      ),
    async stop() {
      await recordHistories(started);
      await worker?.stop();
      const p = engine.workerProc;
      if (p && p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      await Promise.all(agents.map((a) => a.stop()));
      await tatd.stop();
    },
  };
  if (o.workerProcess) engine.startWorkerProcess();
  else if (!o.noWorker)
    worker = await startWorker({
      temporalAddress: temporal.address,
      namespace: 'default',
      taskQueue: o.taskQueue,
      tat: tatConfig,
      runbooks: o.userRunbooks ?? [],
      workflowBundle: await runbookBundle(o.userRunbooks ?? []),
      ...(o.invokeHooks ? { invokeHooks: o.invokeHooks } : {}),
    });
  return engine;
}
