// The fuzz run behind `npm run bench:fuzz` and test/server/fuzz.test.ts: malformed and hostile
// requests against a real tatd process, bounded in count and time, every answer checked.
//
// Each request is drawn from one of these kinds by a seeded generator (bench/fuzz-requests.ts), so
// a run repeats its kinds and shapes (unique names and random bytes aside):
//   api-unsigned   API requests with no, broken or wrong signatures, bodies and headers
//   api-tc3        correctly TC3-signed calls of every action with hostile parameters
//   api-v1         correctly v1-signed form calls with hostile flattened keys and values
//   agent-http     agent calls: bodies that are not JSON, wrong types, huge indexes, invalid
//                  Base64, forged signed headers, RegisterInstance with garbage
//   agent-ws       WebSocket upgrades with missing, forged or garbage identity headers
//   cos            object-store PUTs and GETs with garbage signatures, tokens and keys
// The rules: API and agent HTTP answers are HTTP 200 with a JSON envelope that has a RequestId
// and either an Error with a Code or a result (a hostile but valid call may succeed); never
// InternalError. WebSocket upgrades are refused with a 4xx status. The object store answers 4xx
// with a COS XML error. Nothing is 5xx, tatd stays up, and its resident memory is sampled from
// /proc throughout.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCOUNT, BUCKET, KINDS, makers, rng, signedTc3, type Kind, type Req } from './fuzz-requests.js';

export { KINDS, type Kind } from './fuzz-requests.js';

const BIN = fileURLToPath(new URL('../../bin/tatflow', import.meta.url));

/**
 * The configuration the fuzz run gives tatd: open enrollment (unregistered agents reach the task
 * paths), a bucket, and the rate limits off, so hostile requests reach the code behind them
 * instead of a RequestLimitExceeded (the limits have their own test).
 */
export const FUZZ_CONFIG = {
  openEnrollment: true,
  rateLimit: { enabled: false },
  cos: { buckets: [{ name: BUCKET }], allowHttp: true },
} as const;

export interface FuzzOptions {
  /** Requests to send. */
  count: number;
  /** Stop sending after this long even if `count` is not reached. */
  seconds: number;
  seed?: number;
  /** Requests in flight at once. */
  concurrency?: number;
}

export interface FuzzReport {
  sent: number;
  seconds: number;
  byKind: Record<Kind, number>;
  /** Answers by kind and outcome (`HTTP 200 AuthFailure.SignatureFailure`, `101`, ...). */
  outcomes: Record<string, number>;
  /** Answers that broke a rule, with the request that got them (at most 20 kept). */
  violations: string[];
  violationCount: number;
  rss: { startMiB: number; maxMiB: number; endMiB: number };
  /** tatd still answered a correct call at the end. */
  alive: boolean;
  /** Log lines of tatd at level error or fatal. */
  errorLogs: string[];
}

// ---- sending and judging ----

interface Outcome {
  label: string;
  violation?: string;
}

function judge(req: Req, status: number, headers: http.IncomingHttpHeaders, body: Buffer): Outcome {
  const fail = (why: string): Outcome => ({
    label: `HTTP ${status} (violation)`,
    violation: `${req.kind} ${req.method} ${req.path.slice(0, 60)} [${req.label}]: ${why}: ${body.toString().slice(0, 200)}`,
  });
  if (status >= 500) return fail('5xx');
  if (req.kind === 'agent-ws') return status >= 400 ? { label: `HTTP ${status}` } : fail('not refused');
  if (req.kind === 'cos') {
    if (status < 400) return { label: `HTTP ${status}` };
    const code = /<Code>([^<]*)<\/Code>/.exec(body.toString())?.[1];
    if (!code) return fail('no COS XML error');
    return { label: `HTTP ${status} ${code}` };
  }
  if (status !== 200) return fail('not HTTP 200');
  if (!String(headers['content-type'] ?? '').startsWith('application/json')) return fail('not JSON');
  let env: { Response?: { RequestId?: unknown; Error?: { Code?: unknown; Message?: unknown } } };
  try {
    env = JSON.parse(body.toString()) as typeof env;
  } catch {
    return fail('body is not JSON');
  }
  const r = env.Response;
  if (!r || typeof r.RequestId !== 'string') return fail('no Response.RequestId');
  if (r.Error === undefined) return { label: 'HTTP 200 success' };
  if (typeof r.Error.Code !== 'string' || typeof r.Error.Message !== 'string') return fail('malformed Error');
  if (r.Error.Code === 'InternalError') return fail('InternalError');
  return { label: `HTTP 200 ${r.Error.Code}` };
}

