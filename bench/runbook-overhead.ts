// Runbook overhead benchmark (issue: "runbook overhead"): `rollingCommand` of `true` over 50
// agents in 10 batches, against the same 10 batches driven by a plain loop of SDK InvokeCommand +
// DescribeInvocations polling in this script, side by side in one run, both polling at the same
// interval, default (non-strict) error budget. Aim (issue 13, at 100 ms polls): the runbook takes
// at most 1.2× the plain loop, at most 20 ms of overhead per batch.
//
// Everything it needs is started here and stopped on exit, failure included: a Temporal dev
// server (in memory), tatd (child process), one agent process serving every identity (--fleet),
// and a worker in this process.
//
//   npm run build && npm run bench:runbook        (50 agents, 10 batches, 5 rounds, 250 ms polls)
//   node dist/bench/runbook-overhead.js --poll-ms 500 --rounds 9
//   BENCH_POLL_MS=100 node dist/bench/runbook-overhead.js

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { pino } from 'pino';
import { fleetMachineIds } from '../agent/main.js';
import { renderTable } from '../client/table.js';
import { startTemporalDevServer, type TemporalDevServer } from '../temporal/dev-server.js';
import { derivedInstanceId } from '../server/gateway/identity.js';
import type { TatClient } from '../tat/node/client.js';
import { isFinalTaskStatus } from '../tat/status.js';
import { startAgent, waitAgents, type AgentProcess } from '../testkit/agents.js';
import { client as tatClient, startTatd, type Tatd } from '../testkit/tatd.js';
import { bundleRunbooks } from '../worker/bundle.js';
import { installTemporalLogger } from '../temporal/logging.js';
import { startWorker, type RunningWorker } from '../worker/main.js';
import type { RolloutState, RunbookInput } from '../workflows/engine/types.js';
import { breakdown, type RunBreakdown } from './history.js';

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '50' },
    batches: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    'poll-ms': { type: 'string', default: process.env.BENCH_POLL_MS ?? '250' },
    user: { type: 'string' },
    /** Write each runbook run's history there, warm-up included (JSON, as fetchHistory gives it). */
    'history-dir': { type: 'string' },
  },
});
const AGENTS = Number(args.agents);
const BATCHES = Number(args.batches);
const ROUNDS = Number(args.rounds);
const POLL_MS = Number(args['poll-ms']);
if (![AGENTS, BATCHES, ROUNDS, POLL_MS].every((n) => Number.isInteger(n) && n > 0) || AGENTS % BATCHES)
  throw new Error(
    '--agents, --batches, --rounds, --poll-ms: positive integers, agents a multiple of batches',
  );
const BATCH_SIZE = AGENTS / BATCHES;
// Root's login files on this machine run `pyenv init` (~100 ms of CPU per shell, see
// bench/fanout.ts): tasks run as a user with a plain profile, so the figures show tatflow's cost.
const TASK_USER = args.user ?? (userInfo().uid === 0 ? 'nobody' : userInfo().username);
const ACCOUNT = { secretId: 'AKIDrunbook', secretKey: 'runbook-secret', appId: '1500000002' };
const REGION = 'ap-guangzhou';
const AIM_RATIO = 1.2;
const AIM_PER_BATCH_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r0 = (x: number) => Math.round(x);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** tatd's own log: one `api call` line per request, with the action and the server-side ms. */
type Calls = Map<string, { n: number; ms: number }>;
function apiCalls(lines: string[]): Calls {
  const out: Calls = new Map();
  for (const line of lines) {
    if (!line.includes('"api call')) continue;
    try {
      const e = JSON.parse(line) as { msg?: string; action?: string; ms?: number };
      if (!e.msg?.startsWith('api call') || !e.action) continue;
      const c = out.get(e.action) ?? { n: 0, ms: 0 };
      c.n++;
      c.ms += e.ms ?? 0;
      out.set(e.action, c);
    } catch {
      // not JSON
    }
  }
  return out;
}

interface PlainRound {
  ms: number;
  batches: { ms: number; invokeMs: number; polls: number }[];
  calls: Calls;
}

/**
 * The plain loop: a saved command, then per batch InvokeCommand and DescribeInvocations at once and
 * every POLL_MS until every task is final, then the command is deleted (as the runbook does).
 */
