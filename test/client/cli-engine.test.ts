// The runbook CLI as a user runs it: `bin/tatflow run/preview/status/approve/abort` as child
// processes against a real Temporal dev server, worker, tatd and 5 agents; `run --follow` also in a
// real terminal (a tmux pane) with the screen read back, a runbook file's run on its own queue, and
// a stuck run (its workflow task failing) reported and ended.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ACCOUNT, lines, startEngine, type Engine } from '../helpers/engine.js';
import { BIN, tatflowCli, type Ran } from '../helpers/cli.js';
import { openScreen } from '../helpers/tmux.js';
import { waitFor } from '../../testkit/wait.js';
import { sharedTemporal, stopSharedTemporal } from '../../testkit/temporal.js';
import { taskUser } from '../../testkit/task-user.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));
const STUCK = fileURLToPath(new URL('../../../test/fixtures/runbooks/stuck.ts', import.meta.url));
let e: Engine;
let address: string;

before(async () => {
  e = await startEngine({ taskQueue: 'cli', agents: 5, userRunbooks: [EXAMPLE, STUCK] });
  address = (await sharedTemporal()).address;
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

/** The engine's settings, as a user would export them. */
const engineEnv = (): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: address,
  TATFLOW_TASK_QUEUE: 'cli',
  TATFLOW_TAT_ENDPOINT: e.tatd.url,
  TENCENTCLOUD_SECRET_ID: ACCOUNT.secretId,
  TENCENTCLOUD_SECRET_KEY: ACCOUNT.secretKey,
});

/** Runs `bin/tatflow <args>` with the engine's settings in the environment. */
function tatflow(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return tatflowCli(args, { env: { ...engineEnv(), ...env } });
}

test('run --follow shows the batches and exits 0 on success; status shows the run', async () => {
  const r = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'cli-ok',
    '--targets',
    e.ids.join(','),
    '--batches',
    '1,2',
    '--command',
    'echo hello from $TEST_INSTANCE',
    '--poll-interval',
    '200',
    '--follow',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /run cli-ok started/);
  assert.match(r.out, /batch 3: 2\/2 done, 2 ok, 0 failed \(healthy\)/);
  assert.match(r.out, /run cli-ok succeeded/);
  const s = await tatflow(['status', 'cli-ok']);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /│ status\s+│ succeeded/);
  for (const id of e.ids) assert.match(s.out, new RegExp(`${id}.*succeeded`));
});

test('a failing run exits 1 and prints the reason and the output tail of the failed target', async () => {
  const r = await tatflow([
    'run',
    'rollingCommand',
    '--targets',
    e.ids.join(','),
    '--batches',
    '2',
    '--command',
    'echo "no space left on device"; exit 7',
    '--poll-interval',
    '200',
    '--follow',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.out, /✗ ins-\w+ failed \(exit 7\)/);
  assert.match(r.out, /no space left on device/);
  assert.match(r.out, /failed: error budget exceeded: 1 failed > maxErrors 0 in batch 1/);
});

test('approve at a gate through the CLI; a second approve is refused with the reason', async () => {
  const started = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'cli-gate',
    '--targets',
    e.ids.join(','),
    '--command',
    'true',
    '--approve-before-start',
  ]);
  assert.equal(started.code, 0, started.err);
  const h = e.client.workflow.getHandle('cli-gate');
  await e.waitProgress(h, (p) => !!p.gate, 'the gate');
  const ok = await tatflow(['approve', 'cli-gate', '--by', 'erin', '--comment', 'go']);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /cli-gate: approved gate "before start"/);
  const again = await tatflow(['approve', 'cli-gate', '--by', 'erin']);
  assert.equal(again.code, 1);
  assert.match(again.err, /approve refused: no approval gate is waiting|no run|already completed/);
  await h.result();
});

