// Seeing runs and their outputs, and status that tells the truth, as a user runs the CLI:
// `bin/tatflow runs|logs|status|run --json`, `run --follow` on a rejected run and with a mistyped
// instance id, `preview` with one, against a real Temporal dev server, worker, tatd and 4 agents.
// Every --json answer is checked against its schema (client/json-output.ts). The last test stops
// the worker (and tatd) and lists the runs again: `runs` reads Temporal's visibility only.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { z } from 'zod';
import { LogsJson, LogTaskJson, PreviewJson, RunsJson, StatusJson } from '../../client/json-output.js';
import { sharedTemporal, stopSharedTemporal } from '../../testkit/temporal.js';
import { waitFor } from '../../testkit/wait.js';
import { ACCOUNT, startEngine, type Engine } from '../helpers/engine.js';
import { tatflowCli, type Ran } from '../helpers/cli.js';

let e: Engine;
let address: string;
let stopped = false;

before(async () => {
  e = await startEngine({ taskQueue: 'cli-runs', agents: 4 });
  address = (await sharedTemporal()).address;
});
after(async () => {
  if (!stopped) await e?.stop();
  await stopSharedTemporal();
});

const engineEnv = (): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: address,
  TATFLOW_TASK_QUEUE: 'cli-runs',
  TATFLOW_TAT_ENDPOINT: e.tatd.url,
  TENCENTCLOUD_SECRET_ID: ACCOUNT.secretId,
  TENCENTCLOUD_SECRET_KEY: ACCOUNT.secretKey,
});

function tatflow(args: string[]): Promise<Ran> {
  return tatflowCli(args, { env: engineEnv(), timeoutMs: 120_000 });
}

/** The --json answer, checked against its schema (strict: no field the docs do not describe). */
function json<S extends z.ZodType>(schema: S, r: Ran, code = 0): z.infer<S> {
  assert.equal(r.code, code, `${r.err}${r.out}`);
  const parsed = schema.safeParse(JSON.parse(r.out));
  assert.ok(parsed.success, `${parsed.error?.message}\n${r.out}`);
  return parsed.data;
}

/** `tatflow runs --json …`, waiting until `pred` holds (visibility is eventually consistent). */
async function runsUntil(args: string[], pred: (r: RunsJson) => boolean, what: string): Promise<RunsJson> {
  return waitFor(
    async () => {
      const r = json(RunsJson, await tatflow(['runs', ...args, '--json']));
      return pred(r) ? r : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, what },
  );
}

const track = (id: string, runbook = 'rollingCommand') => e.track(runbook, e.client.workflow.getHandle(id));

