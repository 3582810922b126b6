// Approval gates, pause/resume, abort and workflow cancellation, end to end on 5 real agents.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
} from '../../workflows/engine/messages.js';
import type { RolloutState } from '../../workflows/engine/types.js';
import { lines, runFailure, startEngine, type Engine } from '../helpers/engine.js';
import { processesMatching } from '../helpers/invocations.js';
import { stopSharedTemporal } from '../../testkit/temporal.js';
import { stays, waitFor } from '../../testkit/wait.js';

let e: Engine;
/**
 * Why watching for 1 s is enough to see a batch that should not start: a dispatched batch reaches
 * its agents and writes its line in well under 200 ms here (the runbook-overhead bench measures
 * ~50 ms of engine time per batch), so a gate or pause that let one through would show in 1 s.
 */
const DISPATCH_WHY = 'a wrongly dispatched batch writes its line within ~200 ms; 1 s is five times that';

before(async () => {
  e = await startEngine({ taskQueue: 'control', agents: 5 });
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

/** An update the run refuses, with the reason it gave. */
async function refused(p: Promise<unknown>, reason: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.ok(err instanceof WorkflowUpdateFailedError, `the update should be refused, got ${String(err)}`);
  assert.match(err.cause?.message ?? '', reason);
}

test('an approval gate after the canary waits; approve lets the run go on and is recorded', async () => {
  const log = join(e.work, 'gate-approve.log');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `echo "$TEST_INSTANCE" >> ${log}` } },
    { shape: { kind: 'batches', batches: [1, 4] }, approval: { afterCanary: true } },
  );
  const s = await e.waitProgress(h, (p) => p.gate?.name === 'after canary', 'the gate after the canary');
  assert.equal(s.status, 'waiting for approval');
  await stays(() => lines(log).length === 1, {
    forMs: 1000,
    what: 'only the canary ran while the gate waits',
    why: DISPATCH_WHY,
  });
  await refused(h.executeUpdate(approveUpdate, { args: [{ by: '' }] }), /"by" is required/);
  const answer = await h.executeUpdate(approveUpdate, {
    args: [{ by: 'alice', comment: 'canary looks fine' }],
  });
  assert.match(answer, /approved gate "after canary"/);
  const done: RolloutState = await h.result();
  assert.equal(done.status, 'succeeded');
  assert.equal(lines(log).length, 5);
  assert.deepEqual(
    done.decisions.map((d) => [d.gate, d.approved, d.by, d.comment]),
    [['after canary', true, 'alice', 'canary looks fine']],
  );
});

test('an approval names its gate: a late approval of one gate cannot pass the next', async () => {
  const log = join(e.work, 'gate-named.log');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `echo "$TEST_INSTANCE" >> ${log}` } },
    { shape: { kind: 'batches', batches: [1, 2, 2] }, approval: { everyBatch: true } },
  );
  await e.waitProgress(h, (p) => p.gate?.name === 'before start', 'the gate before start');
  assert.match(
    await h.executeUpdate(approveUpdate, { args: [{ by: 'alice', gate: 'before start' }] }),
    /approved gate "before start"/,
  );
  await e.waitProgress(h, (p) => p.gate?.name === 'before batch 2', 'the gate before batch 2');
  // Bob approves what he saw, the gate before start, after Alice: it must not pass batch 2.
  await refused(
    h.executeUpdate(approveUpdate, { args: [{ by: 'bob', gate: 'before start' }] }),
    /the run waits at gate "before batch 2", not "before start"/,
  );
  await refused(
    h.executeUpdate(rejectUpdate, { args: [{ by: 'bob', gate: 'before batch 3' }] }),
    /not "before batch 3"/,
  );
  await stays(() => lines(log).length === 1, {
    forMs: 1000,
    what: 'batch 2 waits at its gate after the refused approval',
    why: DISPATCH_WHY,
  });
  await h.executeUpdate(approveUpdate, { args: [{ by: 'carol', gate: 'before batch 2' }] });
  await e.waitProgress(h, (p) => p.gate?.name === 'before batch 3', 'the gate before batch 3');
  // A client that names no gate approves the one waiting (as clients did before gates were named).
  await h.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] });
  const done: RolloutState = await h.result();
  assert.equal(done.status, 'succeeded');
  assert.deepEqual(
    done.decisions.map((d) => [d.gate, d.by]),
    [
      ['before start', 'alice'],
      ['before batch 2', 'carol'],
      ['before batch 3', 'dave'],
    ],
  );
});

test('reject at the gate before start aborts the run before anything runs', async () => {
  const log = join(e.work, 'gate-reject.log');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `echo "$TEST_INSTANCE" >> ${log}` } },
    { approval: { beforeStart: true } },
  );
  await e.waitProgress(h, (p) => p.gate?.name === 'before start', 'the gate before start');
  await h.executeUpdate(rejectUpdate, { args: [{ by: 'bob', comment: 'change freeze' }] });
  assert.match(await runFailure(h), /aborted by bob: change freeze/);
  assert.equal(lines(log).length, 0);
});