function send(port: number, req: Req): Promise<Outcome> {
  return new Promise((resolve) => {
    const r = http.request(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.path,
        headers: {
          ...req.headers,
          ...(req.body ? { 'content-length': String(req.body.length) } : {}),
        },
        agent: false,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          if (size < 1_000_000) chunks.push(d);
          size += d.length;
        });
        res.on('end', () => resolve(judge(req, res.statusCode ?? 0, res.headers, Buffer.concat(chunks))));
        res.on('error', () => resolve({ label: 'response error' }));
      },
    );
    r.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(
        req.upgrade && res.statusCode === 101
          ? { label: '101 (an enrolled machine)' }
          : { label: `HTTP ${res.statusCode} upgrade`, violation: `${req.kind}: unexpected upgrade` },
      );
    });
    r.on('timeout', () => {
      r.destroy();
      resolve({
        label: 'timeout',
        violation: `${req.kind} ${req.method} ${req.path.slice(0, 60)}: no answer in 30 s`,
      });
    });
    // A refused oversized or mismatched body may end the connection early: that is an answer.
    r.on('error', (e) => resolve({ label: `connection ${(e as NodeJS.ErrnoException).code ?? 'error'}` }));
    r.end(req.body);
  });
}

// ---- tatd ----

interface Running {
  proc: ChildProcess;
  port: number;
  /** tatd's log lines at level error and fatal (the others are read and dropped). */
  errors: string[];
  dir: string;
}

async function startTatd(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'tatflow-fuzz-'));
  const config = join(dir, 'tatd.json');
  writeFileSync(config, JSON.stringify(FUZZ_CONFIG));
  const proc = spawn(
    process.execPath,
    [
      BIN,
      'server',
      '--data',
      join(dir, 'data'),
      '--listen',
      '127.0.0.1:0',
      '--config',
      config,
      '--account',
      `${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const errors: string[] = [];
  const first: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string) => {
      proc.kill('SIGKILL');
      reject(new Error(`tatd did not start (${why}):\n${first.join('\n')}`));
    };
    const timer = setTimeout(() => fail('no "tatd listening" within 20 s'), 20_000);
    let rest = '';
    const onData = (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop()!;
      for (const l of parts) {
        if (first.length < 50) first.push(l);
        if (/"level":(50|60)/.test(l) && errors.length < 100) errors.push(l);
        const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(l);
        if (m && l.includes('tatd listening')) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tatd exited (${code}):\n${first.join('\n')}`));
    });
  });
  return { proc, port, errors, dir };
}

function rssMiB(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

/** Runs the fuzz against a tatd of its own; stops it and removes its data at the end. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const r = rng(o.seed ?? 20_240_601);
  const tatd = await startTatd();
  const host = `127.0.0.1:${tatd.port}`;
  const pid = tatd.proc.pid!;
  const report: FuzzReport = {
    sent: 0,
    seconds: 0,
    byKind: Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>,
    outcomes: {},
    violations: [],
    violationCount: 0,
    rss: { startMiB: rssMiB(pid), maxMiB: 0, endMiB: 0 },
    alive: false,
    errorLogs: [],
  };
  report.rss.maxMiB = report.rss.startMiB;
  const sampler = setInterval(() => {
    report.rss.maxMiB = Math.max(report.rss.maxMiB, rssMiB(pid));
  }, 200);
  const started = Date.now();
  const deadline = started + o.seconds * 1000;
  const make = makers(r, host);
  const weights: Kind[] = [
    'api-unsigned',
    'api-tc3',
    'api-tc3',
    'api-tc3',
    'api-v1',
    'api-v1',
    'agent-http',
    'agent-http',
    'agent-ws',
    'cos',
  ];
  try {
    const worker = async () => {
      while (report.sent < o.count && Date.now() < deadline) {
        report.sent++;
        const req = make[r.pick(weights)]();
        report.byKind[req.kind]++;
        const out = await send(tatd.port, req);
        const key = `${req.kind}: ${out.label}`;
        report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
        if (out.violation) {
          report.violationCount++;
          if (report.violations.length < 20) report.violations.push(out.violation);
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
    report.seconds = Math.round((Date.now() - started) / 100) / 10;
    report.rss.endMiB = rssMiB(pid);
    // A correct call still answers.
    const body = '{}';
    const check = await send(tatd.port, {
      kind: 'api-tc3',
      method: 'POST',
      path: '/',
      headers: signedTc3(host, 'DescribeRegions', body),
      body: Buffer.from(body),
      label: 'DescribeRegions',
    });
    report.alive = check.label === 'HTTP 200 success' && tatd.proc.exitCode === null;
    report.errorLogs = tatd.errors.slice(0, 20);
  } finally {
    clearInterval(sampler);
    const exited = new Promise((res) =>
      tatd.proc.exitCode !== null ? res(undefined) : tatd.proc.once('exit', res),
    );
    tatd.proc.kill('SIGTERM');
    // Requests cut off mid-body may hold a graceful stop until their deadline: 10 s, then SIGKILL.
    const kill = setTimeout(() => tatd.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
    rmSync(tatd.dir, { recursive: true, force: true });
  }
  return report;
}