test('preview prints the plan without running anything', async () => {
  const r = await tatflow([
    'preview',
    'rollingCommand',
    '--targets',
    e.ids.join(','),
    '--batches',
    '1,50%',
    '--command',
    'true',
    '--max-errors',
    '20%',
    '--maintenance-window',
    '1h30m',
    '--maintenance-cutoff',
    '10m',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /on 5 target\(s\) in ap-guangzhou; 5 online/);
  assert.match(r.out, /maintenance window: 1h30m from the run's start; no batch starts in its last 10m/);
  assert.match(r.out, /│ 3\s+│ 2\s+│/);
  assert.match(r.out, /breaches at 2 error\(s\) \(maxErrors 1\)/);
});

test('bad flags and unknown runs get clear errors', async () => {
  const cases: [string[], RegExp][] = [
    [['run', 'rollingCommand', '--targets', 'i-123', '--command', 'x'], /--targets: not instance ids: i-123/],
    [['run', 'rollingCommand', '--online', '--batches', '1,,2', '--command', 'x'], /--batches: empty size/],
    [
      ['run', 'rollingCommand', '--online', '--batches', '101%', '--command', 'x'],
      /--batches: a percentage must be in \(0, 100\]/,
    ],
    [['run', 'rollingCommand', '--online'], /rollingCommand needs --command or --command-file/],
    [
      ['run', 'rollingCommand', '--online', '--window', '5', '--batches', '1', '--command', 'x'],
      /at most one of --batches, --window and --ramp-up/,
    ],
    [['run', 'rollingAppUpdate', '--online', '--probe', 'x'], /needs --app-version, --deploy/],
    [
      ['run', 'rollingCommand', '--online', '--select', 'online', '--command', 'x'],
      /exactly one of --targets, --online, --managed-name or --select/,
    ],
    [
      ['run', 'rollingCommand', '--select', 'os=mac', '--command', 'x'],
      /--select "os=mac": term "os=mac": os is/,
    ],
    [['status', 'no-such-run'], /no run with id "no-such-run"/],
    [['pause', 'no-such-run'], /no run with id "no-such-run"/],
  ];
  for (const [args, message] of cases) {
    const r = await tatflow(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.err, message, args.join(' '));
  }
});

test('a rollback with {{version}} on rollingCommand runs as written (it takes no parameters), and preview says so', async () => {
  const log = `${e.work}/rollback-literal.log`;
  const rollback = `echo "back to {{version}}" >> ${log}`;
  const p = await tatflow([
    'preview',
    'rollingCommand',
    '--targets',
    e.ids.join(','),
    '--command',
    'exit 3',
    '--rollback',
    rollback,
  ]);
  assert.equal(p.code, 0, p.err);
  assert.match(
    p.out,
    /runs as written: the rollback takes no custom parameters, so \{\{version\}\} reaches the machine as it is/,
  );
  const r = await tatflow([
    'run',
    'rollingCommand',
    '--targets',
    e.ids.join(','),
    '--batches',
    '1',
    '--command',
    'exit 3',
    '--rollback',
    rollback,
    '--poll-interval',
    '200',
    '--follow',
  ]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /failed: error budget exceeded: 1 failed > maxErrors 0 in batch 1/);
  assert.deepEqual(lines(log), ['back to {{version}}']);
});

test('a stuck run (its workflow task keeps failing): status and --follow say why, abort terminates it', async () => {
  const id = `cli-stuck-${Date.now()}`;
  const h = await e.client.workflow.start('brokenWorkflow', { taskQueue: 'cli', workflowId: id, args: [] });
  await waitFor(async () => ((await h.describe()).raw.pendingWorkflowTask?.attempt ?? 0) >= 2, {
    what: 'the workflow task to fail twice',
  });
  const why =
    /is stuck: its workflow task failed \d+ time\(s\) in a row, last with: .*TypeError: cannot read the state of this run/;
  const s = await tatflow(['status', id]);
  assert.equal(s.code, 1);
  assert.match(s.err, why);
  assert.match(s.err, new RegExp(`tatflow abort ${id}\` ends it`));
  const f = await tatflow(['status', id, '--follow']);
  assert.equal(f.code, 1);
  assert.match(f.err, why);
  const approve = await tatflow(['approve', id]);
  assert.equal(approve.code, 1);
  assert.match(approve.err, why);
  const a = await tatflow(['abort', id, '--by', 'erin', '--comment', 'stuck']);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /terminated, since its workflow task kept failing/);
  const d = await h.describe();
  assert.equal(d.status.name, 'TERMINATED');
});

test('run --follow in a terminal: each line once, every batch bar kept with its final count', async () => {
  const screen = openScreen(
    [
      process.execPath,
      BIN,
      'run',
      'rollingCommand',
      '--id',
      'cli-tty',
      '--select',
      'kind=ins',
      '--batches',
      '1,2',
      '--command',
      'echo hello from $TEST_INSTANCE',
      '--poll-interval',
      '200',
      '--follow',
    ],
    // `run` calls only Temporal: no TAT credentials or endpoint needed.
    { columns: 120, rows: 50, env: { TEMPORAL_ADDRESS: address, TATFLOW_TASK_QUEUE: 'cli' } },
  );
  try {
    const lines = await screen.waitFor(/^run cli-tty (succeeded|failed)/, 'the run to end', 60_000);
    const text = lines.join('\n');
    assert.ok(lines.includes('run cli-tty succeeded'), text);
    const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
    // Batches 1, 2, 2 of the 5 targets: one bar each, final, no stale 0/2 beside a 2/2.
    assert.equal(count(/^ batch +1 \[█{24}\] 1\/1 · 1 ok 0 failed · healthy$/), 1, text);
    assert.equal(count(/^ batch +2 \[█{24}\] 2\/2 · 2 ok 0 failed · healthy$/), 1, text);
    assert.equal(count(/^ batch +3 \[█{24}\] 2\/2 · 2 ok 0 failed · healthy$/), 1, text);
    assert.equal(count(/^ batch /), 3, text);
    // Every status line once.
    const heads = lines.filter((l) => l.startsWith('• '));
    assert.deepEqual(heads, [...new Set(heads)], text);
    assert.ok(heads.includes('• succeeded · batch 3/3 · errors 0/0 allowed'), text);
  } finally {
    screen.stop();
  }
});

test("a runbook file's run goes to the file's own task queue, which the worker polls", async () => {
  const logs = taskUser().dir('cli-logs');
  writeFileSync(join(logs, 'app.log'), 'line\n');
  taskUser().own(logs);
  const r = await tatflow([
    'run',
    'rotateLogs',
    '--runbooks',
    EXAMPLE,
    '--id',
    'cli-rotate',
    '--targets',
    e.ids.slice(0, 2).join(','),
    '--dir',
    logs,
    '--poll-interval',
    '200',
    '--follow',
  ]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /run cli-rotate succeeded/);
  assert.equal((await e.client.workflow.getHandle('cli-rotate').describe()).taskQueue, 'cli-rotate-logs');
  // The built-in ones stay on the default queue.
  const plain = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'cli-plain',
    '--targets',
    e.ids[0]!,
    '--command',
    'true',
  ]);
  assert.equal(plain.code, 0, plain.err);
  assert.equal((await e.client.workflow.getHandle('cli-plain').describe()).taskQueue, 'cli');
  await e.client.workflow.getHandle('cli-plain').result();
});

test('a run whose maintenance window closes exits 0, saying what was left and why', async () => {
  // Batch 1 takes 3 s; the window is 4 s from the start: no second batch fits.
  const r = await tatflow([
    'run',
    'rollingCommand',
    '--id',
    'cli-window',
    '--targets',
    e.ids.join(','),
    '--batches',
    '1',
    '--command',
    'sleep 3',
    '--maintenance-window',
    '4s',
    '--poll-interval',
    '200',
    '--follow',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /run cli-window ended with its maintenance window: the maintenance window ends at .*: [45] of 5 target\(s\) not started/,
  );
  const s = await tatflow(['status', 'cli-window']);
  assert.match(s.out, /│ status\s+│ window closed/);
  assert.match(s.out, /not started: the maintenance window ends at/);
});
