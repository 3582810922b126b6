// `tatflow run` flags into the runbook input (client/run-options.ts, client/runbook-params.ts): the
// rollout options, the parameters of the built-in runbooks from the flags the registry declares,
// --param/--params, the runbook's schema, and an error naming the flag for every bad one.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import {
  rolloutOptions,
  runbookInput,
  runbookParams as paramsIn,
  runOptions,
  type RunFlags,
} from '../../client/run-options.js';
import { loadRunbooks } from '../../worker/runbook-files.js';
import { defineRunbook } from '../../workflows/engine/define.js';
import { builtInRunbooks, runbooksIn, type RunbookRegistry } from '../../workflows/registry.js';

/** The built-in runbooks and two that declare no parameters (any are accepted), as old files do. */
const registry: RunbookRegistry = builtInRunbooks.with(
  runbooksIn(
    {
      custom: defineRunbook(() => ({
        steps: [{ kind: 'command' as const, name: 'x', command: { content: 'true' } }],
      })),
      myRunbook: defineRunbook(() => ({
        steps: [{ kind: 'command' as const, name: 'x', command: { content: 'true' } }],
      })),
    },
    'test',
  ),
);
const runbookParams = (runbook: string, f: RunFlags) => paramsIn(runbook, f, registry);

const REGION = 'ap-guangzhou';
const T: RunFlags = { targets: 'ins-a' };

const dir = mkdtempSync(join(tmpdir(), 'tatflow-run-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Asserts that `fn` throws an Error whose message contains every one of `parts`. */
function throwsNaming(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, 'an Error');
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" names ${p}`);
    return true;
  });
}

const rollout = (f: RunFlags) => rolloutOptions({ ...T, ...f }, REGION);

describe('rolloutOptions: targets', () => {
  test('the minimal run: only the region and the targets', () => {
    assert.deepEqual(rolloutOptions({ targets: 'ins-a' }, REGION), {
      region: REGION,
      targets: { instanceIds: ['ins-a'] },
    });
  });

  test('instance ids of every kind, trimmed, empty entries dropped', () => {
    assert.deepEqual(rolloutOptions({ targets: ' ins-a1, lhins-b2 ,rins-c3,' }, REGION).targets, {
      instanceIds: ['ins-a1', 'lhins-b2', 'rins-c3'],
    });
  });

  test('--online and --managed-name', () => {
    assert.deepEqual(rolloutOptions({ online: true }, REGION).targets, { online: true });
    assert.deepEqual(rolloutOptions({ managedName: 'web' }, REGION).targets, { managedName: 'web' });
  });

  test('exactly one selector', () => {
    const msg = ['--targets', '--online', '--managed-name'];
    throwsNaming(() => rolloutOptions({}, REGION), ...msg);
    throwsNaming(() => rolloutOptions({ online: false }, REGION), ...msg);
    throwsNaming(() => rolloutOptions({ targets: 'ins-a', online: true }, REGION), ...msg);
    throwsNaming(() => rolloutOptions({ targets: 'ins-a', managedName: 'web' }, REGION), ...msg);
    throwsNaming(() => rolloutOptions({ online: true, managedName: 'web' }, REGION), ...msg);
  });

  for (const [targets, ...named] of [
    ['', '--targets'],
    [' , ,', '--targets'],
    ['ins-a,host1', '--targets', 'host1'],
    ['i-abc', '--targets', 'i-abc'],
    ['ins-', '--targets', 'ins-'],
    ['INS-A', '--targets', 'INS-A'],
    ['ins-a;rm -rf /', '--targets'],
    ['ins-a,,bad one', '--targets', 'bad one'],
  ])
    test(`--targets ${JSON.stringify(targets)} is refused`, () => {
      throwsNaming(() => rolloutOptions({ targets }, REGION), ...named);
    });
});

