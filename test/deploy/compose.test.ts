// docker-compose.yml and Dockerfile cannot be run here (no Docker engine), so what can be checked
// is checked: every service command is a real `tatflow` subcommand with real flags, ports and
// URLs agree with --listen, images and volumes are defined, variables are ones the code reads,
// and the Dockerfile's base image and copied folders match the project.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { agentCommand } from '../../client/commands/agent.js';
import { devCommand } from '../../client/commands/dev.js';
import { serverCommand } from '../../client/commands/server.js';

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[];
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
};

function flagValue(cmd: string[], flag: string): string | undefined {
  const i = cmd.indexOf(flag);
  return i >= 0 ? cmd[i + 1] : undefined;
}

test('every service command is a tatflow subcommand with known flags', () => {
  for (const [name, svc] of Object.entries(compose.services)) {
    const cmd = svc.command;
    assert.ok(cmd && cmd.length > 0, `${name} has a command`);
    const sub = subcommands[cmd[0]!];
    assert.ok(sub, `${name}: "${cmd[0]}" is a tatflow subcommand`);
    const known = new Set(sub.options.map((o) => o.long));
    for (const arg of cmd.slice(1).filter((a) => a.startsWith('--')))
      assert.ok(known.has(arg), `${name}: ${arg} is an option of "tatflow ${cmd[0]}"`);
  }
});

test('ports, URLs and dependencies agree', () => {
  const tatd = compose.services.tatd!;
  const listen = flagValue(tatd.command!, '--listen')!;
  const port = listen.split(':').pop();
  assert.ok(
    tatd.ports!.some((p) => p.split(':').pop() === port),
    `tatd publishes its --listen port ${port}`,
  );
  const agents = compose.services.agents!;
  const server = new URL(flagValue(agents.command!, '--server')!);
  assert.equal(server.hostname, 'tatd', 'agents reach tatd by its service name');
  assert.equal(server.port, port, 'agents use the port tatd listens on');
  assert.deepEqual(agents.depends_on, ['tatd']);
});

test('images, volumes and variables are defined and used', () => {
  const images = new Set(Object.values(compose.services).map((s) => s.image));
  assert.equal(images.size, 1, 'one tatflow image for every service');
  assert.ok(
    Object.values(compose.services).some((s) => s.build === '.'),
    'the image is built from this repository',
  );
  for (const [name, svc] of Object.entries(compose.services))
    for (const v of svc.volumes ?? []) {
      const vol = v.split(':')[0]!;
      assert.ok(vol in (compose.volumes ?? {}), `${name}: volume ${vol} is declared`);
    }
  const sources = ['server/config.ts', 'client/commands/server.ts']
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  for (const svc of Object.values(compose.services))
    for (const key of Object.keys(svc.environment ?? {}))
      assert.ok(sources.includes(key), `the code reads ${key}`);
  const data = flagValue(compose.services.tatd!.command!, '--data');
  assert.ok(
    compose.services.tatd!.volumes!.some((v) => v.endsWith(`:${data}`)),
    'tatd keeps --data on a volume',
  );
});

test('the Dockerfile builds on the Node major the project supports, from folders that exist', () => {
  const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines
    .node;
  for (const from of dockerfile.matchAll(/^FROM node:(\d+)/gm))
    assert.ok(engines.includes(`>=${from[1]}.`), `node ${from[1]} fits engines ${engines}`);
  for (const copy of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
    for (const src of copy[1]!.split(/\s+/)) assert.ok(existsSync(src), `COPY source ${src} exists`);
  assert.match(dockerfile, /ENTRYPOINT \["tatflow"\]/);
});