test('run --json prints the final state; runs lists it with who started it, status and progress', async () => {
  const r = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'runs-ok',
    '--by',
    'erin',
    '--targets',
    e.ids.join(','),
    '--batches',
    '1,3',
    '--command',
    'echo hello from $TEST_INSTANCE',
    '--poll-interval',
    '200',
    '--json',
  ]);
  track('runs-ok');
  const s = json(StatusJson, r);
  assert.equal(s.status, 'succeeded');
  assert.equal(s.runbook, 'rollingCommand');
  assert.deepEqual(s.counts, {
    targets: 4,
    succeeded: 4,
    failed: 0,
    cancelled: 0,
    skipped: 0,
    pending: 0,
    running: 0,
  });
  assert.deepEqual(
    s.batches.map((b) => [b.batch, b.targets.length, b.status]),
    [
      [1, 1, 'healthy'],
      [2, 3, 'healthy'],
    ],
  );
  const st = json(StatusJson, await tatflow(['status', 'runs-ok', '--json']));
  assert.deepEqual(st, s);

  const listed = await runsUntil(
    ['--runbook', 'rollingCommand', '--since', '1h'],
    (l) => l.runs.some((x) => x.id === 'runs-ok' && x.status === 'succeeded'),
    'runs-ok listed as succeeded',
  );
  const row = listed.runs.find((x) => x.id === 'runs-ok')!;
  assert.equal(row.startedBy, 'erin');
  assert.equal(row.account, ACCOUNT.secretId);
  assert.deepEqual([row.targets, row.done, row.failed], [4, 4, 0]);
  assert.equal(row.temporalStatus, 'COMPLETED');
  assert.ok(row.endedAt);
  assert.deepEqual(listed.filters, { status: [], runbook: 'rollingCommand', since: '1h' });
  // Filters: another runbook, or another status, leave it out.
  const other = json(RunsJson, await tatflow(['runs', '--runbook', 'patchFleet', '--json']));
  assert.ok(!other.runs.some((x) => x.id === 'runs-ok'));
  const failedOnly = json(RunsJson, await tatflow(['runs', '--status', 'failed,aborted', '--json']));
  assert.ok(failedOnly.runs.every((x) => x.status === 'failed' || x.status === 'aborted'));
  assert.ok(!failedOnly.runs.some((x) => x.id === 'runs-ok'));
  // The table.
  const text = await tatflow(['runs', '--since', '1h']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /│ run\s+│ runbook\s+│ status\s+│ started by\s+│ progress\s+│ age/);
  assert.match(text.out, /runs-ok\s+│ rollingCommand\s+│ succeeded\s+│ erin\s+│ 4\/4\s+│/);
});

test('logs: the output of every target, successful ones too, by instance and step', async () => {
  const all = json(LogsJson, await tatflow(['logs', 'runs-ok', '--json']));
  assert.equal(all.region, 'ap-guangzhou');
  assert.deepEqual(all.tasks.map((t) => t.instance).sort(), [...e.ids].sort());
  for (const t of all.tasks) {
    assert.equal(t.step, 'command');
    assert.equal(t.status, 'SUCCESS');
    assert.equal(t.exitCode, 0);
    assert.equal(t.output, `hello from ${t.instance}\n`);
  }
  const one = json(LogsJson, await tatflow(['logs', 'runs-ok', e.ids[2]!, '--step', 'command', '--json']));
  assert.deepEqual(
    one.tasks.map((t) => t.instance),
    [e.ids[2]],
  );
  const none = json(LogsJson, await tatflow(['logs', 'runs-ok', '--step', 'health', '--json']));
  assert.deepEqual(none.tasks, []);
  const text = await tatflow(['logs', 'runs-ok', e.ids[0]!]);
  assert.equal(text.code, 0, text.err);
  assert.match(
    text.out,
    new RegExp(`── ${e.ids[0]} · command · SUCCESS, exit 0 · invt-\\w+\\n  hello from ${e.ids[0]}`),
  );
});

test('logs --follow prints each task as it ends, until the run ends', async () => {
  const started = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'runs-follow',
    '--targets',
    e.ids.join(','),
    '--batches',
    '2',
    '--command',
    'sleep 1; echo "step done on $TEST_INSTANCE"',
    '--poll-interval',
    '200',
  ]);
  assert.equal(started.code, 0, started.err);
  track('runs-follow');
  const r = await tatflow(['logs', 'runs-follow', '--follow', '--json']);
  assert.equal(r.code, 0, r.err);
  // It returned because the run ended: its every task is there, one JSON object per line.
  const desc = await e.client.workflow.getHandle('runs-follow').describe();
  assert.equal(desc.status.name, 'COMPLETED');
  const tasks = r.out
    .trim()
    .split('\n')
    .map((l) => LogTaskJson.parse(JSON.parse(l)));
  assert.deepEqual(tasks.map((t) => t.instance).sort(), [...e.ids].sort());
  for (const t of tasks) assert.equal(t.output, `step done on ${t.instance}\n`);
});