describe('rolloutOptions: shape', () => {
  test('no shape flag: no shape (the engine default applies)', () => {
    assert.equal(rollout({}).shape, undefined);
  });

  const shapes: [RunFlags, unknown][] = [
    [{ batches: '1,10%,50%' }, { kind: 'batches', batches: [1, '10%', '50%'] }],
    [{ batches: ' 1 , 5, 25% ' }, { kind: 'batches', batches: [1, 5, '25%'] }],
    [{ batches: '3' }, { kind: 'batches', batches: [3] }],
    [{ batches: '33.3%' }, { kind: 'batches', batches: ['33.3%'] }],
    [{ window: '10' }, { kind: 'window', maxConcurrency: 10 }],
    [{ window: '25%' }, { kind: 'window', maxConcurrency: '25%' }],
    [{ rampUp: '8' }, { kind: 'rampUp', maxConcurrency: 8 }],
    [{ rampUp: '100%' }, { kind: 'rampUp', maxConcurrency: '100%' }],
  ];
  for (const [f, want] of shapes)
    test(`${JSON.stringify(f)} → ${JSON.stringify(want)}`, () => {
      assert.deepEqual(rollout(f).shape, want);
    });

  const bad: [RunFlags, string][] = [
    [{ batches: '' }, '--batches'],
    [{ batches: '0' }, '--batches'],
    [{ batches: '1,,5' }, '--batches'],
    [{ batches: '1,5,' }, '--batches'],
    [{ batches: '1,abc' }, '--batches'],
    [{ batches: '1,101%' }, '--batches'],
    [{ batches: '1.5' }, '--batches'],
    [{ batches: '-1' }, '--batches'],
    [{ batches: '0%' }, '--batches'],
    [{ window: '0' }, '--window'],
    [{ window: 'abc' }, '--window'],
    [{ window: '' }, '--window'],
    [{ window: '150%' }, '--window'],
    [{ rampUp: '0%' }, '--ramp-up'],
    [{ rampUp: '2.5' }, '--ramp-up'],
  ];
  for (const [f, flag] of bad)
    test(`${JSON.stringify(f)} is refused naming ${flag}`, () => {
      throwsNaming(() => rollout(f), flag);
    });

  test('at most one shape', () => {
    const msg = ['--batches', '--window', '--ramp-up'];
    throwsNaming(() => rollout({ batches: '1', window: '5' }), ...msg);
    throwsNaming(() => rollout({ window: '5', rampUp: '5' }), ...msg);
    throwsNaming(() => rollout({ batches: '1', rampUp: '5' }), ...msg);
    throwsNaming(() => rollout({ batches: '1', window: '5', rampUp: '5' }), ...msg);
  });
});

describe('rolloutOptions: error budget', () => {
  const good: [string, unknown][] = [
    ['0', 0],
    [' 0 ', 0],
    ['0%', 0],
    ['1', 1],
    ['3', 3],
    [' 2 ', 2],
    ['10%', '10%'],
    ['0.5%', '0.5%'],
    ['100%', '100%'],
  ];
  for (const [v, want] of good)
    test(`--max-errors ${JSON.stringify(v)} → ${JSON.stringify(want)}`, () => {
      assert.equal(rollout({ maxErrors: v }).maxErrors, want);
    });

  for (const v of ['-1', 'abc', '1.5', '101%', '', '-5%', 'none'])
    test(`--max-errors ${JSON.stringify(v)} is refused naming --max-errors`, () => {
      throwsNaming(() => rollout({ maxErrors: v }), '--max-errors');
    });

  // runbooks.md: "maxErrors is a count or a percentage … (0 means: the first error breaches)".
  for (const v of ['00', '0.0%'])
    test(`--max-errors ${JSON.stringify(v)} is zero too, like "0" and "0%"`, () => {
      assert.equal(rollout({ maxErrors: v }).maxErrors, 0);
    });

  test('no --max-errors: left to the engine default', () => {
    assert.equal('maxErrors' in rollout({}), false);
  });

  test('--strict-budget, --count-undeliverable, --refuse-offline', () => {
    const o = rollout({ strictBudget: true, countUndeliverable: true, refuseOffline: true });
    assert.equal(o.strictBudget, true);
    assert.equal(o.countUndeliverable, true);
    assert.equal(o.offline, 'refuse');
    const d = rollout({ strictBudget: false, countUndeliverable: false, refuseOffline: false });
    assert.deepEqual(Object.keys(d).sort(), ['region', 'targets']);
  });
});

