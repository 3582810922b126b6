// The CLI reads the runbook registry: `run --help` lists the runbooks with their flags, a runbook
// file given with --runbooks (or TATFLOW_RUNBOOKS) adds its runbooks and flags, and an unknown
// runbook or bad parameters are refused before anything connects. `bin/tatflow` as a child
// process, in an empty directory (no `tatflow dev` state), with no Temporal or tatd running.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const BIN = fileURLToPath(new URL('../../../bin/tatflow', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'tatflow-cli-registry-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

function tatflow(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      TENCENTCLOUD_SECRET_ID: 'AKIDcli',
      TENCENTCLOUD_SECRET_KEY: 'cli-secret',
      // Nothing listens here: a command that got as far as connecting would fail differently.
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      ...env,
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('run --help lists the built-in runbooks, their descriptions and flags', () => {
  const r = tatflow(['run', '--help']);
  assert.equal(r.code, 0, r.err);
  for (const s of [
    'runbooks:',
    'rollingCommand:',
    'patchFleet:',
    'rollingAppUpdate:',
    '--app-version',
    '--packages',
  ])
    assert.ok(r.out.includes(s), `help shows ${s}`);
  assert.match(r.out, /--health-retries <n>\s+patchFleet, rollingAppUpdate, rollingCommand:/);
});

test('a runbook file given with --runbooks or TATFLOW_RUNBOOKS adds its runbooks and flags', () => {
  for (const [args, env] of [
    [['run', '--runbooks', EXAMPLE, '--help'], {}],
    [['run', '--help'], { TATFLOW_RUNBOOKS: EXAMPLE }],
  ] as const) {
    const r = tatflow([...args], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /rotateLogs \(.*rotate-logs\.ts\): Compresses old/);
    assert.match(r.out, /--dir <path>\s+rotateLogs: directory to rotate/);
  }
});

test('an unknown runbook, a flag it does not take, or bad parameters are refused before connecting', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['run', 'rotateLogs', '--online'], {}, /unknown runbook "rotateLogs".*--runbooks <file>/],
    [
      ['run', 'rollingComand', '--online', '--command', 'x'],
      {},
      /unknown runbook "rollingComand": the runbooks are patchFleet, rollingAppUpdate, rollingCommand;/,
    ],
    [
      ['run', 'rotateLogs', '--online', '--dir', '/x', '--param', 'days=abc'],
      { TATFLOW_RUNBOOKS: EXAMPLE },
      /parameter days: .*expected number, received string/,
    ],
    [
      [
        'run',
        'rollingCommand',
        '--online',
        '--command',
        'echo {{x}}',
        '--params',
        '{"parameters":{"y":"1"}}',
      ],
      {},
      /step 1 "command": \{\{x\}\} has no value \(the script uses custom parameters and gets only \{\{y\}\}\)/,
    ],
    [
      [
        'preview',
        'rollingAppUpdate',
        '--online',
        '--app-version',
        '2',
        '--probe',
        'cat v',
        '--deploy',
        'deploy {{versoin}}',
      ],
      {},
      /rollingAppUpdate: invalid runbook definition: step 1 "deploy": \{\{versoin\}\} has no value/,
    ],
    [['run', 'rotateLogs', '--online'], { TATFLOW_RUNBOOKS: EXAMPLE }, /rotateLogs needs --dir/],
    [
      ['run', 'rotateLogs', '--online', '--dir', '/x', '--param', 'days=0'],
      { TATFLOW_RUNBOOKS: EXAMPLE },
      /parameter days/,
    ],
    [
      ['run', 'rollingCommand', '--online', '--command', 'x', '--dir', '/x'],
      { TATFLOW_RUNBOOKS: EXAMPLE },
      /--dir: rollingCommand does not take it/,
    ],
    [
      ['preview', 'rollingCommand', '--online', '--probe', 'x', '--command', 'y'],
      {},
      /--probe: rollingCommand does not take it/,
    ],
    [
      ['run', 'rollingCommand', '--runbooks', join(cwd, 'nope.ts'), '--online'],
      {},
      /runbook file .*nope\.ts: not found/,
    ],
  ];
  for (const [args, env, message] of cases) {
    const r = tatflow(args, env);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}`);
    assert.match(r.err, message, args.join(' '));
  }
});

test('good parameters get as far as connecting to Temporal', () => {
  const r = tatflow(['run', 'rotateLogs', '--online', '--dir', '/x', '--param', 'days=7'], {
    TATFLOW_RUNBOOKS: EXAMPLE,
  });
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot reach Temporal at 127\.0\.0\.1:1/);
});