async function plainRound(tat: TatClient, tatd: Tatd, batches: string[][], n: number): Promise<PlainRound> {
  const mark = tatd.lines.length;
  const t0 = performance.now();
  const { CommandId } = await tat.CreateCommand({ CommandName: `bench-plain-${n}`, Content: b64('true') });
  const out: PlainRound['batches'] = [];
  for (const ids of batches) {
    const b0 = performance.now();
    const { InvocationId } = await tat.InvokeCommand({ CommandId: CommandId!, InstanceIds: ids });
    const invokeMs = performance.now() - b0;
    let polls = 0;
    for (;;) {
      const r = await tat.DescribeInvocations({ InvocationIds: [InvocationId!] });
      polls++;
      const tasks = r.InvocationSet?.[0]?.InvocationTaskBasicInfoSet ?? [];
      if (tasks.length === ids.length && tasks.every((t) => isFinalTaskStatus(t.TaskStatus!))) {
        const bad = tasks.filter((t) => t.TaskStatus !== 'SUCCESS');
        if (bad.length) {
          const d = await tat.DescribeInvocationTasks({ InvocationTaskIds: [bad[0]!.InvocationTaskId!] });
          const t = d.InvocationTaskSet?.[0];
          const output = Buffer.from(t?.TaskResult?.Output ?? '', 'base64').toString('utf8');
          throw new Error(
            `plain loop: tasks ended ${bad.map((t) => t.TaskStatus).join(', ')}; first: ` +
              `exit ${t?.TaskResult?.ExitCode}, ${t?.ErrorInfo ?? ''} ${output.slice(0, 500)}`,
          );
        }
        break;
      }
      await sleep(POLL_MS);
    }
    out.push({ ms: performance.now() - b0, invokeMs, polls });
  }
  await tat.DeleteCommand({ CommandId: CommandId! });
  const ms = performance.now() - t0;
  await sleep(100); // tatd's log lines of this round
  return { ms, batches: out, calls: apiCalls(tatd.lines.slice(mark)) };
}

interface RunbookRound {
  ms: number;
  /** Per batch, workflow clock (startedAt → endedAt of the batch in the run's state). */
  batchMs: number[];
  history: RunBreakdown;
  calls: Calls;
}