describe('rolloutOptions: approvals and timings', () => {
  test('gates', () => {
    assert.deepEqual(rollout({ approveBeforeStart: true }).approval, { beforeStart: true });
    assert.deepEqual(rollout({ approveAfterCanary: true }).approval, { afterCanary: true });
    assert.deepEqual(rollout({ approveEveryBatch: true }).approval, { everyBatch: true });
    assert.deepEqual(
      rollout({
        approveBeforeStart: true,
        approveAfterCanary: true,
        approvalTimeout: '600',
        onApprovalTimeout: 'continue',
      }).approval,
      { beforeStart: true, afterCanary: true, timeoutSeconds: 600, onTimeout: 'continue' },
    );
    assert.deepEqual(rollout({ onApprovalTimeout: 'fail' }).approval, { onTimeout: 'fail' });
    assert.equal(rollout({}).approval, undefined);
  });

  for (const v of ['skip', 'FAIL', 'Continue', '', 'abort'])
    test(`--on-approval-timeout ${JSON.stringify(v)} is refused naming the flag`, () => {
      throwsNaming(() => rollout({ onApprovalTimeout: v }), '--on-approval-timeout', 'fail', 'continue');
    });

  test('--on-approval-timeout is checked before anything else', () => {
    throwsNaming(() => rolloutOptions({ onApprovalTimeout: 'x' }, REGION), '--on-approval-timeout');
  });

  const bad: [RunFlags, string][] = [
    [{ approvalTimeout: '0' }, '--approval-timeout'],
    [{ approvalTimeout: 'abc' }, '--approval-timeout'],
    [{ approvalTimeout: '1.5' }, '--approval-timeout'],
    [{ approvalTimeout: '-60' }, '--approval-timeout'],
    [{ bake: '-1' }, '--bake'],
    [{ bake: 'soon' }, '--bake'],
    [{ bake: '' }, '--bake'],
    [{ progressDeadline: '0' }, '--progress-deadline'],
    [{ progressDeadline: '5m' }, '--progress-deadline'],
    [{ pollInterval: '49' }, '--poll-interval'],
    [{ pollInterval: '0' }, '--poll-interval'],
    [{ pollInterval: 'fast' }, '--poll-interval'],
  ];
  for (const [f, flag] of bad)
    test(`${JSON.stringify(f)} is refused naming ${flag}`, () => {
      throwsNaming(() => rollout(f), flag);
    });

  test('an empty --approval-timeout is refused, not ignored', () => {
    throwsNaming(() => rollout({ approvalTimeout: '' }), '--approval-timeout');
  });

  test('timings', () => {
    assert.equal(rollout({ bake: '30' }).bakeSeconds, 30);
    assert.equal('bakeSeconds' in rollout({ bake: '0' }), false);
    assert.equal(rollout({ progressDeadline: '900' }).progressDeadlineSeconds, 900);
    assert.equal(rollout({ pollInterval: '50' }).pollIntervalMs, 50);
    assert.equal(rollout({ pollInterval: '2000' }).pollIntervalMs, 2000);
  });
});

