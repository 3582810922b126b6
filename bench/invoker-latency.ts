// Invoker latency: from the second an invoker is due to the moment its task's script starts on
// the agent, over N fires (default 20). A real tatd process (`tatflow server`, no Temporal address:
// it runs its own Temporal dev server, as a single-host tatd does) and a real agent process; each
// fire is a ONCE invoker due at its own whole second, 2 s apart, whose script prints the time it
// started first thing. One warm-up fire first (it pays for tatd's worker start).
//
// Per fire, from the due second (all clocks are this machine's):
//   invocation  tatd's activity created the invocation (Temporal fire + workflow + activity),
//   report      the agent reported the task started (ReportTaskStart, tatd's timestamp),
//   script      the script's first line ran (its own `date +%s%N`): the figure that matters.
//
//   npm run build && npm run bench:invokers           (20 fires)
//   node dist/bench/invoker-latency.js --fires 40 --user nobody

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { renderTable } from '../client/table.js';
import { derivedInstanceId } from '../server/gateway/identity.js';
import { createTatClient, type TatClient } from '../tat/node/client.js';
import { isFinalInvocationStatus, type InvocationStatus } from '../tat/status.js';

const { values: args } = parseArgs({
  options: {
    fires: { type: 'string', default: '20' },
    'gap-ms': { type: 'string', default: '2000' },
    user: { type: 'string' },
  },
});
const FIRES = Number(args.fires);
const GAP_MS = Number(args['gap-ms']);
if (!Number.isInteger(FIRES) || FIRES < 1 || !Number.isInteger(GAP_MS) || GAP_MS < 1000 || GAP_MS % 1000)
  throw new Error('--fires: a positive integer; --gap-ms: whole seconds, at least 1000');
// Root's login files on this machine are slow (see docs/benchmarks.md, fan-out): tasks run as a
// user with a plain profile unless told otherwise.
const TASK_USER = args.user ?? (userInfo().uid === 0 ? 'nobody' : userInfo().username);
const ACCOUNT = { secretId: 'AKIDinvbench', secretKey: 'invoker-bench', appId: '1500000003' };
const REGION = 'ap-guangzhou';
const BIN = fileURLToPath(new URL('../../bin/tatflow', import.meta.url));

for (const v of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete process.env[v];
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** `bin/tatflow <args>`; resolves with the process once `ready` matches one of its output lines (at once without). */
function run(
  argv: string[],
  ready: RegExp | undefined,
  lines: string[],
): Promise<{ proc: ChildProcess; match: RegExpMatchArray | null }> {
  const proc = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return new Promise((resolve, reject) => {
    if (!ready) resolve({ proc, match: null });
    let rest = '';
    const onData = (d: Buffer) => {
      const parts = (rest + d.toString('utf8')).split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const m = ready?.exec(line);
        if (m) resolve({ proc, match: m });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) =>
      reject(new Error(`tatflow ${argv[0]} exited (${code}):\n${lines.slice(-20).join('\n')}`)),
    );
  });
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 20_000).unref();
  });
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Fire {
  due: number;
  invocation: number;
  report: number;
  script: number;
}