async function runbookRound(
  temporal: Client,
  taskQueue: string,
  tatd: Tatd,
  ids: string[],
  n: number,
): Promise<RunbookRound> {
  const input: RunbookInput = {
    params: { command: { content: 'true' } },
    rollout: {
      region: REGION,
      targets: { instanceIds: ids },
      shape: { kind: 'batches', batches: [BATCH_SIZE] },
      pollIntervalMs: POLL_MS,
    },
  };
  const mark = tatd.lines.length;
  const t0 = performance.now();
  let handle: WorkflowHandle | undefined;
  let state: RolloutState;
  try {
    handle = await temporal.workflow.start('rollingCommand', {
      taskQueue,
      workflowId: `bench-runbook-${n}-${Date.now()}`,
      args: [input],
    });
    const h = handle;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the runbook run did not end within 5 minutes')), 300_000);
    });
    try {
      state = await Promise.race([h.result() as Promise<RolloutState>, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    await handle?.terminate('benchmark failed').catch(() => {});
    throw e;
  }
  const ms = performance.now() - t0;
  const notOk = Object.values(state.targets).filter((t) => t.outcome !== 'succeeded');
  if (state.status !== 'succeeded' || notOk.length || state.batches.length !== BATCHES)
    throw new Error(`runbook run ended ${state.status} (${notOk.length} targets not succeeded)`);
  const batchMs = state.batches.map((b) => Date.parse(b.endedAt!) - Date.parse(b.startedAt!));
  const raw = await handle.fetchHistory();
  if (args['history-dir']) {
    mkdirSync(args['history-dir'], { recursive: true });
    writeFileSync(join(args['history-dir'], `${handle.workflowId}.json`), JSON.stringify(raw));
  }
  const history = breakdown(raw);
  await sleep(100);
  return { ms, batchMs, history, calls: apiCalls(tatd.lines.slice(mark)) };
}

/** Runs every clean-up step even when one fails; reports the failures. */
async function cleanUp(steps: [string, (() => Promise<unknown>) | undefined][]): Promise<void> {
  for (const [what, step] of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (e) {
      console.error(`clean-up: ${what} failed:`, e);
      process.exitCode = 1;
    }
  }
}

async function main(): Promise<void> {
  // Failed and retried activities would be worth seeing; the SDK's INFO chatter is not.
  installTemporalLogger(pino({ level: 'warn', base: { service: 'worker' } }, pino.destination(2)));
  const scratch = mkdtempSync(join(tmpdir(), 'tatflow-bench-runbook-'));
  // The agent writes task scripts under it; the task user must reach them.
  chmodSync(scratch, 0o711);
  // On a signal the helpers exit the process, and their exit hooks kill what they started.
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  let server: TemporalDevServer | undefined;
  let connection: Connection | undefined;
  let tatd: Tatd | undefined;
  let fleet: AgentProcess | undefined;
  let worker: RunningWorker | undefined;
  try {
    const t0 = performance.now();
    const [srv, bundle] = await Promise.all([startTemporalDevServer({ headless: true }), bundleRunbooks()]);
    server = srv;
    // The rate limits off: the plain SDK loop and the engine poll faster than TAT's 20 calls per
    // second per action when polls are short; open enrollment for the --fleet agent process.
    const tatdConfig = {
      rateLimit: { enabled: false },
      defaults: { username: TASK_USER, workingDirectory: '/tmp' },
    };
    console.log(`tatd settings: open enrollment, ${JSON.stringify(tatdConfig)}`);
    tatd = await startTatd({
      accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
      openEnrollment: true,
      config: tatdConfig,
    });
    const machine = 'bench-rb';
    fleet = startAgent(tatd.url, {
      machineId: machine,
      account: ACCOUNT.appId,
      fleet: AGENTS,
      dir: join(scratch, 'agent'),
    });
    const tat = tatClient(tatd, ACCOUNT);
    const ids = fleetMachineIds(machine, AGENTS).map((m) => derivedInstanceId(ACCOUNT.appId, REGION, m));
    const batches = Array.from({ length: BATCHES }, (_, k) =>
      ids.slice(k * BATCH_SIZE, (k + 1) * BATCH_SIZE),
    );
    await waitAgents(tat, ids, 'Online', 60_000);
    const taskQueue = `bench-runbook-${process.pid}`;
    worker = await startWorker({
      temporalAddress: server.address,
      namespace: 'default',
      taskQueue,
      tat: { endpoint: tatd.url, secretId: ACCOUNT.secretId, secretKey: ACCOUNT.secretKey },
      runbooks: [],
      workflowBundle: bundle,
    });
    connection = await Connection.connect({ address: server.address });
    const temporal = new Client({ connection, namespace: 'default' });
    console.log(
      `started in ${((performance.now() - t0) / 1000).toFixed(1)} s: Temporal dev server ${server.address}, ` +
        `tatd ${tatd.url}, ${AGENTS} agents (one --fleet process), worker on ${taskQueue}`,
    );

    // Warm-up: the first run pays the worker's and the SDK's first-use costs.
    const w1 = await plainRound(tat, tatd, batches, 0);
    const w2 = await runbookRound(temporal, taskQueue, tatd, ids, 0);
    console.log(`warm-up: plain ${r0(w1.ms)} ms, runbook ${r0(w2.ms)} ms (not counted)`);
    for (const a of w2.history.anomalies) console.log(`  runbook history: ${a}`);

    const plain: PlainRound[] = [];
    const runbook: RunbookRound[] = [];
    for (let n = 1; n <= ROUNDS; n++) {
      // Alternate which goes first, so that drift on a noisy machine hits both alike.
      if (n % 2) {
        plain.push(await plainRound(tat, tatd, batches, n));
        runbook.push(await runbookRound(temporal, taskQueue, tatd, ids, n));
      } else {
        runbook.push(await runbookRound(temporal, taskQueue, tatd, ids, n));
        plain.push(await plainRound(tat, tatd, batches, n));
      }
      const p = plain.at(-1)!.ms;
      const r = runbook.at(-1)!.ms;
      console.log(`round ${n}: plain ${r0(p)} ms, runbook ${r0(r)} ms, ratio ${(r / p).toFixed(2)}`);
      for (const a of runbook.at(-1)!.history.anomalies) console.log(`  runbook history: ${a}`);
    }
    report(plain, runbook);
  } finally {
    await cleanUp([
      ['worker', worker && (() => worker!.stop())],
      ['Temporal client', connection && (() => connection!.close())],
      ['agents', fleet && (() => fleet!.stop())],
      ['tatd', tatd && (() => tatd!.stop())],
      ['Temporal dev server', server && (() => server!.stop())],
      ['scratch', async () => rmSync(scratch, { recursive: true, force: true })],
    ]);
  }
}

function report(plain: PlainRound[], runbook: RunbookRound[]): void {
  const P = plain.map((p) => p.ms);
  const R = runbook.map((r) => r.ms);
  const mp = median(P);
  const mr = median(R);
  const ratio = mr / mp;
  const perBatch = (mr - mp) / BATCHES;
  // Poll intervals slept through: the runs differ by whole intervals depending on whether a look
  // at the tasks came just before or just after they ended, which is luck, not overhead. Without
  // them, what is left is the cost of everything else.
  const plainWaits = plain.map((x) => x.batches.reduce((n, b) => n + b.polls - 1, 0));
  const runbookWaits = runbook.map((x) => {
    const polls = x.history.activities.filter((a) => a.type === 'pollTasks').length;
    // Each look of invokeChunk's watch follows a wait of up to one interval; each pollTasks looks
    // once at its start, then after each wait.
    return (x.calls.get('DescribeInvocations')?.n ?? 0) - polls;
  });
  const net = P.map(
    (p, i) => (R[i]! - POLL_MS * runbookWaits[i]! - (p - POLL_MS * plainWaits[i]!)) / BATCHES,
  );
  console.log(
    `\nrunbook overhead: \`true\` on ${AGENTS} agents in ${BATCHES} batches of ${BATCH_SIZE}, ` +
      `polling every ${POLL_MS} ms, ${ROUNDS} rounds, tasks as ${TASK_USER}\n`,
  );
  console.log(
    renderTable(
      [
        'round',
        'plain loop',
        'runbook',
        'runbook / plain',
        'overhead per batch',
        'poll waits, plain / runbook',
        'overhead per batch, waits excluded',
      ],
      [
        ...P.map((p, i) => [
          i + 1,
          `${r0(p)} ms`,
          `${r0(R[i]!)} ms`,
          (R[i]! / p).toFixed(2),
          `${r0((R[i]! - p) / BATCHES)} ms`,
          `${plainWaits[i]} / ${runbookWaits[i]}`,
          `${r0(net[i]!)} ms`,
        ]),
        [
          'median',
          `${r0(mp)} ms`,
          `${r0(mr)} ms`,
          ratio.toFixed(2),
          `${r0(perBatch)} ms`,
          `${median(plainWaits)} / ${median(runbookWaits)}`,
          `${r0(median(net))} ms`,
        ],
        [
          'aim',
          '',
          '',
          `≤ ${AIM_RATIO}: ${ratio <= AIM_RATIO ? 'met' : 'NOT met'}`,
          `≤ ${AIM_PER_BATCH_MS} ms: ${perBatch <= AIM_PER_BATCH_MS ? 'met' : 'NOT met'}`,
          '',
          '',
        ],
      ],
    ),
  );

  console.log('\nper batch, median over rounds (runbook: batch start → end on the workflow clock)\n');
  console.log(
    renderTable(
      ['batch', 'plain', 'plain polls', 'runbook', 'runbook poll activities', 'difference'],
      Array.from({ length: BATCHES }, (_, k) => {
        const p = median(plain.map((x) => x.batches[k]!.ms));
        const r = median(runbook.map((x) => x.batchMs[k]!));
        return [
          k + 1,
          `${r0(p)} ms`,
          median(plain.map((x) => x.batches[k]!.polls)),
          `${r0(r)} ms`,
          median(runbook.map((x) => x.history.pollsPerBatch[k] ?? 0)),
          `${r0(r - p)} ms`,
        ];
      }),
    ),
  );
  const quick = (xs: number[]) => xs.filter((ms) => ms < POLL_MS).length;
  console.log(
    `batches that took less than one poll interval (${POLL_MS} ms): ` +
      `plain ${quick(plain.flatMap((x) => x.batches.map((b) => b.ms)))}, ` +
      `runbook ${quick(runbook.flatMap((x) => x.batchMs))} of ${BATCHES * ROUNDS}`,
  );
  const batchSum = median(runbook.map((x) => x.batchMs.reduce((a, b) => a + b, 0)));
  const wall = median(runbook.map((x) => x.history.wallMs));
  console.log(
    `runbook, median: client start → result ${r0(mr)} ms; workflow started → completed ${r0(wall)} ms ` +
      `(server clock); sum of its batches ${r0(batchSum)} ms; so ${r0(wall - batchSum)} ms before the ` +
      `first and after the last batch, ${r0(mr - wall)} ms for the client's start and result calls.` +
      `\nplain, median: InvokeCommand ${r0(median(plain.flatMap((x) => x.batches.map((b) => b.invokeMs))))} ms per call.`,
  );

  // Critical path of the runbook runs, from their histories.
  const labels = [...new Set(runbook.flatMap((x) => [...x.history.byLabel.keys()]))];
  const rows = labels
    .map((l) => {
      const per = runbook.map((x) => x.history.byLabel.get(l) ?? 0);
      return { l, m: median(per) };
    })
    .sort((a, b) => b.m - a.m);
  console.log('\nrunbook critical path (median per run, from the workflow history)\n');
  console.log(
    renderTable(
      ['state of the run', 'ms per run', 'ms per batch'],
      rows.map(({ l, m }) => [l, r0(m), (m / BATCHES).toFixed(1)]),
    ),
  );
  const acts = new Map<string, { n: number[]; q: number[]; run: number[] }>();
  for (const x of runbook) {
    const per = new Map<string, { n: number; q: number; run: number }>();
    for (const a of x.history.activities) {
      const c = per.get(a.type) ?? { n: 0, q: 0, run: 0 };
      c.n++;
      c.q += a.started - a.scheduled;
      c.run += a.closed - a.started;
      per.set(a.type, c);
    }
    for (const [t, c] of per) {
      const e = acts.get(t) ?? { n: [], q: [], run: [] };
      e.n.push(c.n);
      e.q.push(c.q / c.n);
      e.run.push(c.run / c.n);
      acts.set(t, e);
    }
  }
  const wft = runbook.map((x) => x.history.workflowTasks);
  // One batch, step by step: what the run waits for between two batches.
  const acts1 = (type: string) =>
    runbook.flatMap((x) =>
      x.history.activities.filter((a) => a.type === type).map((a) => a.closed - a.started),
    );
  const wftAfter = (type: string) =>
    runbook.flatMap((x) => (x.history.workflowTasksAfter.get(type) ?? []).map((w) => w.queued + w.running));
  const steps: [string, number[]][] = [
    [
      `activity invokeChunk (InvokeCommand, then its tasks watched up to ${POLL_MS} ms)`,
      acts1('invokeChunk'),
    ],
    ['workflow task after it (queued + running)', wftAfter('invokeChunk')],
    [`activity pollTasks (${POLL_MS} ms per wait included)`, acts1('pollTasks')],
    ['workflow task after it (queued + running)', wftAfter('pollTasks')],
  ];
  console.log('\none batch of the runbook, step by step (median over all batches)\n');
  console.log(
    renderTable(
      ['step', 'ms', 'samples'],
      steps.map(([what, xs]) => [what, median(xs).toFixed(1), xs.length]),
    ),
  );
  console.log(
    renderTable(
      ['per run (median)', 'count', 'queued, mean', 'running, mean'],
      [
        ...[...acts].map(([t, e]) => [
          `activity ${t}`,
          median(e.n),
          `${median(e.q).toFixed(1)} ms`,
          `${median(e.run).toFixed(1)} ms`,
        ]),
        [
          'workflow task',
          median(wft.map((w) => w.count)),
          `${median(wft.map((w) => w.queuedMs / w.count)).toFixed(1)} ms`,
          `${median(wft.map((w) => w.runMs / w.count)).toFixed(1)} ms`,
        ],
      ],
    ),
  );

  // TAT API calls per round, as tatd logged them.
  const actions = [...new Set([...plain, ...runbook].flatMap((x) => [...x.calls.keys()]))].sort();
  console.log('\nTAT API calls per round (median; tatd-side ms in total)\n');
  console.log(
    renderTable(
      ['action', 'plain: calls', 'plain: ms', 'runbook: calls', 'runbook: ms'],
      actions.map((a) => {
        const f = (xs: { calls: Calls }[], k: 'n' | 'ms') => median(xs.map((x) => x.calls.get(a)?.[k] ?? 0));
        return [a, f(plain, 'n'), f(plain, 'ms'), f(runbook, 'n'), f(runbook, 'ms')];
      }),
    ),
  );
  const perTarget = (xs: { calls: Calls }[]) =>
    (median(xs.map((x) => [...x.calls.values()].reduce((n, c) => n + c.n, 0))) / AGENTS).toFixed(2);
  console.log(
    `TAT API calls per target (all actions, median round / ${AGENTS} targets): ` +
      `plain ${perTarget(plain)}, runbook ${perTarget(runbook)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