describe('runbookParams: rollingCommand', () => {
  test('--command, with timeout, user and directory', () => {
    assert.deepEqual(runbookParams('rollingCommand', { command: 'echo hi' }), {
      command: { content: 'echo hi' },
    });
    assert.deepEqual(
      runbookParams('rollingCommand', {
        command: 'uptime',
        timeout: '120',
        username: 'ops',
        workingDirectory: '/srv',
      }),
      { command: { content: 'uptime', timeout: 120, username: 'ops', workingDirectory: '/srv' } },
    );
  });

  test('--command-file is read', () => {
    const p = file('script.sh', '#!/bin/sh\necho from file\n');
    assert.deepEqual(runbookParams('rollingCommand', { commandFile: p }), {
      command: { content: '#!/bin/sh\necho from file\n' },
    });
  });

  test('needs --command or --command-file', () => {
    throwsNaming(() => runbookParams('rollingCommand', {}), 'rollingCommand', '--command or --command-file');
  });

  test('not both', () => {
    const p = file('both.sh', 'echo x');
    throwsNaming(
      () => runbookParams('rollingCommand', { command: 'x', commandFile: p }),
      '--command',
      '--command-file',
    );
  });

  for (const command of ['', '   ', '\n\t'])
    test(`--command ${JSON.stringify(command)} is refused naming --command`, () => {
      throwsNaming(() => runbookParams('rollingCommand', { command }), '--command');
    });

  test('a missing --command-file is refused naming it', () => {
    throwsNaming(
      () => runbookParams('rollingCommand', { commandFile: join(dir, 'nope.sh') }),
      '--command-file',
    );
  });

  test('an empty --command-file is refused naming --command-file', () => {
    const p = file('empty.sh', '\n');
    throwsNaming(() => runbookParams('rollingCommand', { commandFile: p }), '--command-file');
  });

  for (const timeout of ['0', 'abc', '1.5', '-3', ''])
    test(`--timeout ${JSON.stringify(timeout)} is refused naming --timeout`, () => {
      throwsNaming(() => runbookParams('rollingCommand', { command: 'x', timeout }), '--timeout');
    });

  test('health check and rollback', () => {
    assert.deepEqual(
      runbookParams('rollingCommand', {
        command: 'deploy',
        healthCheck: 'curl -f localhost',
        healthRetries: '3',
        healthInterval: '5',
        healthOn: 'ins-lb',
        rollback: 'undo',
        timeout: '30',
      }),
      {
        command: { content: 'deploy', timeout: 30 },
        healthCheck: {
          command: { content: 'curl -f localhost', timeout: 30 },
          retries: 3,
          intervalSeconds: 5,
          onInstance: 'ins-lb',
        },
        rollback: { content: 'undo', timeout: 30 },
      },
    );
    assert.deepEqual(
      runbookParams('rollingCommand', { command: 'x', healthCheck: 'y', healthRetries: '0' }),
      {
        command: { content: 'x' },
        healthCheck: { command: { content: 'y' }, retries: 0 },
      },
    );
  });

  const bad: [RunFlags, string][] = [
    [{ healthCheck: '' }, '--health-check'],
    [{ healthCheck: '  ' }, '--health-check'],
    [{ healthCheck: 'y', healthRetries: '-1' }, '--health-retries'],
    [{ healthCheck: 'y', healthRetries: 'many' }, '--health-retries'],
    [{ healthCheck: 'y', healthInterval: '0' }, '--health-interval'],
    [{ healthCheck: 'y', healthInterval: '1.5' }, '--health-interval'],
    [{ rollback: '' }, '--rollback'],
  ];
  for (const [f, flag] of bad)
    test(`${JSON.stringify(f)} is refused naming ${flag}`, () => {
      throwsNaming(() => runbookParams('rollingCommand', { command: 'x', ...f }), flag);
    });

  // Empty values, and values given without --health-check, are bad flags too: refused, not ignored.
  const ignored: [RunFlags, string][] = [
    [{ healthCheck: 'y', healthRetries: '' }, '--health-retries'],
    [{ healthCheck: 'y', healthInterval: '' }, '--health-interval'],
    [{ healthRetries: 'many' }, '--health-retries'],
    [{ healthInterval: 'abc' }, '--health-interval'],
  ];
  for (const [f, flag] of ignored)
    test(`${JSON.stringify(f)} is refused naming ${flag}, not ignored`, () => {
      throwsNaming(() => runbookParams('rollingCommand', { command: 'x', ...f }), flag);
    });

  test('--params can satisfy it too', () => {
    assert.deepEqual(runbookParams('rollingCommand', { params: '{"command":{"content":"ls"}}' }), {
      command: { content: 'ls' },
    });
  });
});