test('a rejected run ends aborted (who and why), exit 3; a pause shows its comment', async () => {
  const started = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'runs-reject',
    '--targets',
    e.ids.join(','),
    '--command',
    'true',
    '--approve-before-start',
  ]);
  assert.equal(started.code, 0, started.err);
  track('runs-reject');
  const h = e.client.workflow.getHandle('runs-reject');
  await e.waitProgress(h, (p) => !!p.gate, 'the gate');
  const waiting = await runsUntil(
    ['--status', 'waiting'],
    (l) => l.runs.some((x) => x.id === 'runs-reject'),
    'runs-reject listed as waiting',
  );
  assert.equal(waiting.runs.find((x) => x.id === 'runs-reject')!.status, 'waiting for approval');
  const paused = await tatflow(['pause', 'runs-reject', '--by', 'erin', '--comment', 'lunch first']);
  assert.equal(paused.code, 0, paused.err);
  const st = await tatflow(['status', 'runs-reject']);
  assert.match(st.out, /paused by erin: lunch first/);
  assert.equal(
    json(StatusJson, await tatflow(['status', 'runs-reject', '--json'])).paused?.comment,
    'lunch first',
  );
  // Following it while someone rejects the gate.
  const following = tatflow(['status', 'runs-reject', '--follow']);
  const rejected = await tatflow(['reject', 'runs-reject', '--by', 'erin', '--comment', 'wrong build']);
  assert.equal(rejected.code, 0, rejected.err);
  const f = await following;
  assert.match(f.out, /│ status\s+│ aborted/);
  assert.match(f.out, /│ aborted\s+│ by erin: wrong build/);
  const s = json(StatusJson, await tatflow(['status', 'runs-reject', '--json']));
  assert.equal(s.status, 'aborted');
  assert.equal(s.reason, 'aborted by erin: wrong build');
  assert.deepEqual([s.aborted?.by, s.aborted?.comment], ['erin', 'wrong build']);
  await runsUntil(
    ['--status', 'aborted'],
    (l) => l.runs.some((x) => x.id === 'runs-reject'),
    'runs-reject listed as aborted',
  );
  // `run --follow` of a rejected run exits 3 and says who and why.
  const run = tatflow([
    'run',
    'rollingCommand',
    '--id',
    'runs-reject-2',
    '--targets',
    e.ids[0]!,
    '--command',
    'true',
    '--approve-before-start',
    '--follow',
  ]);
  await e.waitProgress(e.client.workflow.getHandle('runs-reject-2'), (p) => !!p.gate, 'the gate');
  await tatflow(['reject', 'runs-reject-2', '--by', 'fred', '--comment', 'not today']);
  const r = await run;
  assert.equal(r.code, 3, r.err + r.out);
  assert.match(r.out, /run runs-reject-2 aborted: aborted by fred: not today/);
});

test('an error budget breach: targets never health-checked are cancelled, not failed; tables agree', async () => {
  const [bad, good] = [e.ids[0]!, e.ids[1]!];
  const r = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'runs-breach',
    '--targets',
    `${bad},${good}`,
    '--batches',
    '2',
    '--command',
    `if [ "$TEST_INSTANCE" = "${bad}" ]; then exit 4; fi; sleep 1`,
    '--health-check',
    'true',
    '--poll-interval',
    '200',
    '--follow',
  ]);
  track('runs-breach');
  assert.equal(r.code, 1, r.err + r.out);
  assert.match(r.out, /run runs-breach failed: error budget exceeded: 1 failed > maxErrors 0/);
  const s = json(StatusJson, await tatflow(['status', 'runs-breach', '--json']));
  const t = (id: string) => s.targets.find((x) => x.id === id)!;
  assert.deepEqual([t(bad).outcome, t(bad).exitCode], ['failed', 4]);
  assert.equal(t(good).outcome, 'cancelled');
  assert.equal(t(good).unhealthy, false);
  assert.match(t(good).reason ?? '', /^not health-checked: the run stopped \(error budget exceeded/);
  assert.equal(s.errors, 1);
  assert.deepEqual([s.counts.failed, s.counts.cancelled], [1, 1]);
  // The table's failed column, the bars and the budget line say the same.
  const st = await tatflow(['status', 'runs-breach']);
  assert.match(st.out, /│ batch │ targets │ ok │ failed │ cancelled │ status │/);
  assert.match(st.out, /│ 1\s+│ 2\s+│ 0\s+│ 1\s+│ 1\s+│ failed/);
  assert.match(st.out, /errors 1\/0 allowed/);
  // No empty header row above the run's table.
  assert.ok(!/^│\s+│\s+│$/m.test(st.out), st.out);
  assert.match(st.out.split('\n')[1]!, /│ run\s+│ runs-breach/);
});