test('a gate that times out fails the run, or continues when told to', async () => {
  const h1 = await e.start(
    'rollingCommand',
    { command: { content: 'true' } },
    { approval: { beforeStart: true, timeoutSeconds: 1 } },
  );
  assert.match(await runFailure(h1), /approval timed out at gate "before start"/);
  const h2 = await e.start(
    'rollingCommand',
    { command: { content: 'true' } },
    { approval: { beforeStart: true, timeoutSeconds: 1, onTimeout: 'continue' } },
  );
  const s: RolloutState = await h2.result();
  assert.equal(s.status, 'succeeded');
  assert.equal(s.decisions[0]?.by, 'timeout');
});

test('pause holds before the next batch; resume goes on', async () => {
  const log = join(e.work, 'pause.log');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `sleep 1; echo "$TEST_INSTANCE" >> ${log}` } },
    { shape: { kind: 'batches', batches: [1, 4] } },
  );
  await e.waitProgress(h, (p) => p.batches[0]?.status === 'running', 'batch 1 running');
  await h.executeUpdate(pauseUpdate, { args: [{ by: 'carol' }] });
  await refused(h.executeUpdate(pauseUpdate, { args: [{ by: 'carol' }] }), /already paused/);
  await refused(h.executeUpdate(approveUpdate, { args: [{ by: 'carol' }] }), /no approval gate is waiting/);
  const held = await e.waitProgress(
    h,
    (p) => p.batches[0]?.status === 'healthy' && p.status === 'paused',
    'paused after batch 1',
  );
  assert.equal(held.batches[1]!.status, 'pending');
  await stays(() => lines(log).length === 1, {
    forMs: 1000,
    what: 'nothing new starts while paused',
    why: DISPATCH_WHY,
  });
  await h.executeUpdate(resumeUpdate, { args: [{ by: 'carol' }] });
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  assert.equal(lines(log).length, 5);
});

test('abort mid-batch cancels the invocations, leaves no remote process, and rolls back the changed targets', async () => {
  const marker = `sleep 98${String(Date.now()).slice(-5)}1`;
  const rolled = join(e.work, 'abort-rollback.log');
  const h = await e.start(
    'rollingCommand',
    {
      command: { content: marker, timeout: 300 },
      rollback: { content: `echo "$TEST_INSTANCE" >> ${rolled}` },
    },
    { shape: { kind: 'batches', batches: [2, 3] } },
  );
  await e.waitProgress(
    h,
    (p) => p.batches[0]?.targets.every((id) => p.targets[id]!.invocationId) ?? false,
    'batch 1 dispatched',
  );
  const s0 = await e.progress(h);
  const first = s0.batches[0]!.targets;
  await waitFor(() => processesMatching(marker).length === 2, {
    what: 'both targets of batch 1 to run the command',
  });
  await h.executeUpdate(abortUpdate, { args: [{ by: 'dave', comment: 'wrong build' }] });
  assert.match(await runFailure(h), /aborted by dave: wrong build/);
  assert.deepEqual(processesMatching(marker), [], 'no remote process is left');
  const s = await e.progress(h);
  for (const id of first) {
    assert.equal(s.targets[id]!.status, 'TERMINATED');
    assert.equal(s.targets[id]!.changed, true);
  }
  assert.deepEqual(lines(rolled).sort(), [...first].sort());
  assert.equal(Object.values(s.targets).filter((t) => t.phase === 'skipped').length, 3);
});

test('abort during a bake ends the bake at once: the unchecked target is cancelled, not failed', async () => {
  // An hour's bake: only the abort can end this run within the test's time.
  const h = await e.start(
    'rollingCommand',
    { command: { content: 'true' }, healthCheck: { command: { content: 'true' } } },
    { shape: { kind: 'batches', batches: [1, 4] }, bakeSeconds: 3600 },
  );
  await e.waitProgress(
    h,
    (p) => {
      const first = p.batches[0]?.targets[0];
      return !!first && p.targets[first]!.status === 'SUCCESS';
    },
    'batch 1 ran its step (and bakes)',
  );
  await h.executeUpdate(abortUpdate, { args: [{ by: 'erin', comment: 'bad canary' }] });
  assert.match(await runFailure(h), /aborted by erin: bad canary/);
  const s = await e.progress(h);
  const first = s.batches[0]!.targets[0]!;
  assert.equal(s.targets[first]!.outcome, 'cancelled');
  assert.match(s.targets[first]!.reason ?? '', /not health-checked/);
  assert.equal(s.batches[0]!.status, 'cancelled');
  assert.equal(s.errors, 0, 'nothing counted against the budget');
  assert.equal(s.batches[1]!.status, 'skipped');
});

test('cancelling the workflow cleans up like abort: no remote process is left', async () => {
  const marker = `sleep 98${String(Date.now()).slice(-5)}2`;
  const h = await e.start(
    'rollingCommand',
    { command: { content: marker, timeout: 300 } },
    { shape: { kind: 'batches', batches: [5] } },
  );
  await waitFor(() => processesMatching(marker).length === 5, { what: 'the 5 targets to run the command' });
  await h.cancel();
  const err = await h.result().then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.deepEqual(processesMatching(marker), []);
  const s = await e.progress(h);
  assert.deepEqual(
    Object.values(s.targets).map((t) => [t.status, t.changed]),
    e.ids.map(() => ['TERMINATED', true]),
  );
});