describe('runbookParams: rollingAppUpdate', () => {
  const full: RunFlags = { appVersion: '1.2.3', probe: 'cat /srv/VERSION', deploy: 'deploy {{version}}' };

  test('--app-version, --probe and --deploy', () => {
    assert.deepEqual(runbookParams('rollingAppUpdate', full), {
      probe: { content: 'cat /srv/VERSION' },
      deploy: { content: 'deploy {{version}}' },
      version: '1.2.3',
    });
  });

  test('the version stays a string', () => {
    assert.equal(runbookParams('rollingAppUpdate', { ...full, appVersion: '1.10' }).version, '1.10');
  });

  const missing: [keyof RunFlags, string][] = [
    ['appVersion', '--app-version'],
    ['probe', '--probe'],
    ['deploy', '--deploy'],
  ];
  for (const [key, flag] of missing)
    test(`needs ${flag}`, () => {
      const f = { ...full };
      delete f[key];
      throwsNaming(() => runbookParams('rollingAppUpdate', f), 'rollingAppUpdate', flag);
    });

  test('names every missing flag at once', () => {
    throwsNaming(() => runbookParams('rollingAppUpdate', {}), '--app-version', '--probe', '--deploy');
  });

  test('an empty --probe or --deploy is refused naming it', () => {
    throwsNaming(() => runbookParams('rollingAppUpdate', { ...full, probe: '' }), '--probe');
    throwsNaming(() => runbookParams('rollingAppUpdate', { ...full, deploy: ' ' }), '--deploy');
  });

  test('an empty --app-version is refused naming it', () => {
    throwsNaming(() => runbookParams('rollingAppUpdate', { ...full, appVersion: '' }), '--app-version');
  });

  test('does not take --command: refused, naming the flag and the flags it takes', () => {
    throwsNaming(
      () => runbookParams('rollingAppUpdate', { ...full, command: 'ignored' }),
      '--command',
      'rollingAppUpdate does not take it',
      '--probe',
    );
  });

  test('a --param version stays text, as its schema says (1.10 is not the number 1.1)', () => {
    assert.equal(
      runbookParams('rollingAppUpdate', { probe: 'p', deploy: 'd', param: ['version=1.10'] }).version,
      '1.10',
    );
  });

  test('an unknown parameter is refused, naming the ones it takes', () => {
    throwsNaming(
      () => runbookParams('rollingAppUpdate', { ...full, param: ['verison=2'] }),
      'unknown parameter verison',
      'version',
    );
  });

  test('a parameter of the wrong type is refused by the schema, naming it', () => {
    throwsNaming(
      () =>
        runbookParams('rollingAppUpdate', {
          ...full,
          params: '{"healthCheck":{"command":{"content":"x"},"retries":-1}}',
        }),
      'healthCheck.retries',
    );
  });
});

