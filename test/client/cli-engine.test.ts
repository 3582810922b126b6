// The runbook CLI as a user runs it: `bin/tatflow run/preview/status/approve/abort` as child
// processes against a real Temporal dev server, worker, tatd and 5 agents.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ACCOUNT, lines, startEngine, type Engine } from '../helpers/engine.js';
import { waitFor } from '../../testkit/wait.js';
import { sharedTemporal, stopSharedTemporal } from '../../testkit/temporal.js';

const BIN = fileURLToPath(new URL('../../../bin/tatflow', import.meta.url));
const STUCK = fileURLToPath(new URL('../../../test/fixtures/runbooks/stuck.ts', import.meta.url));
let e: Engine;
let address: string;

before(async () => {
  e = await startEngine({ taskQueue: 'cli', agents: 5, userRunbooks: [STUCK] });
  address = (await sharedTemporal()).address;
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `bin/tatflow <args>` with the engine's settings in the environment. */
function tatflow(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: address,
        TATFLOW_TASK_QUEUE: 'cli',
        TATFLOW_TAT_ENDPOINT: e.tatd.url,
        TENCENTCLOUD_SECRET_ID: ACCOUNT.secretId,
        TENCENTCLOUD_SECRET_KEY: ACCOUNT.secretKey,
        TATFLOW_RUNBOOKS: STUCK,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
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
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /on 5 target\(s\) in ap-guangzhou; 5 online/);
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
