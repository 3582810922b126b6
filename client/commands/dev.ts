// `tatflow dev`: the whole system on one machine on embedded defaults — tatd on SQLite with open
// enrollment, and a local fleet of agents running real shells — then a first command on every
// agent to show the path working. Credentials are generated once and kept in the data directory.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import { runAgent } from '../../agent/main.js';
import { REFERENCE_BACKOFF } from '../../agent/session.js';
import { startTatd } from '../../server/app.js';
import { parseServerConfig } from '../../server/config.js';
import { createTatClient, type TatClient } from '../../tat/node/client.js';
import { fleetMachineIds } from '../../agent/main.js';
import { parseFlags } from '../flags.js';
import { onShutdown } from '../shutdown.js';
import { renderTable } from '../table.js';

const Flags = z.object({
  listen: z.string().default('127.0.0.1:9000'),
  data: z.string().default('.tatflow/dev'),
  agents: z.coerce.number().int().min(1).max(1000).default(3),
  demo: z.boolean().default(true),
});

interface Credentials {
  secretId: string;
  secretKey: string;
  appId: string;
}

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

async function waitOnline(client: TatClient, count: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const r = await client.DescribeAutomationAgentStatus({
      Filters: [{ Name: 'agent-status', Values: ['Online'] }],
      Limit: 100,
    });
    if ((r.TotalCount ?? 0) >= count) return (r.AutomationAgentSet ?? []).map((a) => a.InstanceId!);
    await sleep(100);
  }
  throw new Error(`only some of the ${count} agents came online; see the agent log`);
}

async function demo(client: TatClient, instanceIds: string[], workdir: string): Promise<void> {
  const script = 'echo "hello from $(hostname) as $(id -un)"; uname -sr';
  const { InvocationId } = await client.RunCommand({
    Content: Buffer.from(script).toString('base64'),
    InstanceIds: instanceIds.slice(0, 100),
    CommandName: 'dev-hello',
    WorkingDirectory: workdir,
  });
  for (;;) {
    const inv = await client.DescribeInvocations({ InvocationIds: [InvocationId!] });
    const status = inv.InvocationSet?.[0]?.InvocationStatus;
    if (status && !['PENDING', 'RUNNING', 'CANCELLING'].includes(status)) break;
    await sleep(100);
  }
  const tasks = await client.DescribeInvocationTasks({
    Filters: [{ Name: 'invocation-id', Values: [InvocationId!] }],
    HideOutput: false,
    Limit: 100,
  });
  console.log(`\nFirst command (RunCommand ${InvocationId}):`);
  console.log(
    renderTable(
      ['instance', 'status', 'exit', 'output'],
      (tasks.InvocationTaskSet ?? []).map((t) => [
        t.InstanceId!,
        t.TaskStatus!,
        t.TaskResult?.ExitCode ?? '',
        Buffer.from(t.TaskResult?.Output ?? '', 'base64')
          .toString('utf8')
          .trim()
          .replaceAll('\n', ' | '),
      ]),
    ),
  );
}

export function devCommand(): Command {
  return new Command('dev')
    .description('Run tatd and a local fleet of agents on this machine, on embedded defaults')
    .option('--listen <host:port>', 'tatd address (default 127.0.0.1:9000)')
    .option('--data <dir>', 'state directory (default .tatflow/dev)')
    .option('--agents <n>', 'number of local agents (default 3)')
    .option('--no-demo', 'skip the first command run on every agent')
    .action(async (raw: unknown) => {
      const flags = parseFlags(Flags, raw);
      const dataDir = resolve(flags.data);
      await mkdir(join(dataDir, 'work'), { recursive: true });
      const creds = loadCredentials(dataDir);
      const root = process.getuid?.() === 0;
      // Not root: tasks cannot switch users, so they run as this user in a scratch directory.
      const defaults = root ? {} : { username: userInfo().username, workingDirectory: join(dataDir, 'work') };
      const logDest = join(dataDir, 'tatflow.log');
      const log = pino({ level: 'info' }, pino.destination({ dest: logDest, mkdir: true, sync: false }));
      const config = parseServerConfig({
        listen: flags.listen,
        data: join(dataDir, 'tatd'),
        accounts: [creds],
        openEnrollment: true,
        defaults,
      });
      const tatd = await startTatd(config, log.child({ service: 'tatd' }));
      const agent = await runAgent({
        invokeUrl: `${tatd.url}/agent/invoke`,
        wsUrl: `${tatd.url.replace(/^http/, 'ws')}/agent/ws`,
        machineIds: fleetMachineIds(`dev-${hostname()}`, flags.agents),
        dir: join(dataDir, 'agents'),
        log: log.child({ service: 'agent' }),
        backoff: { ...REFERENCE_BACKOFF, maxSeconds: 10 },
      });
      onShutdown(async () => {
        await agent.stop();
        await tatd.close();
      });
      const region = config.regions[0]!.Region;
      const client = createTatClient({ ...creds, region, endpoint: tatd.url });
      const instances = await waitOnline(client, flags.agents);
      console.log(
        renderTable(
          ['tatflow dev', ''],
          [
            ['TAT API endpoint', tatd.url],
            ['SecretId', creds.secretId],
            ['SecretKey', creds.secretKey],
            ['Region', region],
            [
              'Agents online',
              `${instances.length} (${instances.slice(0, 3).join(', ')}${instances.length > 3 ? ', …' : ''})`,
            ],
            ['Logs (JSON)', logDest],
            ['Data', dataDir],
          ],
        ),
      );
      if (flags.demo) await demo(client, instances, defaults.workingDirectory ?? '/tmp');
      console.log(
        `\nPoint any TAT client here, e.g. the Node SDK with httpProfile { endpoint: "${tatd.url.replace('http://', '')}", protocol: "http://" }.\nCtrl-C stops everything.`,
      );
    });
}