describe('runbookParams: patchFleet', () => {
  test('needs nothing', () => {
    assert.deepEqual(runbookParams('patchFleet', {}), {});
  });

  test('--packages, --reboot, --timeout', () => {
    assert.deepEqual(
      runbookParams('patchFleet', {
        packages: 'openssl, curl,,bash ',
        reboot: 'if-required',
        timeout: '900',
      }),
      {
        packages: ['openssl', 'curl', 'bash'],
        reboot: 'if-required',
        timeoutSeconds: 900,
      },
    );
    for (const reboot of ['never', 'always', 'if-required'])
      assert.equal(runbookParams('patchFleet', { reboot }).reboot, reboot);
  });

  for (const reboot of ['sometimes', '', 'Always', 'yes'])
    test(`--reboot ${JSON.stringify(reboot)} is refused naming --reboot`, () => {
      throwsNaming(
        () => runbookParams('patchFleet', { reboot }),
        '--reboot',
        'never',
        'always',
        'if-required',
      );
    });

  test('a bad --timeout is refused naming --timeout', () => {
    throwsNaming(() => runbookParams('patchFleet', { timeout: 'long' }), '--timeout');
  });

  test('the health check is a post-check: the command alone', () => {
    assert.deepEqual(runbookParams('patchFleet', { healthCheck: 'systemctl is-system-running' }), {
      postCheck: { content: 'systemctl is-system-running' },
    });
  });

  test('--health-retries, --health-interval and --health-on reach the post-check (they were dropped)', () => {
    assert.deepEqual(
      runbookParams('patchFleet', {
        healthCheck: 'systemctl is-system-running',
        healthRetries: '5',
        healthInterval: '30',
        healthOn: 'ins-lb',
      }),
      {
        postCheck: { content: 'systemctl is-system-running' },
        postCheckRetries: 5,
        postCheckIntervalSeconds: 30,
        postCheckOn: 'ins-lb',
      },
    );
    // They tune the built-in post-check too, so they need no --health-check here.
    assert.deepEqual(runbookParams('patchFleet', { healthRetries: '0' }), { postCheckRetries: 0 });
    throwsNaming(() => runbookParams('patchFleet', { healthInterval: '0' }), '--health-interval');
  });

  test('the post-check settings build the health check the engine runs', () => {
    const def = builtInRunbooks.require('patchFleet').spec.build({
      postCheckRetries: 5,
      postCheckIntervalSeconds: 30,
      postCheckOn: 'ins-lb',
    });
    assert.equal(def.healthCheck?.retries, 5);
    assert.equal(def.healthCheck?.intervalSeconds, 30);
    assert.equal(def.healthCheck?.onInstance, 'ins-lb');
    assert.deepEqual(
      { ...builtInRunbooks.require('patchFleet').spec.build({}).healthCheck, command: undefined },
      { command: undefined, retries: 2, intervalSeconds: 10 },
    );
  });
});

describe('runbookParams: --params and --param', () => {
  test('--params: a JSON object', () => {
    assert.deepEqual(runbookParams('custom', { params: '{"a":1,"b":{"c":[true]}}' }), {
      a: 1,
      b: { c: [true] },
    });
  });

  for (const params of ['{', 'not json', ''])
    test(`--params ${JSON.stringify(params)} is refused as not JSON`, () => {
      throwsNaming(() => runbookParams('custom', { params }), '--params', 'not JSON');
    });

  for (const params of ['[]', '[1,2]', 'null', '"x"', '1', 'true'])
    test(`--params ${params} is refused: not an object`, () => {
      throwsNaming(() => runbookParams('custom', { params }), '--params', 'object');
    });

  test('--param: JSON values, else strings', () => {
    assert.deepEqual(
      runbookParams('custom', {
        param: ['n=1', 's=hello', 'o={"x":2}', 'b=true', 'empty=', 'eq=a=b', 'q="quoted"', 'ver=1.2.3'],
      }),
      { n: 1, s: 'hello', o: { x: 2 }, b: true, empty: '', eq: 'a=b', q: 'quoted', ver: '1.2.3' },
    );
  });

  for (const kv of ['novalue', '=x', '='])
    test(`--param ${JSON.stringify(kv)} is refused naming --param`, () => {
      throwsNaming(() => runbookParams('custom', { param: [kv] }), '--param', kv);
    });

  test('--param wins over --params, the last --param over earlier ones', () => {
    assert.deepEqual(runbookParams('custom', { params: '{"a":1,"b":2}', param: ['b=3', 'c=4', 'c=5'] }), {
      a: 1,
      b: 3,
      c: 5,
    });
  });

  test('--param and --params fill a built-in runbook’s required parameters', () => {
    assert.deepEqual(
      runbookParams('rollingAppUpdate', { probe: 'p', deploy: 'd', param: ['version=2.0.0'] }).version,
      '2.0.0',
    );
  });

  test('a runbook that declares no parameters: no required flags, and other runbooks’ flags are refused', () => {
    assert.deepEqual(runbookParams('myRunbook', {}), {});
    throwsNaming(
      () => runbookParams('myRunbook', { command: 'x' }),
      '--command',
      'myRunbook does not take it',
    );
    throwsNaming(() => runbookParams('myRunbook', { timeout: '5' }), '--timeout', 'none');
  });

  test('the definition the parameters build is checked as the run will check it', () => {
    const withBad = registry.with(
      runbooksIn(
        {
          twoSteps: defineRunbook((p: { script?: string }) => ({
            steps: [
              { kind: 'command' as const, name: 'a', command: { content: p.script ?? 'true' } },
              { kind: 'command' as const, name: 'a', command: { content: 'true' } },
            ],
          })),
          needsDir: defineRunbook((p: { dir: string }) => ({
            steps: [{ kind: 'command' as const, name: 'a', command: { content: `ls ${p.dir.trim()}` } }],
          })),
        },
        'test',
      ),
    );
    throwsNaming(
      () => paramsIn('twoSteps', {}, withBad),
      'twoSteps: invalid runbook definition',
      'step 2 "a": another step has this name',
    );
    throwsNaming(() => paramsIn('needsDir', {}, withBad), 'needsDir does not build from these parameters');
  });

  test('an unknown runbook is refused, naming the known ones and --runbooks', () => {
    throwsNaming(
      () => paramsIn('nosuch', {}, builtInRunbooks),
      'unknown runbook "nosuch"',
      'rollingCommand',
      '--runbooks',
    );
  });

  test('a runbook file joins the registry: its flags and schema apply', async () => {
    const example = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));
    const withExample = await loadRunbooks([example]);
    assert.deepEqual(paramsIn('rotateLogs', { dir: '/var/log/app', param: ['days=3'] }, withExample), {
      dir: '/var/log/app',
      days: 3,
    });
    throwsNaming(() => paramsIn('rotateLogs', {}, withExample), 'rotateLogs needs --dir');
    throwsNaming(() => paramsIn('rotateLogs', { dir: 'relative' }, withExample), '--dir', 'absolute');
    const cmd = runOptions(new Command('run'), withExample);
    assert.ok(
      cmd.options.some((o) => o.long === '--dir'),
      'its flag is an option of run',
    );
  });

  test('a runbook file that exports no runbook, or reuses a name, is refused', async () => {
    const none = file('none.ts', 'export const x: number = 1;\n');
    await assert.rejects(loadRunbooks([none]), /exports no runbook/);
    const clash = file(
      'clash.ts',
      "import { defineRunbook } from 'tatflow/runbook';\nexport const rollingCommand = defineRunbook(() => ({ steps: [] }));\n",
    );
    await assert.rejects(loadRunbooks([clash]), /two runbooks are named rollingCommand/);
  });
});

