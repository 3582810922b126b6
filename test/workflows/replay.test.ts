// Replay of recorded histories (real runs of the workflow tests: gates, pause, abort, cancel,
// breach and rollback, health checks, reboots, a user runbook) against today's workflow code.
// A change that makes the code take a different path for the same history fails here, before it
// breaks runs in flight. Re-record with TATFLOW_RECORD_HISTORIES=test/fixtures/histories (see
// test/helpers/engine.ts) when a change is meant to be incompatible (and version it with patched()).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { runbookBundle } from '../helpers/engine.js';

const DIR = fileURLToPath(new URL('../../../test/fixtures/histories/', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));

test('every recorded history replays without non-determinism', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 10, `fixtures: ${files.length}`);
  const histories = files.map((f) => ({
    workflowId: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(`${DIR}${f}`, 'utf8'))),
  }));
  const workflowBundle = await runbookBundle([EXAMPLE]);
  const failures: string[] = [];
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowBundle }, histories)) {
    replayed++;
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  }
  assert.equal(replayed, files.length);
  assert.deepEqual(failures, []);
});
