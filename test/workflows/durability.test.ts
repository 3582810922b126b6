// Killing the worker at the worst moment: right after an invocation was made (most likely before
// the activity could report it). A new worker resumes the run, and no target runs the command twice.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RolloutState } from '../../workflows/engine/types.js';
import { startEngine, type Engine } from '../helpers/engine.js';
import { stopSharedTemporal } from '../../testkit/temporal.js';
import { waitFor } from '../../testkit/wait.js';

let e: Engine;

before(async () => {
  e = await startEngine({ taskQueue: 'durability', agents: 5, workerProcess: true });
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

test('SIGKILL of the worker right after an invocation was made: a new worker completes the run, no target ran twice', async () => {
  const marks = join(e.work, 'marks');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `mkdir -p ${marks}; echo ran >> ${marks}/$TEST_INSTANCE; sleep 1` } },
    { shape: { kind: 'batches', batches: [2, 3] } },
  );
  // The first invocation as tatd sees it, polled fast so the kill lands right after it was made.
  await waitFor(async () => ((await e.tat.DescribeInvocations({ Limit: 1 })).TotalCount ?? 0) > 0, {
    intervalMs: 10,
    what: 'the first invocation',
  });
  e.workerProc!.kill('SIGKILL');
  await new Promise((r) => e.workerProc!.once('exit', r));
  e.startWorkerProcess();
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  for (const id of e.ids) {
    const f = join(marks, id);
    assert.ok(existsSync(f), `${id} ran the command`);
    assert.equal(readFileSync(f, 'utf8'), 'ran\n', `${id} ran the command exactly once`);
  }
  // One invocation per batch: the retried invoke found the first one instead of making another.
  const invs = await e.tat.DescribeInvocations({ Limit: 100 });
  assert.equal(invs.TotalCount, 2);
});

test('tatd killed and restarted mid-batch: the run resumes and no target ran twice', async () => {
  const marks = join(e.work, 'marks-tatd');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `mkdir -p ${marks}; echo ran >> ${marks}/$TEST_INSTANCE; sleep 2` } },
    { shape: { kind: 'batches', batches: [2, 3] } },
  );
  await waitFor(
    async () => (await e.progress(h)).batches[0]?.targets.every((id) => existsSync(join(marks, id))),
    { what: 'batch 1 running' },
  );
  const seen = e.agents.map((a) => a.lines.length);
  await e.tatd.kill('SIGKILL');
  // Down long enough that every agent has found it gone (and the run's polls fail meanwhile).
  await waitFor(
    () =>
      e.agents.every((a, i) =>
        a.lines.slice(seen[i]).some((l) => /"msg":"(disconnected|cannot connect)"/.test(l)),
      ),
    { what: 'every agent to lose tatd' },
  );
  await e.tatd.restart();
  // Agents come back over a few seconds; batch 2 waits for them instead of giving them up.
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  for (const id of e.ids)
    assert.equal(readFileSync(join(marks, id), 'utf8'), 'ran\n', `${id} ran exactly once`);
});
