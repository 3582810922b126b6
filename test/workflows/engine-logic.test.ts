// The engine's logic on Temporal's time-skipping test server with fake activities (an in-memory
// fleet whose tasks end at once, test/helpers/fake-tat.ts): shapes, the error budget, rollback
// order, continue-as-new, step roles and the checks at a run's start. Timers (health check
// intervals, grace periods) pass at once, so each test takes about a second. Gates and abort wait
// on Updates, which the test server does not skip time for: they are tested on the dev server
// (control.test.ts).

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { timeSkippingEnvironment } from '../../testkit/time-skipping.js';
import type { DefinitionActivities } from '../../workflows/engine/definition.js';
import { definitionActivities } from '../../worker/definitions.js';
import { loadRunbooks } from '../../worker/runbook-files.js';
import { OUTPUT_BUDGET_BYTES } from '../../workflows/engine/ledger.js';
import { progressQuery } from '../../workflows/engine/messages.js';
import type { RolloutOptions, RolloutState, RunbookInput } from '../../workflows/engine/types.js';
import { runbookBundle, runFailure } from '../helpers/engine.js';
import { FakeTat, fleet, type Behaviour } from '../helpers/fake-tat.js';

const FROM_PARAMS = fileURLToPath(new URL('../../../test/fixtures/runbooks/from-params.ts', import.meta.url));
const QUEUE = 'engine-logic';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
/** The fake the worker's activities go to: each test sets its own. */
let tat = new FakeTat([]);
let runNo = 0;
/** Definitions the worker built (each run should build one, once). */
let built = 0;

const counted =
  (d: DefinitionActivities): DefinitionActivities['buildDefinition'] =>
  (i) => {
    built++;
    return d.buildDefinition(i);
  };

before(async () => {
  env = await timeSkippingEnvironment();
  // The worker registers the activities once; each forwards to the fake of the test that runs.
  const acts = tat.activities() as Record<string, (i: never) => Promise<unknown>>;
  const forward = Object.fromEntries(
    Object.keys(acts).map((name) => [
      name,
      (input: never) => (tat.activities() as Record<string, (i: never) => Promise<unknown>>)[name]!(input),
    ]),
  );
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: QUEUE,
    workflowBundle: await runbookBundle([FROM_PARAMS]),
    activities: {
      ...forward,
      buildDefinition: counted(definitionActivities(await loadRunbooks([FROM_PARAMS]))),
    },
  });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

function start(
  runbook: string,
  params: unknown,
  rollout: Partial<RolloutOptions> = {},
): Promise<WorkflowHandle> {
  const input: RunbookInput = {
    params,
    rollout: { region: 'ap-guangzhou', targets: { instanceIds: tat.ids }, pollIntervalMs: 100, ...rollout },
  };
  return env.client.workflow.start(runbook, {
    taskQueue: QUEUE,
    workflowId: `logic-${++runNo}`,
    args: [input],
  });
}

const ok = async (h: WorkflowHandle): Promise<RolloutState> => (await h.result()) as RolloutState;
const cmd = (content: string) => ({ content });
const failOn =
  (step: string, ids: string[], output?: string): Behaviour =>
  (s, id) =>
    s === step && ids.includes(id)
      ? { status: 'FAILED', ...(output ? { output } : {}) }
      : { status: 'SUCCESS' };
const sizes = (step: string) => tat.of(step).map((i) => i.instances.length);

