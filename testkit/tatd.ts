// The real tatd for tests: `bin/tatflow server` as a child process on a random port with a
// temporary data directory, and official-SDK clients pointed at it. Every process started here is
// stopped by the test's after() hook and, whatever happens, killed when the test process exits.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sdkException from 'tencentcloud-sdk-nodejs/tencentcloud/common/exception/tencent_cloud_sdk_exception.js';
import { createTatClient, type TatClient, type TatClientOptions } from '../tat/node/client.js';
import { taskDefaults } from './task-user.js';
import { nextSecond } from './wait.js';

// The SDKs send every request through `http_proxy` when it is set, localhost included
// (docs/tat-api-reference.md, "Endpoints and proxies"): tests talk to tatd directly.
for (const v of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete process.env[v];

const BIN = fileURLToPath(new URL('../../bin/tatflow', import.meta.url));

export const TencentCloudSDKHttpException = sdkException.default;

const live = new Set<ChildProcess>();
const scratch = new Set<string>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});
// A signal would end the test process without 'exit': exit through it, so that every 'exit'
// hook (these and those of other helpers) kills what it started.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(sig, () => process.exit(128 + constants.signals[sig]));

export interface TatdOptions {
  /** `SECRET_ID:SECRET_KEY[:APPID]` each; default one account `AKIDtest:test-secret:1000000001`. */
  accounts?: string[];
  openEnrollment?: boolean;
  /**
   * Written to a temporary JSON file and passed with `--config` (quotas, timings, regions ...);
   * `rateLimit` is off unless given here. Without `defaults` in it, tasks run as the test task user
   * in its home (task-user.ts).
   */
  config?: object;
  /** Keep tatd's own defaults for commands (root in /root) instead of the test task user's. */
  builtInDefaults?: boolean;
  /** Extra environment of the tatd process. */
  env?: NodeJS.ProcessEnv;
  /** Listen on this port (to start again where a previous tatd was); default a random one. */
  port?: number;
  /** Use this data directory (to start again on a previous tatd's data); default a new one. */
  dataDir?: string;
  /** Serve over TLS with this certificate and key (PEM files): the url is then https://. */
  tls?: { cert: string; key: string };
  /** Start tatd with this umask (e.g. 0 to check that its files are private anyway). */
  umask?: number;
}

export interface Tatd {
  /** `http://127.0.0.1:PORT` (https:// with `tls`) */
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** Everything tatd wrote to stdout and stderr so far, one line each (pino JSON on stdout). */
  lines: string[];
  /** The JSON log lines so far, parsed. */
  logs(): Record<string, unknown>[];
  /** Sends a signal and returns at once (SIGSTOP, SIGCONT ...). */
  signal(sig: NodeJS.Signals): void;
  /** Sends a signal (default SIGKILL) and waits until the process has exited. */
  kill(sig?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (a graceful stop) and waits for the exit; SIGKILL after 10 s. No-op once exited. */
  stop(): Promise<void>;
  /** Stops tatd if it runs, then starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

export const DEFAULT_ACCOUNT = { secretId: 'AKIDtest', secretKey: 'test-secret', appId: '1000000001' };

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

function waitExit(p: ChildProcess): Promise<void> {
  if (exited(p)) return Promise.resolve();
  return new Promise((resolve) => p.once('exit', () => resolve()));
}

/** The url of a `{"msg":"tatd listening","url":...}` log line. */
function listeningUrl(line: string): string | undefined {
  if (!line.includes('tatd listening')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return entry.msg === 'tatd listening' ? entry.url : undefined;
  } catch {
    return undefined;
  }
}

interface Spawned {
  proc: ChildProcess;
  port: number;
  url: string;
}

/** Spawns tatd and waits for its "tatd listening" line; appends its output to `lines`. */
function spawnTatd(
  args: string[],
  env: NodeJS.ProcessEnv,
  lines: string[],
  umask?: number,
): Promise<Spawned> {
  const command: [string, string[]] =
    umask === undefined
      ? [process.execPath, [BIN, 'server', ...args]]
      : // A shell sets the umask, then becomes tatd (same pid, so signals reach tatd itself).
        [
          '/bin/sh',
          ['-c', `umask ${umask.toString(8)} && exec "$0" "$@"`, process.execPath, BIN, 'server', ...args],
        ];
  const proc = spawn(command[0], command[1], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  return new Promise<Spawned>((resolve, reject) => {
    let done = false;
    const fail = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`tatd did not start: ${why}\n${lines.slice(-20).join('\n')}`));
    };
    const timer = setTimeout(() => fail('no "tatd listening" line within 20 s'), 20_000);
    const reader = () => {
      let rest = '';
      return (d: Buffer) => {
        const parts = (rest + d.toString('utf8')).split('\n');
        rest = parts.pop()!;
        for (const line of parts) {
          lines.push(line);
          const url = done ? undefined : listeningUrl(line);
          if (!url) continue;
          done = true;
          clearTimeout(timer);
          resolve({ proc, port: Number(new URL(url).port), url });
        }
      };
    };
    proc.stdout!.on('data', reader());
    proc.stderr!.on('data', reader());
    proc.once('exit', (code, sig) => fail(`it exited (${sig ?? `code ${code}`})`));
  });
}

