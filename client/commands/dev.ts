// `tatflow dev`: the whole system on one machine on embedded defaults — the Temporal dev server
// (with its Web UI), tatd on SQLite with open enrollment, a worker, and a local fleet of agents
// running real shells — then a real rollout on that fleet, shown live. Credentials are generated
// once and kept in the data directory (credentials.json, mode 0600); `engine.json` there lets other
// `tatflow` commands run in a second terminal without any flag. One per data directory
// (client/dev-lock.ts). Everything it and its worker log goes to the log file, not the terminal.

import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import { fleetMachineIds, runAgent } from '../../agent/main.js';
import { REFERENCE_BACKOFF } from '../../agent/session.js';
import { startTatd } from '../../server/app.js';
import { parseServerConfig } from '../../server/config.js';
import { createTatClient, type TatClient } from '../../tat/node/client.js';
import { installTemporalLogger } from '../../temporal/logging.js';
import { DEFAULT_TASK_QUEUE, startWorker } from '../../worker/main.js';
import type { RunbookInput } from '../../workflows/engine/types.js';
import { RUN_ATTRIBUTES } from '../../workflows/engine/visibility.js';
import { parseFlags } from '../flags.js';
import { renderStatus } from '../progress.js';
import { onShutdown } from '../shutdown.js';
import { renderTable } from '../table.js';
import { findTemporalCli, startTemporalDevServer } from '../../temporal/dev-server.js';
import { acquireDevLock, alreadyRunning } from '../dev-lock.js';
import { DEMO_SCHEDULE, ensureDemoSchedule } from '../schedules/demo.js';
import { checkTimezone } from '../schedules/spec.js';
import { follow } from './run.js';
import { queueLines } from './worker.js';

const Flags = z.object({
  listen: z.string().default('127.0.0.1:9000'),
  data: z.string().default('.tatflow/dev'),
  agents: z.coerce.number().int().min(1).max(1000).default(5),
  temporalPort: z.coerce.number().int().min(1).max(65535).default(7233),
  temporalUiPort: z.coerce.number().int().min(1).max(65535).default(8233),
  temporalAddress: z.string().optional(),
  demo: z.boolean().default(true),
  runbooks: z.array(z.string()).default([]),
});

interface Credentials {
  secretId: string;
  secretKey: string;
  appId: string;
}

const TASK_QUEUE = DEFAULT_TASK_QUEUE;

function loadCredentials(dataDir: string): Credentials {
  const file = join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const creds = {
    secretId: `AKID${randomBytes(12).toString('hex')}`,
    secretKey: randomBytes(24).toString('base64url'),
    appId: '1000000001',
  };
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return creds;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

async function waitOnline(client: TatClient, count: number): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const r = await client.DescribeAutomationAgentStatus({
      Filters: [{ Name: 'agent-status', Values: ['Online'] }],
      Limit: 100,
    });
    if ((r.TotalCount ?? 0) >= Math.min(count, 100))
      return (r.AutomationAgentSet ?? []).map((a) => a.InstanceId!);
    await sleep(100);
  }
  throw new Error(`only some of the ${count} agents came online; see the agent log`);
}

/**
 * The demo: a rolling update of a small "app" (a version file per machine) across the fleet, in
 * batches of 1, then 2, with a health check after each batch and rollback on failure.
 */