describe('shapes', () => {
  test('the default shape: a canary, then 10% and 50% of all targets, the last repeating', async () => {
    tat = new FakeTat(fleet(10));
    const s = await ok(await start('rollingCommand', { command: cmd('true') }));
    assert.equal(s.status, 'succeeded');
    assert.deepEqual(sizes('step.command'), [1, 1, 5, 3]);
    assert.deepEqual(tat.deleted, ['cmd-step.command'], 'the saved command is deleted at the end');
  });

  test('window: at most N in flight, every target once', async () => {
    tat = new FakeTat(fleet(20));
    const s = await ok(
      await start(
        'rollingCommand',
        { command: cmd('true') },
        { shape: { kind: 'window', maxConcurrency: 4 } },
      ),
    );
    assert.equal(s.status, 'succeeded');
    assert.ok(tat.maxInFlight <= 4, `in flight at most 4, saw ${tat.maxInFlight}`);
    assert.deepEqual([...tat.runs('step.command').values()], Array(20).fill(1));
  });

  test('ramp-up: 1, then 2, 4, 8 up to the ceiling', async () => {
    tat = new FakeTat(fleet(15));
    const s = await ok(
      await start(
        'rollingCommand',
        { command: cmd('true') },
        { shape: { kind: 'rampUp', maxConcurrency: 8 } },
      ),
    );
    assert.equal(s.status, 'succeeded');
    assert.deepEqual(sizes('step.command'), [1, 2, 4, 8]);
  });

  test('offline agents are skipped at plan time, or the run refuses to start', async () => {
    const ids = fleet(4);
    tat = new FakeTat(ids, undefined, [ids[1]!]);
    const s = await ok(
      await start('rollingCommand', { command: cmd('true') }, { shape: { kind: 'batches', batches: [4] } }),
    );
    assert.equal(s.targets[ids[1]!]!.phase, 'skipped');
    assert.equal(s.targets[ids[1]!]!.reason, 'agent offline');
    assert.deepEqual(sizes('step.command'), [3]);
    tat = new FakeTat(ids, undefined, [ids[1]!]);
    const h = await start('rollingCommand', { command: cmd('true') }, { offline: 'refuse' });
    assert.match(await runFailure(h), /agents offline or unknown: ins-fake1/);
    assert.equal(tat.invocations.length, 0);
  });
});

describe('the error budget', () => {
  test('errors past maxErrors breach; the batch in flight finishes; no batch follows; rollback in reverse batch order', async () => {
    const ids = fleet(6);
    tat = new FakeTat(ids, failOn('step.command', [ids[0]!, ids[3]!]));
    const h = await start(
      'rollingCommand',
      { command: cmd('deploy'), rollback: cmd('undo') },
      { shape: { kind: 'batches', batches: [2] }, maxErrors: 1 },
    );
    assert.match(await runFailure(h), /error budget exceeded: 2 failed > maxErrors 1 in batch 2/);
    assert.deepEqual(
      tat.of('rollback').map((i) => i.instances),
      [
        [ids[2], ids[3]],
        [ids[0], ids[1]],
      ],
    );
    const s = await h.query(progressQuery);
    for (const id of ids.slice(4)) assert.equal(s.targets[id]!.phase, 'skipped');
    assert.equal(tat.runs('step.command').size, 4);
  });

  test('strict budget in a window: never more than maxErrors + 1 started when every target fails', async () => {
    tat = new FakeTat(fleet(12), failOn('step.command', fleet(12)));
    const h = await start(
      'rollingCommand',
      { command: cmd('false') },
      { shape: { kind: 'window', maxConcurrency: 6 }, maxErrors: 2, strictBudget: true },
    );
    assert.match(await runFailure(h), /error budget exceeded: 3 failed > maxErrors 2/);
    assert.equal(tat.runs('step.command').size, 3);
    assert.ok(tat.maxInFlight <= 3, `in flight at most 3, saw ${tat.maxInFlight}`);
  });

  test('the default budget runs the window at its size, then stops', async () => {
    tat = new FakeTat(fleet(12), failOn('step.command', fleet(12)));
    const h = await start(
      'rollingCommand',
      { command: cmd('false') },
      { shape: { kind: 'window', maxConcurrency: 6 }, maxErrors: 2 },
    );
    assert.match(await runFailure(h), /error budget exceeded/);
    assert.equal(tat.runs('step.command').size, 6);
  });

  test('health check retries wait their interval (skipped here), and a pass on a retry is healthy', async () => {
    const seen = new Map<string, number>();
    tat = new FakeTat(fleet(3), (step, id) => {
      if (step !== 'health') return { status: 'SUCCESS' };
      seen.set(id, (seen.get(id) ?? 0) + 1);
      return { status: seen.get(id) === 1 ? 'FAILED' : 'SUCCESS' };
    });
    const s = await ok(
      await start(
        'rollingCommand',
        { command: cmd('true'), healthCheck: { command: cmd('check'), retries: 2, intervalSeconds: 600 } },
        { shape: { kind: 'batches', batches: [3] } },
      ),
    );
    assert.equal(s.status, 'succeeded');
    assert.deepEqual([...seen.values()], [2, 2, 2]);
  });
});

