// rollingCommand end to end: Temporal dev server, a worker, tatd, 5 agent processes, real shells.
// Scripts write marker files named after TEST_INSTANCE, so the tests see exactly who ran what.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RolloutState } from '../../workflows/engine/types.js';
import { waitAgents } from '../../testkit/agents.js';
import { lines, runFailure, startEngine, type Engine } from '../helpers/engine.js';
import { stopSharedTemporal } from '../../testkit/temporal.js';

let e: Engine;

before(async () => {
  e = await startEngine({ taskQueue: 'rolling-command', agents: 5 });
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

test('a rolling command across 3 batches succeeds on every target', async () => {
  const log = join(e.work, 'ok.log');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `echo "$TEST_INSTANCE" >> ${log}` } },
    { shape: { kind: 'batches', batches: [1, 2] } },
  );
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  assert.deepEqual(
    s.batches.map((b) => b.targets.length),
    [1, 2, 2],
  );
  assert.ok(s.batches.every((b) => b.status === 'healthy'));
  assert.ok(Object.values(s.targets).every((t) => t.outcome === 'succeeded' && t.taskId));
  // Once per target, in batch order.
  assert.deepEqual(lines(log).slice(0, 1), [s.batches[0]!.targets[0]]);
  assert.deepEqual([...lines(log)].sort(), [...e.ids].sort());
  // The run's saved commands are deleted at the end.
  const cmds = await e.tat.DescribeCommands({ Limit: 100 });
  assert.deepEqual(
    (cmds.CommandSet ?? []).filter((c) => c.CommandName?.startsWith('tatflow-')).map((c) => c.CommandName),
    [],
  );
});

test('a failing batch breaches; rollback runs on exactly the changed targets, in reverse batch order', async () => {
  const [, , , d, x] = e.ids;
  const changes = join(e.work, 'changes.log');
  const rollbacks = join(e.work, 'rollbacks.log');
  const h = await e.start(
    'rollingCommand',
    {
      command: {
        content: `echo "$TEST_INSTANCE" >> ${changes}
case "$TEST_INSTANCE" in ${d}|${x}) echo "disk full on $TEST_INSTANCE"; exit 3;; esac`,
      },
      rollback: { content: `sleep 0.2; echo "$TEST_INSTANCE" >> ${rollbacks}` },
    },
    { targets: { instanceIds: e.ids }, shape: { kind: 'batches', batches: [1, 2] }, maxErrors: 1 },
  );
  const reason = await runFailure(h);
  assert.match(reason, /error budget exceeded: 2 failed > maxErrors 1 in batch 3/);
  const s = await e.progress(h);
  assert.equal(s.status, 'failed');
  assert.equal(s.targets[d!]!.outcome, 'failed');
  assert.equal(s.targets[d!]!.exitCode, 3);
  assert.match(s.targets[d!]!.output ?? '', /disk full/);
  // Every target changed (all five started the command); rollback: batch 3, then 2, then 1.
  const rolled = lines(rollbacks);
  assert.deepEqual([...rolled].sort(), [...e.ids].sort());
  const order = rolled.map((id) => s.targets[id]!.batch);
  assert.deepEqual(
    order,
    [...order].sort((p, q) => q - p),
  );
  assert.ok(Object.values(s.targets).every((t) => t.rollback?.outcome === 'succeeded'));
});

test('rollback skips targets that never started; the run names the batch and counts', async () => {
  const [a] = e.ids;
  const rollbacks = join(e.work, 'rollbacks-2.log');
  const h = await e.start(
    'rollingCommand',
    {
      command: { content: `case "$TEST_INSTANCE" in ${a}) exit 1;; esac` },
      rollback: { content: `echo "$TEST_INSTANCE" >> ${rollbacks}` },
    },
    { shape: { kind: 'batches', batches: [1, 2] }, maxErrors: 0 },
  );
  const reason = await runFailure(h);
  assert.match(reason, /1 failed > maxErrors 0 in batch 1/);
  const s = await e.progress(h);
  assert.deepEqual(lines(rollbacks), [a]);
  assert.equal(Object.values(s.targets).filter((t) => t.phase === 'skipped').length, 4);
});

test('the budget is never overshot with a large window under a strict budget', async () => {
  const ran = join(e.work, 'strict.log');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `echo "$TEST_INSTANCE" >> ${ran}; sleep 0.3; exit 1` } },
    { shape: { kind: 'window', maxConcurrency: 5 }, maxErrors: 1, strictBudget: true },
  );
  const reason = await runFailure(h);
  assert.match(reason, /2 failed > maxErrors 1/);
  // At most maxErrors + 1 targets ever ran.
  assert.equal(lines(ran).length, 2);
});

test('a health check failure breaches', async () => {
  const [, b] = e.ids;
  const h = await e.start(
    'rollingCommand',
    {
      command: { content: 'true' },
      healthCheck: {
        command: { content: `case "$TEST_INSTANCE" in ${b}) echo unhealthy; exit 1;; esac` },
        retries: 1,
        intervalSeconds: 1,
      },
    },
    { shape: { kind: 'batches', batches: [1, 2] } },
  );
  const reason = await runFailure(h);
  assert.match(reason, new RegExp(`health check failed on ${b}`));
  const s = await e.progress(h);
  assert.equal(s.targets[b!]!.unhealthy, true);
  assert.equal(s.batches[2]!.status, 'skipped');
});

test('offline agents are skipped at plan time, or the run refuses to start', async () => {
  const agent = e.agents[4]!;
  const away = agent.instanceId;
  await agent.stop();
  try {
    await waitAgents(e.tat, [away], 'Offline');
    const refused = await e.start('rollingCommand', { command: { content: 'true' } }, { offline: 'refuse' });
    assert.match(await runFailure(refused), new RegExp(`agents offline or unknown: ${away}`));
    const h = await e.start(
      'rollingCommand',
      { command: { content: 'true' } },
      { shape: { kind: 'batches', batches: ['50%'] } },
    );
    const s: RolloutState = await h.result();
    assert.equal(s.status, 'succeeded');
    assert.deepEqual([s.targets[away]!.phase, s.targets[away]!.reason], ['skipped', 'agent offline']);
    // 50% of all 5 targets (the offline one included) is 2 per batch.
    assert.deepEqual(
      s.batches.map((b) => b.targets.length),
      [2, 2],
    );
  } finally {
    agent.start();
    await waitAgents(e.tat, [away], 'Online');
  }
});

test('ramp-up starts with one target, then doubles while targets succeed', async () => {
  const h = await e.start(
    'rollingCommand',
    { command: { content: 'sleep 0.2' } },
    { shape: { kind: 'rampUp', maxConcurrency: 4 } },
  );
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  const sizes = s.batches.map((b) => b.targets.length);
  assert.equal(sizes[0], 1, `waves: ${sizes.join(', ')}`);
  assert.ok((sizes[1] ?? 0) <= 2, `waves: ${sizes.join(', ')}`);
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    5,
  );
  assert.ok(Object.values(s.targets).every((t) => t.outcome === 'succeeded'));
});