async function fireOnce(tat: TatClient, cmd: string, instanceId: string, due: number): Promise<string> {
  const { InvokerId } = await tat.CreateInvoker({
    Name: `bench ${due}`,
    Type: 'SCHEDULE',
    CommandId: cmd,
    InstanceIds: [instanceId],
    ScheduleSettings: { Policy: 'ONCE', InvokeTime: new Date(due).toISOString() },
  });
  return InvokerId!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tatflow-bench-invokers-'));
  chmodSync(dir, 0o755); // the task user reaches its script under the agent's directory
  const config = join(dir, 'tatd.json');
  writeFileSync(config, JSON.stringify({ defaults: { username: TASK_USER, workingDirectory: '/tmp' } }));
  const lines: string[] = [];
  const tatd = await run(
    [
      'server',
      '--listen',
      '127.0.0.1:0',
      '--data',
      join(dir, 'tatd'),
      '--account',
      `${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`,
      '--open-enrollment',
      '--config',
      config,
      '--log-level',
      'info',
    ],
    /"msg":"tatd listening".*"url":"(http:[^"]+)"|"url":"(http:[^"]+)".*"msg":"tatd listening"/,
    lines,
  );
  const url = tatd.match![1] ?? tatd.match![2]!;
  const agent = await run(
    [
      'agent',
      '--server',
      url,
      '--machine-id',
      'bench-invoker',
      '--dir',
      join(dir, 'agent'),
      '--max-backoff',
      '3',
    ],
    undefined,
    [],
  );
  try {
    const tat = createTatClient({ ...ACCOUNT, region: REGION, endpoint: url });
    const instanceId = derivedInstanceId(ACCOUNT.appId, REGION, 'bench-invoker');
    await until(
      async () => {
        const r = await tat.DescribeAutomationAgentStatus({ InstanceIds: [instanceId] });
        return r.AutomationAgentSet?.[0]?.AgentStatus === 'Online' ? true : undefined;
      },
      30_000,
      'the agent online',
    );
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'bench-clock',
      Content: Buffer.from('date +%s%N').toString('base64'),
    });
    const db = new SQLite(join(dir, 'tatd', 'tatd.sqlite'), { readonly: true });
    const timing = db.prepare(
      `SELECT i.created_at AS invocation, t.start_at AS report FROM tasks t JOIN invocations i ON i.id = t.invocation_id WHERE i.id = ?`,
    );
    const measure = async (invokerId: string, due: number): Promise<Fire> => {
      const rec = await until(
        async () => (await tat.DescribeInvokerRecords({ InvokerIds: [invokerId] })).InvokerRecordSet?.[0],
        due - Date.now() + 120_000,
        `the fire of ${invokerId}`,
      );
      if (!rec.InvocationId) throw new Error(`the fire of ${invokerId} started nothing: ${rec.Reason}`);
      await until(
        async () => {
          const i = (await tat.DescribeInvocations({ InvocationIds: [rec.InvocationId!] }))
            .InvocationSet?.[0];
          return i && isFinalInvocationStatus(i.InvocationStatus as InvocationStatus) ? i : undefined;
        },
        30_000,
        `invocation ${rec.InvocationId}`,
      );
      const task = (
        await tat.DescribeInvocationTasks({
          Filters: [{ Name: 'invocation-id', Values: [rec.InvocationId] }],
          HideOutput: false,
        })
      ).InvocationTaskSet![0]!;
      const out = Buffer.from(task.TaskResult!.Output!, 'base64').toString('utf8').trim();
      const t = timing.get(rec.InvocationId) as { invocation: number; report: number };
      return { due, invocation: t.invocation, report: t.report, script: Number(BigInt(out) / 1_000_000n) };
    };

    // Warm-up: the first fire also starts tatd's Temporal dev server and worker.
    const warmDue = Math.ceil((Date.now() + 15_000) / 1000) * 1000;
    const warm = await measure(await fireOnce(tat, CommandId!, instanceId, warmDue), warmDue);
    process.stdout.write(`warm-up fire: script started ${warm.script - warm.due} ms after its second\n`);

    const first = Math.ceil((Date.now() + 5_000) / 1000) * 1000;
    const dues = Array.from({ length: FIRES }, (_, i) => first + i * GAP_MS);
    const invokers: string[] = [];
    for (const due of dues) invokers.push(await fireOnce(tat, CommandId!, instanceId, due));
    if (Date.now() > first)
      throw new Error('creating the invokers took longer than the lead time; raise --gap-ms');
    const fires: Fire[] = [];
    for (const [i, id] of invokers.entries()) fires.push(await measure(id, dues[i]!));
    db.close();

    const col = (f: (x: Fire) => number) => fires.map(f);
    const rows = [
      ['due → invocation created (tatd)', col((x) => x.invocation - x.due)],
      ['due → ReportTaskStart (tatd)', col((x) => x.report - x.due)],
      ['due → script started (agent)', col((x) => x.script - x.due)],
    ] as const;
    process.stdout.write(
      `\n${FIRES} fires, ${GAP_MS / 1000} s apart, ONCE invokers, tasks as ${TASK_USER}, tatd's own Temporal dev server\n`,
    );
    process.stdout.write(
      renderTable(
        ['from the due second', 'median', 'best', 'worst'],
        rows.map(([label, xs]) => [
          label,
          `${Math.round(median([...xs]))} ms`,
          `${Math.min(...xs)} ms`,
          `${Math.max(...xs)} ms`,
        ]),
      ) + '\n',
    );
    process.stdout.write(`script start per fire (ms): ${col((x) => x.script - x.due).join(' ')}\n`);
  } finally {
    await stop(agent.proc);
    await stop(tatd.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