test('rollback goes batch by batch in reverse, one invocation per version the probe read', async () => {
  const ids = fleet(4);
  const versions: Record<string, string> = {
    [ids[0]!]: 'v1',
    [ids[1]!]: 'v0',
    [ids[2]!]: 'v1',
    [ids[3]!]: 'v1',
  };
  tat = new FakeTat(ids, (step, id) => {
    if (step === 'probe') return { status: 'SUCCESS', output: `${versions[id]}\n` };
    if (step === 'health' && id === ids[3]) return { status: 'FAILED' };
    return { status: 'SUCCESS' };
  });
  const h = await start(
    'rollingAppUpdate',
    {
      version: 'v2',
      probe: cmd('cat VERSION'),
      deploy: cmd('deploy {{version}}'),
      healthCheck: { command: cmd('check') },
    },
    { shape: { kind: 'batches', batches: [2] } },
  );
  assert.match(await runFailure(h), /health check failed on ins-fake3/);
  assert.deepEqual(
    tat.of('rollback').map((i) => [i.instances, i.parameters.version]),
    [
      [[ids[2], ids[3]], 'v1'],
      [[ids[0]], 'v1'],
      [[ids[1]], 'v0'],
    ],
  );
});

test('continue-as-new: every target runs once, and the output budget holds across the chain', async () => {
  const ids = fleet(24);
  const big = 'x'.repeat(60 * 1024);
  // One target of each batch of two fails with 60 KiB of output: 4 excerpts fit in 256 KiB.
  tat = new FakeTat(
    ids,
    failOn(
      'step.command',
      ids.filter((_, i) => i % 2 === 0),
      big,
    ),
  );
  const s = await ok(
    await start(
      'rollingCommand',
      { command: cmd('run') },
      { shape: { kind: 'batches', batches: [2] }, maxErrors: '50%', historyEventLimit: 60 },
    ),
  );
  assert.equal(s.status, 'succeeded');
  assert.ok(s.generation >= 2, `continued as new ${s.generation} time(s)`);
  assert.deepEqual([...tat.runs('step.command').values()], Array(24).fill(1), 'no target ran twice');
  const kept = Object.values(s.targets).filter((t) => t.output === big);
  assert.equal(kept.length, 4, 'excerpts kept across the chain, within the run’s budget');
  assert.ok((s.outputBytes ?? 0) <= OUTPUT_BUDGET_BYTES);
  assert.equal(Object.values(s.targets).filter((t) => t.output?.startsWith('[output not kept')).length, 8);
});

test('the definition is built once, when the run starts, and carried through continue-as-new', async () => {
  tat = new FakeTat(fleet(12));
  built = 0;
  const h = await start(
    'rollingCommand',
    { command: cmd('run') },
    { shape: { kind: 'batches', batches: [2] }, historyEventLimit: 40 },
  );
  const s = await ok(h);
  assert.ok(s.generation >= 2, `continued as new ${s.generation} time(s)`);
  assert.equal(built, 1, 'built once for the whole chain');
  // The last run of the chain took it over in its input.
  const history = await h.fetchHistory();
  const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
  const input = (await env.client.options.loadedDataConverter.payloadConverter.fromPayload(
    started.input!.payloads![0]!,
  )) as RunbookInput;
  assert.deepEqual(input.definition, { steps: [{ kind: 'command', name: 'command', command: cmd('run') }] });
});

