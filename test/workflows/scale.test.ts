// 500 targets (one agent process serving 500 identities, each running real shells): the workflow
// keeps its history small by continuing as new between batches, and every target is done once.

import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, test } from 'node:test';
import type { RolloutState } from '../../workflows/engine/types.js';
import { startEngine, type Engine } from '../helpers/engine.js';
import { stopSharedTemporal } from '../../testkit/temporal.js';

let e: Engine;
// Root's login profile on some machines costs a lot per shell; a plain account keeps 500 shells cheap.
const runAs =
  process.getuid?.() === 0
    ? { username: 'nobody', workingDirectory: '/tmp' }
    : { username: userInfo().username };

before(async () => {
  e = await startEngine({ taskQueue: 'scale', agents: 500, fleet: true });
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

test('500 targets in batches of 10% continue as new and all succeed', async () => {
  const h = await e.start(
    'rollingCommand',
    { command: { content: 'echo "$HOSTNAME" > /dev/null', ...runAs } },
    { shape: { kind: 'batches', batches: [1, '10%'] }, pollIntervalMs: 300, historyEventLimit: 30 },
  );
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  assert.equal(Object.keys(s.targets).length, 500);
  assert.ok(Object.values(s.targets).every((t) => t.outcome === 'succeeded'));
  assert.deepEqual(
    s.batches.map((b) => b.targets.length),
    [1, 50, 50, 50, 50, 50, 50, 50, 50, 50, 49],
  );
  assert.ok(s.generation >= 2, `continued as new ${s.generation} times`);
  // Each run of the chain stayed small.
  const desc = await e.client.workflow.getHandle(h.workflowId).describe();
  assert.ok(desc.historyLength < 200, `last run's history has ${desc.historyLength} events`);
  // Invocations: one per batch (≤100 targets each), none repeated across the continue-as-new chain.
  const invs = await e.tat.DescribeInvocations({ Limit: 100 });
  assert.equal(invs.TotalCount, 11);
});