function demoRun(instanceIds: string[], region: string, dataDir: string): RunbookInput {
  const app = join(dataDir, 'demo-app');
  const file = `${app}/"$TATFLOW_MACHINE_ID"`;
  const version = `release-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
  return {
    params: {
      version,
      probe: { content: `cat ${file} 2>/dev/null || echo release-0` },
      deploy: {
        content: `mkdir -p ${app}\necho "deploying {{version}} on $TATFLOW_MACHINE_ID"\nsleep 1\necho {{version}} > ${file}`,
      },
      healthCheck: { command: { content: `test "$(cat ${file})" = ${version} && echo healthy` } },
    },
    rollout: {
      region,
      targets: { instanceIds },
      shape: { kind: 'batches', batches: [1, 2] },
      maxErrors: 0,
      pollIntervalMs: 300,
    },
  };
}

export function devCommand(): Command {
  return new Command('dev')
    .description(
      'Run the whole system on this machine: Temporal dev server, tatd, a worker and a local fleet of agents',
    )
    .option('--listen <host:port>', 'tatd address (default 127.0.0.1:9000)')
    .option('--data <dir>', 'state directory (default .tatflow/dev)')
    .option('--agents <n>', 'number of local agents (default 5)')
    .option(
      '--temporal-port <port>',
      'Temporal dev server gRPC port (default 7233; its Web UI: --temporal-ui-port, 8233)',
    )
    .option('--temporal-ui-port <port>', 'Temporal Web UI port (default 8233)')
    .option('--temporal-address <host:port>', 'use this running Temporal server instead of starting one')
    .option('--runbooks <file...>', 'user runbook files for the worker to load besides the built-in ones')
    .option('--no-demo', 'skip the demo rollout on the fleet and the demo schedule')
    .action(async (raw: unknown) => {
      const flags = parseFlags(Flags, raw);
      const dataDir = resolve(flags.data);
      await mkdir(join(dataDir, 'work'), { recursive: true });
      const lock = acquireDevLock(dataDir);
      if ('running' in lock) {
        process.stderr.write(`${alreadyRunning(dataDir, lock.running)}\n`);
        process.exitCode = 1;
        return;
      }
      const creds = loadCredentials(dataDir);
      const root = process.getuid?.() === 0;
      if (root)
        say(
          `Running as root: the ${flags.agents} agents of the dev fleet run every task as root on this ` +
            'machine, in real shells. A runbook step that reboots reboots this host (`tatflow run` asks first).',
        );
      // Not root: tasks cannot switch users, so they run as this user in a scratch directory.
      const defaults = root ? {} : { username: userInfo().username, workingDirectory: join(dataDir, 'work') };
      const logDest = join(dataDir, 'tatflow.log');
      const log = pino({ level: 'info' }, pino.destination({ dest: logDest, mkdir: true, sync: false }));
      // The SDK core's own warnings (a failed workflow task, say) go to the log file too, not over
      // the terminal.
      installTemporalLogger(log.child({ service: 'worker' }), { quietRetries: true });
      const closers: (() => Promise<void>)[] = [];
      onShutdown(async () => {
        for (const close of closers.reverse()) await close();
        lock.release();
      }, 60_000);

      let temporalAddress = flags.temporalAddress;
      let uiUrl: string | undefined;
      if (!temporalAddress) {
        const cli = await findTemporalCli({ install: true, log: (l) => say(l) });
        say('starting the Temporal dev server …');
        const temporalLog = createWriteStream(join(dataDir, 'temporal.log'), { flags: 'a' });
        const server = await startTemporalDevServer({
          cli,
          port: flags.temporalPort,
          uiPort: flags.temporalUiPort,
          dbFile: join(dataDir, 'temporal.sqlite'),
          onLine: (l) => temporalLog.write(`${l}\n`),
          // Killed (SIGKILL, a crash), this process still takes the server down with it.
          exitWithParent: true,
        });
        closers.push(() => server.stop());
        temporalAddress = server.address;
        uiUrl = server.uiUrl;
      }

      const config = parseServerConfig({
        listen: flags.listen,
        data: join(dataDir, 'tatd'),
        accounts: [creds],
        openEnrollment: true,
        defaults,
        temporalAddress,
        // A bucket for full outputs (OutputCOSBucketUrl http://…/cos/dev); plain http is fine locally.
        cos: { buckets: [{ name: 'dev' }], allowHttp: true },
      });
      const tatd = await startTatd(config, log.child({ service: 'tatd' }));
      closers.push(() => tatd.close());
      const agent = await runAgent({
        invokeUrl: `${tatd.url}/agent/invoke`,
        wsUrl: `${tatd.url.replace(/^http/, 'ws')}/agent/ws`,
        machineIds: fleetMachineIds(`dev-${hostname()}`, flags.agents),
        dir: join(dataDir, 'agents'),
        log: log.child({ service: 'agent' }),
        backoff: { ...REFERENCE_BACKOFF, maxSeconds: 10 },
      });
      closers.push(() => agent.stop());
      const region = config.regions[0]!.Region;
      const tat = { endpoint: tatd.url, secretId: creds.secretId, secretKey: creds.secretKey };
      say('starting a worker (bundling the runbooks) …');
      const worker = await startWorker({
        temporalAddress,
        namespace: 'default',
        taskQueue: TASK_QUEUE,
        tat,
        runbooks: flags.runbooks,
      });
      closers.push(() => worker.stop());
      // For the CLI in another terminal (client/settings.ts); the key pair stays in credentials.json.
      writeFileSync(
        join(dataDir, 'engine.json'),
        JSON.stringify(
          {
            temporalAddress,
            region,
            tat: { endpoint: tatd.url },
            runbooks: flags.runbooks.map((f) => resolve(f)),
            rootFleet: root,
          },
          null,
          2,
        ) + '\n',
        { mode: 0o600 },
      );
      lock.update({ tat: tatd.url, temporal: temporalAddress, ...(uiUrl ? { ui: uiUrl } : {}) });

      const client = createTatClient({ ...creds, region, endpoint: tatd.url });
      const instances = await waitOnline(client, flags.agents);
      say(
        renderTable(
          ['tatflow dev', ''],
          [
            ['TAT API endpoint', tatd.url],
            ['SecretId', creds.secretId],
            ['SecretKey', creds.secretKey],
            ['Region', region],
            ['Output bucket', `${tatd.url}/cos/dev (OutputCOSBucketUrl for outputs over 24 KB)`],
            ['Temporal', `${temporalAddress} (namespace default)`],
            ['Task queues', queueLines(worker)],
            ['Temporal Web UI', uiUrl ?? '(the running server’s own)'],
            [
              'Agents online',
              `${instances.length} (${instances.slice(0, 3).join(', ')}${instances.length > 3 ? ', …' : ''})`,
            ],
            ['Logs (JSON)', logDest],
            ['Data', dataDir],
          ],
        ),
      );

      if (flags.demo) {
        const connection = await Connection.connect({ address: temporalAddress });
        const temporal = new Client({ connection });
        const input = demoRun(instances, region, dataDir);
        const runId = `demo-${(input.params as { version: string }).version}`;
        say(
          `\nDemo: rollingAppUpdate to ${(input.params as { version: string }).version} on ${instances.length} agents, batches 1, 2, 2 …, health check after each batch (run ${runId})`,
        );
        const handle = await temporal.workflow.start('rollingAppUpdate', {
          taskQueue: TASK_QUEUE,
          workflowId: runId,
          args: [input],
          // The worker registered these in the dev server's namespace (worker/search-attributes.ts).
          typedSearchAttributes: [
            { key: RUN_ATTRIBUTES.runbook, value: 'rollingAppUpdate' },
            { key: RUN_ATTRIBUTES.startedBy, value: 'tatflow dev (demo)' },
            { key: RUN_ATTRIBUTES.status, value: 'planning' },
          ],
        });
        const { state, error } = await follow(handle);
        if (state) say(`\n${renderStatus(runId, state)}`);
        say(error ? `\nthe demo run failed: ${error.message}` : `\nthe demo run succeeded`);
        if (uiUrl) say(`Its history: ${uiUrl}/namespaces/default/workflows/${runId}`);
        let timezone = 'UTC';
        try {
          timezone = checkTimezone('timezone', Intl.DateTimeFormat().resolvedOptions().timeZone);
        } catch {
          // a machine whose zone is not an IANA name: UTC
        }
        const made = await ensureDemoSchedule(temporal, { region, taskQueue: TASK_QUEUE, dataDir, timezone });
        say(
          `\nSchedule ${DEMO_SCHEDULE} ${made === 'created' ? 'created' : 'is there'}: rollingCommand rotating the demo app's logs every night at 03:30 ${timezone}, in a 1 h maintenance window; paused, so nothing runs until you unpause it.` +
            `\n  bin/tatflow schedule list    bin/tatflow schedule describe ${DEMO_SCHEDULE}    bin/tatflow schedule unpause ${DEMO_SCHEDULE}`,
        );
        await connection.close();
      }
      say(
        [
          '',
          'Try, in another terminal (this directory):',
          "  bin/tatflow run rollingCommand --online --batches 1,50% --command 'uptime' --health-check 'test -d /tmp' --follow",
          '  bin/tatflow preview patchFleet --online --batches 1,2',
          '  bin/tatflow instances    bin/tatflow runbooks',
          '  bin/tatflow status <run>    bin/tatflow approve|reject|pause|resume|abort <run>',
          'Any TAT client works against the endpoint above. Ctrl-C stops everything.',
        ].join('\n'),
      );
    });
}