test('an invocation whose tasks ended while invokeChunk watched them needs no poll', async () => {
  tat = new FakeTat(fleet(4));
  tat.finishOnInvoke = true;
  const h = await start(
    'rollingCommand',
    { command: cmd('run') },
    { shape: { kind: 'batches', batches: [2] } },
  );
  const s = await ok(h);
  assert.equal(s.status, 'succeeded');
  const history = await h.fetchHistory();
  const types = history.events!.flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name] : [],
  );
  assert.deepEqual(types, ['invokeChunk', 'invokeChunk'], 'no pollTasks, and short calls are local');
});

test('targets of different kinds go in separate invocations', async () => {
  const ids = ['ins-aaaa0001', 'lhins-bbbb0001', 'rins-cccc0001', 'ins-aaaa0002', 'lhins-bbbb0002'];
  tat = new FakeTat(ids);
  // Results come with each invocation: three invocations in a row, each restarting a poll the
  // fake ends at once, made the time-skipping test server refuse the cancel of a poll that had
  // just ended (ACTIVITY_UNKNOWN) and stall the run. Not seen on the dev server, where steps of
  // several invocations run in tat-safety.test.ts and the rollback tests.
  tat.finishOnInvoke = true;
  const s = await ok(
    await start('rollingCommand', { command: cmd('run') }, { shape: { kind: 'batches', batches: [5] } }),
  );
  assert.equal(s.status, 'succeeded');
  assert.deepEqual(
    tat.of('step.command').map((i) => i.instances),
    [['ins-aaaa0001', 'ins-aaaa0002'], ['lhins-bbbb0001', 'lhins-bbbb0002'], ['rins-cccc0001']],
  );
});

test('Windows agents are skipped at plan time for SHELL scripts, and Linux ones for POWERSHELL', async () => {
  const ids = fleet(4);
  tat = new FakeTat(ids);
  tat.windows = [ids[1]!, ids[2]!];
  const s = await ok(
    await start('rollingCommand', { command: cmd('run') }, { shape: { kind: 'batches', batches: [4] } }),
  );
  assert.equal(s.targets[ids[1]!]!.phase, 'skipped');
  assert.equal(s.targets[ids[1]!]!.reason, 'unsupported OS: Windows cannot run SHELL scripts');
  assert.deepEqual(
    tat.of('step.command').map((i) => i.instances),
    [[ids[0], ids[3]]],
  );
  tat = new FakeTat(ids);
  tat.windows = [ids[1]!];
  const w = await ok(
    await start('rollingCommand', { command: { content: 'Get-Date', commandType: 'POWERSHELL' } }),
  );
  assert.deepEqual(
    Object.values(w.targets)
      .filter((t) => t.phase !== 'skipped')
      .map((t) => t.id),
    [ids[1]],
  );
});

test('an error of the engine code fails the run with the reason, after cleaning up', async () => {
  tat = new FakeTat(fleet(2));
  tat.brokenAgentStatus = true;
  const reason = await runFailure(await start('rollingCommand', { command: cmd('run') }));
  assert.match(reason, /^engine error: TypeError: /);
});

test('a workflow type no runbook has fails at once, naming the runbooks there are', async () => {
  tat = new FakeTat(fleet(1));
  const reason = await runFailure(await start('rollingComand', { command: cmd('run') }));
  assert.match(
    reason,
    /unknown runbook "rollingComand": this worker runs patchFleet, rollingAppUpdate, rollingCommand, fromParams/,
  );
});