test('a mistyped instance id is an error naming it, in preview and run; an offline one stays a skip', async () => {
  const typo = 'ins-typo1234';
  const p = await tatflow([
    'preview',
    'rollingCommand',
    '--targets',
    `${e.ids[0]},${typo}`,
    '--command',
    'x',
    '--json',
  ]);
  const plan = json(PreviewJson, p, 1);
  assert.match(
    plan.refused ?? '',
    new RegExp(`unknown instance id\\(s\\): ${typo}: the TAT endpoint does not know them`),
  );
  const text = await tatflow([
    'preview',
    'rollingCommand',
    '--targets',
    `${e.ids[0]},${typo}`,
    '--command',
    'x',
  ]);
  assert.equal(text.code, 1);
  assert.match(text.out, new RegExp(`the run would refuse to start: unknown instance id\\(s\\): ${typo}`));
  const r = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'runs-typo',
    '--targets',
    `${e.ids[0]},${typo}`,
    '--command',
    'true',
    '--follow',
  ]);
  track('runs-typo');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`run runs-typo failed: unknown instance id\\(s\\): ${typo}`));
  await runsUntil(
    ['--status', 'failed'],
    (l) => l.runs.some((x) => x.id === 'runs-typo'),
    'runs-typo listed as failed (it failed before it published a status)',
  );
});

test('runs started by a schedule are listed, started by the schedule', async () => {
  const made = await tatflow([
    'schedule',
    'create',
    'runs-nightly',
    'rollingCommand',
    '--targets',
    e.ids[0]!,
    '--command',
    'true',
    '--cron',
    '30 2 * * *',
  ]);
  assert.equal(made.code, 0, made.err + made.out);
  try {
    const fired = await tatflow(['schedule', 'trigger', 'runs-nightly']);
    assert.equal(fired.code, 0, fired.err);
    const l = await runsUntil(
      ['--runbook', 'rollingCommand', '--since', '1h'],
      (x) => x.runs.some((r) => r.startedBy === 'schedule tatflow-runs-nightly' && r.status === 'succeeded'),
      'the scheduled run listed, succeeded',
    );
    const run = l.runs.find((r) => r.startedBy === 'schedule tatflow-runs-nightly')!;
    assert.deepEqual([run.targets, run.done, run.account], [1, 1, ACCOUNT.secretId]);
  } finally {
    await tatflow(['schedule', 'delete', 'runs-nightly']);
  }
});

test('runs needs no worker: with the worker and tatd stopped the runs are still listed', async () => {
  stopped = true;
  await e.stop();
  const l = json(RunsJson, await tatflow(['runs', '--since', '1h', '--json']));
  const ids = l.runs.map((x) => x.id);
  for (const id of ['runs-ok', 'runs-follow', 'runs-reject', 'runs-breach', 'runs-typo'])
    assert.ok(ids.includes(id), `${id} listed: ${ids.join(', ')}`);
  assert.equal(l.runs.find((x) => x.id === 'runs-ok')!.status, 'succeeded');
  const bad = await tatflow(['runs', '--status', 'done']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /--status: "done" is not a run status/);
});