describe('runbookInput', () => {
  test('params and rollout together', () => {
    assert.deepEqual(
      runbookInput(
        'rollingCommand',
        { targets: 'ins-a,ins-b', command: 'echo hi', batches: '1,50%', maxErrors: '1', strictBudget: true },
        REGION,
      ),
      {
        params: { command: { content: 'echo hi' } },
        rollout: {
          region: REGION,
          targets: { instanceIds: ['ins-a', 'ins-b'] },
          shape: { kind: 'batches', batches: [1, '50%'] },
          maxErrors: 1,
          strictBudget: true,
        },
      },
    );
  });

  test('errors from either half, naming the flag', () => {
    throwsNaming(() => runbookInput('rollingCommand', { targets: 'ins-a' }, REGION), '--command');
    throwsNaming(() => runbookInput('rollingCommand', { command: 'x', targets: 'bad' }, REGION), '--targets');
    throwsNaming(
      () => runbookInput('rollingCommand', { command: 'x', ...T, window: '0' }, REGION),
      '--window',
    );
    throwsNaming(() => runbookInput('patchFleet', { ...T, reboot: 'maybe' }, REGION), '--reboot');
  });
});

describe('the command line, through commander', () => {
  function parse(argv: string[]): { runbook: string; flags: RunFlags } {
    const cmd = runOptions(new Command('run'), registry)
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    cmd.parse(argv, { from: 'user' });
    return { runbook: cmd.args[0]!, flags: cmd.opts<RunFlags>() };
  }

  test('every flag reaches the runbook input', () => {
    const { runbook, flags } = parse([
      'rollingAppUpdate',
      '--targets',
      'ins-a,lhins-b',
      '--ramp-up',
      '25%',
      '--max-errors',
      '10%',
      '--strict-budget',
      '--count-undeliverable',
      '--refuse-offline',
      '--approve-after-canary',
      '--approval-timeout',
      '300',
      '--on-approval-timeout',
      'continue',
      '--bake',
      '10',
      '--progress-deadline',
      '600',
      '--poll-interval',
      '250',
      '--timeout',
      '90',
      '--username',
      'app',
      '--working-directory',
      '/srv/app',
      '--health-check',
      'curl -f localhost',
      '--health-retries',
      '2',
      '--health-interval',
      '3',
      '--rollback',
      'deploy {{version}}',
      '--probe',
      'cat VERSION',
      '--deploy',
      'deploy {{version}}',
      '--app-version',
      '1.0.0',
      '--params',
      '{"version":"1.3.0"}',
      '--param',
      'version=1.2.0',
      'version=1.4.0',
    ]);
    assert.equal(runbook, 'rollingAppUpdate');
    const spec = (content: string) => ({
      content,
      timeout: 90,
      username: 'app',
      workingDirectory: '/srv/app',
    });
    assert.deepEqual(runbookInput(runbook, flags, REGION, registry), {
      params: {
        probe: spec('cat VERSION'),
        deploy: spec('deploy {{version}}'),
        version: '1.4.0',
        healthCheck: { command: spec('curl -f localhost'), retries: 2, intervalSeconds: 3 },
        rollback: spec('deploy {{version}}'),
      },
      rollout: {
        region: REGION,
        targets: { instanceIds: ['ins-a', 'lhins-b'] },
        shape: { kind: 'rampUp', maxConcurrency: '25%' },
        maxErrors: '10%',
        strictBudget: true,
        countUndeliverable: true,
        offline: 'refuse',
        approval: { afterCanary: true, timeoutSeconds: 300, onTimeout: 'continue' },
        bakeSeconds: 10,
        progressDeadlineSeconds: 600,
        pollIntervalMs: 250,
      },
    });
  });

  test('patchFleet flags, --online, --batches and --window', () => {
    const a = parse([
      'patchFleet',
      '--online',
      '--batches',
      '1,10%',
      '--packages',
      'a,b',
      '--reboot',
      'always',
    ]);
    assert.deepEqual(runbookInput(a.runbook, a.flags, REGION, registry), {
      params: { packages: ['a', 'b'], reboot: 'always' },
      rollout: { region: REGION, targets: { online: true }, shape: { kind: 'batches', batches: [1, '10%'] } },
    });
    const b = parse(['rollingCommand', '--managed-name', 'web', '--window', '5', '--command', 'ls']);
    assert.deepEqual(runbookInput(b.runbook, b.flags, REGION, registry).rollout, {
      region: REGION,
      targets: { managedName: 'web' },
      shape: { kind: 'window', maxConcurrency: 5 },
    });
  });

  test('bad values on the command line are refused naming the flag', () => {
    const cases: [string[], string][] = [
      [['rollingCommand', '--targets', 'ins-a', '--command', 'x', '--batches', '1,0'], '--batches'],
      [['rollingCommand', '--targets', 'ins-a', '--command', 'x', '--max-errors', 'lots'], '--max-errors'],
      [
        ['rollingCommand', '--targets', 'ins-a', '--command', 'x', '--on-approval-timeout', 'retry'],
        '--on-approval-timeout',
      ],
      [['rollingCommand', '--targets', 'ins-a'], '--command'],
      [['rollingAppUpdate', '--targets', 'ins-a', '--probe', 'p', '--deploy', 'd'], '--app-version'],
      [['patchFleet', '--targets', 'ins-a', '--reboot', 'now'], '--reboot'],
      [['custom', '--targets', 'ins-a', '--param', 'oops'], '--param'],
      [['custom', '--targets', 'ins-a', '--params', '{oops'], '--params'],
    ];
    for (const [argv, flag] of cases) {
      const { runbook, flags } = parse(argv);
      throwsNaming(() => runbookInput(runbook, flags, REGION, registry), flag);
    }
  });
});