describe('step roles', () => {
  test('a step named "health" has its own saved command; its failures count', async () => {
    const ids = fleet(4);
    tat = new FakeTat(ids, failOn('step.health', [ids[0]!]));
    const definition = {
      steps: [{ kind: 'command', name: 'health', command: cmd('step') }],
      healthCheck: { command: cmd('check') },
      rollback: { command: cmd('undo') },
    };
    const h = await start('fromParams', { definition }, { shape: { kind: 'batches', batches: [2] } });
    assert.match(await runFailure(h), /error budget exceeded: 1 failed > maxErrors 0 in batch 1/);
    // The breach stopped the run before the health check: its command is never made (the next
    // test shows the step and the check each with its own), the other target is not checked.
    assert.deepEqual(
      [...tat.commands.values()].map((c) => [c.step, c.command.content]),
      [
        ['step.health', 'step'],
        ['rollback', 'undo'],
      ],
    );
    assert.deepEqual([...tat.runs('step.health').values()], [1, 1], 'dispatched once per target');
    const s = await h.query(progressQuery);
    assert.equal(s.targets[ids[0]!]!.step, 'health');
    assert.equal(s.targets[ids[0]!]!.outcome, 'failed');
    assert.equal(s.targets[ids[1]!]!.outcome, 'cancelled');
    assert.match(s.targets[ids[1]!]!.reason ?? '', /^not health-checked: the run stopped/);
    assert.equal(s.errors, 1, 'the unchecked target counts against nothing');
    assert.equal(s.commandKeys, 'role');
  });

  test('the step and the health check both run, each its own script', async () => {
    tat = new FakeTat(fleet(2));
    const definition = {
      steps: [{ kind: 'command', name: 'health', command: cmd('step') }],
      healthCheck: { command: cmd('check') },
    };
    const s = await ok(await start('fromParams', { definition }));
    assert.equal(s.status, 'succeeded');
    assert.deepEqual(
      [...tat.commands.values()].map((c) => c.command.content),
      ['step', 'check'],
    );
    assert.deepEqual(
      tat.invocations.map((i) => i.step),
      ['step.health', 'health', 'step.health', 'health'],
    );
  });
});

