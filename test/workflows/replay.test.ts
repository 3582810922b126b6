// Replay of recorded histories (real runs of the workflow tests: gates, pause, abort, cancel,
// breach and rollback, health checks, reboots, user runbooks) against today's workflow code. A
// change that makes the code take a different path for the same history fails here, before it
// breaks runs in flight. Histories recorded before a patch keep replaying on the old path; each
// patch also has histories of runs that took its new path (docs/engine.md, "Changing workflow
// code", says how to record them).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import * as patches from '../../workflows/engine/patches.js';
import { runbookBundle } from '../helpers/engine.js';

const DIR = fileURLToPath(new URL('../../../test/fixtures/histories/', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));
const ROLES = fileURLToPath(new URL('../../../test/fixtures/runbooks/named-like-roles.ts', import.meta.url));

test('every recorded history replays without non-determinism', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 10, `fixtures: ${files.length}`);
  const histories = files.map((f) => ({
    workflowId: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(`${DIR}${f}`, 'utf8'))),
  }));
  const workflowBundle = await runbookBundle([EXAMPLE, ROLES]);
  const failures: string[] = [];
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowBundle }, histories)) {
    replayed++;
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  }
  assert.equal(replayed, files.length);
  assert.deepEqual(failures, []);
});

test('every patch of the engine has recorded histories of runs that took its new path', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  const text = files.map((f) => readFileSync(`${DIR}${f}`, 'utf8'));
  for (const id of Object.values(patches)) {
    // A patch marker's details hold {"id":"<patch>",...} as base64 JSON.
    const marker = Buffer.from(JSON.stringify({ id, deprecated: false })).toString('base64');
    const taking = text.filter((t) => t.includes(marker)).length;
    assert.ok(taking > 0, `no recorded history takes the path of patch "${id}"`);
  }
});