export async function startTatd(opts: TatdOptions = {}): Promise<Tatd> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tatflow-tatd-'));
  if (!opts.dataDir) scratch.add(dataDir);
  const baseArgs = ['--data', dataDir];
  const accounts = opts.accounts ?? [
    `${DEFAULT_ACCOUNT.secretId}:${DEFAULT_ACCOUNT.secretKey}:${DEFAULT_ACCOUNT.appId}`,
  ];
  for (const a of accounts) baseArgs.push('--account', a);
  if (opts.openEnrollment) baseArgs.push('--open-enrollment');
  if (opts.tls) baseArgs.push('--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key);
  // Tests make calls far faster than TAT's 20 per second per action, and fail authentication on
  // purpose: the rate limits are off unless a test's config turns them on (test/server/limits).
  const config: Record<string, unknown> = { rateLimit: { enabled: false }, ...opts.config };
  if (!opts.builtInDefaults && config.defaults === undefined) config.defaults = taskDefaults();
  {
    const dir = mkdtempSync(join(tmpdir(), 'tatflow-config-'));
    scratch.add(dir);
    const file = join(dir, 'tatd.json');
    writeFileSync(file, JSON.stringify(config));
    baseArgs.push('--config', file);
  }
  const lines: string[] = [];
  const env = opts.env ?? {};
  const first = await spawnTatd(
    [...baseArgs, '--listen', `127.0.0.1:${opts.port ?? 0}`],
    env,
    lines,
    opts.umask,
  );

  const tatd: Tatd = {
    url: `${new URL(first.url).protocol}//127.0.0.1:${first.port}`,
    port: first.port,
    dataDir,
    proc: first.proc,
    lines,
    logs: () =>
      lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    signal(sig) {
      tatd.proc.kill(sig);
    },
    async kill(sig = 'SIGKILL') {
      const p = tatd.proc;
      if (exited(p)) return;
      const gone = waitExit(p);
      p.kill(sig);
      await gone;
    },
    async stop() {
      const p = tatd.proc;
      if (exited(p)) return;
      const gone = waitExit(p);
      p.kill('SIGCONT'); // a stopped process would not act on SIGTERM
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
    async restart() {
      await tatd.stop();
      const again = await spawnTatd(
        [...baseArgs, '--listen', `127.0.0.1:${tatd.port}`],
        env,
        lines,
        opts.umask,
      );
      tatd.proc = again.proc;
    },
  };
  return tatd;
}

export interface ClientOptions {
  secretId: string;
  secretKey: string;
  /** The session token of temporary credentials. */
  token?: string;
  /** Default `ap-guangzhou`; `''` sends no region at all. */
  region?: string;
  signMethod?: TatClientOptions['signMethod'];
  reqMethod?: TatClientOptions['reqMethod'];
  language?: TatClientOptions['language'];
  /** CA certificates to trust (an https:// tatd with a test CA). */
  ca?: Buffer;
}

/**
 * An official-SDK client (tencentcloud-sdk-nodejs) pointed at `tatd`.
 *
 * tatd refuses a changing call identical to one it accepted within the same second (same action,
 * parameters, key and TC3 timestamp: the same signature, a replay; docs/api-coverage.md). Tests
 * make such calls by coincidence (the same `RunCommand true` on the same instance as the test
 * before, in the same second), so this client does what a careful caller does: on that refusal it
 * signs the call again in the next second, once. The replay guard's own tests resend captured
 * requests byte for byte (test/server/replay.test.ts) and are not affected.
 */
export function client(tatd: { url: string }, o: ClientOptions): TatClient {
  return resignedOnReplay(sdkClient(tatd, o));
}

/** A refusal as a replay of an identical call within the same second (not a stale or foreign one). */
const sameSecondReplay = (e: unknown) =>
  e instanceof TencentCloudSDKHttpException &&
  e.code === 'AuthFailure.SignatureExpire' &&
  /^An identical \w+ request with this signature was already accepted/.test(e.message);

function resignedOnReplay(c: TatClient): TatClient {
  return new Proxy(c, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string' || !/^[A-Z]/.test(prop)) return v;
      const call = v as (...a: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        try {
          return await call.apply(target, args);
        } catch (e) {
          if (!sameSecondReplay(e)) throw e;
          await nextSecond();
          return call.apply(target, args);
        }
      };
    },
  });
}

function sdkClient(tatd: { url: string }, o: ClientOptions): TatClient {
  return createTatClient({
    secretId: o.secretId,
    secretKey: o.secretKey,
    ...(o.token ? { token: o.token } : {}),
    region: o.region ?? 'ap-guangzhou',
    endpoint: tatd.url,
    timeoutSeconds: 30,
    ...(o.signMethod ? { signMethod: o.signMethod } : {}),
    ...(o.reqMethod ? { reqMethod: o.reqMethod } : {}),
    ...(o.language ? { language: o.language } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
  });
}

/**
 * Asserts that `call` fails the way the SDK reports an API error (TencentCloudSDKHttpException)
 * with Error.Code `code`; returns Error.Message.
 */
export async function expectTatError(call: Promise<unknown>, code: string): Promise<string> {
  let result: unknown;
  try {
    result = await call;
  } catch (e) {
    assert.ok(e instanceof TencentCloudSDKHttpException, `expected an SDK API error, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.ok(e.message.length > 0, `${code} answered without a message`);
    return e.message;
  }
  assert.fail(`expected ${code}, but the call succeeded: ${JSON.stringify(result)}`);
}