describe('checks at the start of a run', () => {
  test("parameters are checked against the runbook's schema before anything runs", async () => {
    tat = new FakeTat(fleet(2));
    const h = await start('rollingCommand', { command: cmd('  '), extra: 1 });
    const reason = await runFailure(h);
    assert.match(reason, /invalid parameters: command\.content: the script is empty/);
    assert.match(reason, /Unrecognized key: "extra"/);
    assert.equal(tat.commands.size, 0);
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'two steps of one name',
      {
        steps: [
          { kind: 'command', name: 'a', command: cmd('x') },
          { kind: 'command', name: 'a', command: cmd('y') },
        ],
      },
      /step 2 "a": another step has this name/,
    ],
    [
      'an empty script',
      { steps: [{ kind: 'command', name: 'a', command: cmd(' \n') }] },
      /step 1 "a": the script is empty/,
    ],
    ['no steps', { steps: [] }, /it has no steps/],
    [
      'a custom parameter without a value',
      {
        steps: [
          {
            kind: 'command',
            name: 'a',
            command: { content: 'deploy {{version}} {{env}}', defaultParameters: { env: 'prod' } },
          },
        ],
      },
      /step 1 "a": \{\{version\}\} has no value/,
    ],
    [
      'a function in it',
      { steps: [{ kind: 'command', name: 'a', command: cmd('x') }], alreadyDone: 'v1' },
      /alreadyDone: give \{ probeReads/,
    ],
    [
      'scripts for Linux and Windows',
      {
        steps: [
          { kind: 'command', name: 'a', command: cmd('x') },
          { kind: 'command', name: 'b', command: { content: 'Get-Date', commandType: 'POWERSHELL' } },
        ],
      },
      /no machine runs both/,
    ],
    [
      'a bad name',
      { steps: [{ kind: 'command', name: 'a b', command: cmd('x') }] },
      /a name is 1-32 letters/,
    ],
    [
      'an empty health check',
      { steps: [{ kind: 'command', name: 'a', command: cmd('x') }], healthCheck: { command: cmd('') } },
      /the health check: the script is empty/,
    ],
  ];
  for (const [what, definition, message] of bad)
    test(`a definition with ${what} is refused, saying so`, async () => {
      tat = new FakeTat(fleet(1));
      const reason = await runFailure(await start('fromParams', { definition }));
      assert.match(reason, /^invalid runbook definition: /);
      assert.match(reason, message);
      assert.equal(tat.commands.size, 0);
    });
});

describe('maintenance windows', () => {
  // Each batch bakes 60 s (skipped time), so each lasts a minute of the run's clock.
  const minuteBatches: Partial<RolloutOptions> = {
    shape: { kind: 'batches', batches: [1] },
    bakeSeconds: 60,
  };

  test('no batch starts that the longest batch so far says would end after the window', async () => {
    tat = new FakeTat(fleet(6));
    const s = await ok(
      await start(
        'rollingCommand',
        { command: cmd('true') },
        { ...minuteBatches, maintenanceWindow: { durationSeconds: 150 } },
      ),
    );
    // Batch 1 (0-60 s) and batch 2 (60-120 s) fit; a third would end at 180 s > 150 s.
    assert.equal(s.status, 'window closed');
    assert.deepEqual(sizes('step.command'), [1, 1]);
    assert.match(
      s.window!.closedBecause!,
      /the longest batch so far took 1 min, so one starting at .* would end after it/,
    );
    assert.match(s.note!, /: 4 of 6 target\(s\) not started$/);
    const left = Object.values(s.targets).filter((t) => t.phase === 'skipped');
    assert.equal(left.length, 4);
    for (const t of left) assert.equal(t.reason, `not started: ${s.window!.closedBecause}`);
    assert.equal(Date.parse(s.window!.endsAt) - Date.parse(s.window!.startsAt), 150_000);
    assert.deepEqual(tat.deleted, ['cmd-step.command'], 'the run cleans up as any run does');
  });

  test('no batch starts after the cutoff; without a window the same run does every batch', async () => {
    tat = new FakeTat(fleet(6));
    const s = await ok(
      await start(
        'rollingCommand',
        { command: cmd('true') },
        { ...minuteBatches, maintenanceWindow: { durationSeconds: 600, cutoffSeconds: 480 } },
      ),
    );
    // The cutoff is at 120 s: batches start at 0 and 60 s; the one due at 120 s does not.
    assert.equal(s.status, 'window closed');
    assert.deepEqual(sizes('step.command'), [1, 1]);
    assert.match(s.window!.closedBecause!, /no batch starts after .* \(cutoff 8 min\)$/);
    tat = new FakeTat(fleet(3));
    const all = await ok(await start('rollingCommand', { command: cmd('true') }, minuteBatches));
    assert.equal(all.status, 'succeeded');
    assert.equal(all.window, undefined);
  });

  test('window shapes: no wave is admitted once the window refuses one; waves in flight finish', async () => {
    tat = new FakeTat(fleet(6));
    const s = await ok(
      await start(
        'rollingCommand',
        { command: cmd('true') },
        {
          shape: { kind: 'window', maxConcurrency: 2 },
          bakeSeconds: 60,
          maintenanceWindow: { durationSeconds: 150 },
        },
      ),
    );
    assert.equal(s.status, 'window closed');
    assert.equal(tat.runs('step.command').size, 4);
    assert.match(s.note!, /2 of 6 target\(s\) not started/);
  });

  test('a window whose cutoff is not shorter than it is refused before anything runs', async () => {
    tat = new FakeTat(fleet(2));
    const reason = await runFailure(
      await start(
        'rollingCommand',
        { command: cmd('true') },
        { maintenanceWindow: { durationSeconds: 60, cutoffSeconds: 60 } },
      ),
    );
    assert.match(
      reason,
      /invalid rollout options: maintenanceWindow.cutoffSeconds must be shorter than the window/,
    );
    assert.equal(tat.commands.size, 0);
  });
});
