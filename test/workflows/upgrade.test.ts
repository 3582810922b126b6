// Upgrades under a running run, end to end (real Temporal, tatd, agents, workers):
//  - a runbook file edited while a run of it waits at a gate, and the worker restarted with the
//    new file: the run keeps the definition it started with; a new run takes the new one;
//  - a worker of an older engine (one without the patches definition-once, local-calls and
//    kind-split: it takes their old paths) stopped mid-run, and today's worker started: it replays
//    the run on the old paths and finishes it; a new run takes the new ones.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { approveUpdate } from '../../workflows/engine/messages.js';
import type { RolloutState } from '../../workflows/engine/types.js';
import { bundleRunbooks } from '../../worker/bundle.js';
import { startWorker } from '../../worker/main.js';
import { ACCOUNT, lines, runbookBundle, startEngine, type Engine } from '../helpers/engine.js';
import { sharedTemporal, stopSharedTemporal } from '../../testkit/temporal.js';
import { taskUser } from '../../testkit/task-user.js';

const BEFORE_PATCHES = fileURLToPath(
  new URL('../../../test/fixtures/engine/before-patches.ts', import.meta.url),
);
const dir = taskUser().dir('upgrade-runbooks');
const file = join(dir, 'edit-me.ts');

/** The runbook file: its one step writes `version` to a file per target. */
function writeRunbook(version: string, marks: string): void {
  writeFileSync(
    file,
    `import { defineRunbook, z } from 'tatflow/runbook';
export const editMe = defineRunbook({
  description: 'writes its version on each target (test fixture, rewritten by the test)',
  params: z.strictObject({}),
  build: () => ({
    steps: [{ kind: 'command', name: 'write', command: { content: 'mkdir -p ${marks}; echo ${version} >> ${marks}/$TEST_INSTANCE' } }],
  }),
});
`,
  );
}

let e: Engine;

before(async () => {
  writeRunbook('v1', join(dir, 'unused'));
  e = await startEngine({ taskQueue: 'upgrade', agents: 3, userRunbooks: [file], noWorker: true });
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

/** Markers of patches in a run's history (a patch marker's details hold its id). */
async function patchMarkers(h: WorkflowHandle): Promise<string[]> {
  const history = await h.fetchHistory();
  const out: string[] = [];
  for (const ev of history.events ?? []) {
    const m = ev.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_patch') continue;
    const id = m.details?.['patch-data']?.payloads?.[0]?.data;
    if (id) out.push((JSON.parse(Buffer.from(id).toString()) as { id: string }).id);
  }
  return out;
}

const tat = () => ({ endpoint: e.tatd.url, secretId: ACCOUNT.secretId, secretKey: ACCOUNT.secretKey });

test('a runbook file edited mid-run: the run keeps the definition it started with; new runs take the new one', async () => {
  const marks = join(dir, 'marks-edit');
  writeRunbook('v1', marks);
  let worker = e.startWorkerProcess();
  const h = await e.start(
    'editMe',
    {},
    { shape: { kind: 'batches', batches: [1, 2] }, approval: { afterCanary: true } },
  );
  await e.waitProgress(h, (p) => p.gate?.name === 'after canary', 'the gate after the canary', 90_000);
  // The worker stops, the file changes, a worker with the new file starts.
  const exited = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGTERM');
  await exited;
  writeRunbook('v2', marks);
  worker = e.startWorkerProcess();
  await h.executeUpdate(approveUpdate, { args: [{ by: 'ops', gate: 'after canary' }] });
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  for (const id of e.ids)
    assert.deepEqual(lines(join(marks, id)), ['v1'], `${id} ran the run's own definition`);
  const next: RolloutState = await (
    await e.start('editMe', {}, { shape: { kind: 'batches', batches: [3] } })
  ).result();
  assert.equal(next.status, 'succeeded');
  for (const id of e.ids)
    assert.deepEqual(lines(join(marks, id)), ['v1', 'v2'], `a new run of ${id} took the edit`);
  const exit = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGTERM');
  await exit;
});

test('a worker of an older engine stopped mid-run: today’s worker finishes the run on its old paths', async () => {
  const marks = join(dir, 'marks-upgrade');
  const temporal = await sharedTemporal();
  const common = {
    temporalAddress: temporal.address,
    namespace: 'default',
    taskQueue: 'upgrade',
    tat: tat(),
  };
  const old = await startWorker({
    ...common,
    runbooks: [],
    workflowBundle: await bundleRunbooks([], { replace: { 'engine/versioning.js': BEFORE_PATCHES } }),
  });
  const content = `mkdir -p ${marks}; echo ran >> ${marks}/$TEST_INSTANCE`;
  const h = await e.start(
    'rollingCommand',
    { command: { content } },
    { shape: { kind: 'batches', batches: [1, 2] }, approval: { afterCanary: true } },
  );
  await e.waitProgress(h, (p) => p.gate?.name === 'after canary', 'the gate after the canary', 90_000);
  await old.stop();
  const today = await startWorker({ ...common, runbooks: [], workflowBundle: await runbookBundle() });
  try {
    await h.executeUpdate(approveUpdate, { args: [{ by: 'ops', gate: 'after canary' }] });
    const s: RolloutState = await h.result();
    assert.equal(s.status, 'succeeded');
    for (const id of e.ids) assert.deepEqual(lines(join(marks, id)), ['ran'], `${id} ran once`);
    const taken = await patchMarkers(h);
    assert.ok(taken.includes('check-input'), `markers: ${taken.join(', ')}`);
    for (const id of ['definition-once', 'local-calls', 'kind-split'])
      assert.ok(!taken.includes(id), `the run stayed on the old path of ${id}`);
    const fresh = await e.start('rollingCommand', { command: { content: 'true' } }, {});
    assert.equal(((await fresh.result()) as RolloutState).status, 'succeeded');
    const now = await patchMarkers(fresh);
    for (const id of ['definition-once', 'local-calls', 'kind-split'])
      assert.ok(now.includes(id), `a new run takes the new path of ${id}`);
  } finally {
    await today.stop();
  }
});
