// Rendering runs without a server: `status`'s tables (no empty header row, cancelled apart from
// failed, an aborted run shown aborted, a pause's comment), `runs`' rows from what visibility gives
// (the published status, or Temporal's when the run ended without publishing one), `logs`' step
// names from invocation keys and its task text.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypedSearchAttributes, type SearchAttributePair } from '@temporalio/common';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { StatusJson } from '../../client/json-output.js';
import { barLine, headline, renderStatus } from '../../client/progress.js';
import { parseStatuses, rowOf } from '../../client/runs/list.js';
import { stepCommandName } from '../../activities/commands.js';
import { renderTask, stepOfCommandName, stepOfKey } from '../../client/runs/logs.js';
import { stateJson } from '../../client/runs/state-json.js';
import { RUN_ATTRIBUTES } from '../../workflows/engine/visibility.js';
import type { RolloutState } from '../../workflows/engine/types.js';

function state(over: Partial<RolloutState> = {}): RolloutState {
  return {
    status: 'failed',
    shapeKind: 'batches',
    batches: [{ index: 0, targets: ['ins-a', 'ins-b', 'ins-c'], status: 'failed' }],
    targets: {
      'ins-a': {
        id: 'ins-a',
        batch: 0,
        phase: 'done',
        outcome: 'failed',
        exitCode: 4,
        reason: 'command: FAILED',
      },
      'ins-b': {
        id: 'ins-b',
        batch: 0,
        phase: 'done',
        outcome: 'cancelled',
        reason: 'not health-checked: the run stopped',
      },
      'ins-c': { id: 'ins-c', batch: 0, phase: 'done', outcome: 'succeeded' },
    },
    currentBatch: 0,
    errors: 1,
    maxErrors: 0,
    decisions: [],
    commands: {},
    startedAt: '2026-05-01T10:00:00.000Z',
    generation: 0,
    nextWave: 0,
    reason: 'error budget exceeded: 1 failed > maxErrors 0 in batch 1',
    ...over,
  };
}

test('status tables: no empty header row; cancelled counted apart from failed, as the budget line', () => {
  const text = renderStatus('r1', state());
  const lines = text.split('\n');
  assert.match(lines[0]!, /^┌/);
  assert.match(lines[1]!, /^│ run\s+│ r1\s+│$/, 'the first row is the run, not an empty header');
  assert.ok(!/^│\s+│\s+│$/m.test(text), text);
  assert.match(text, /│ batch │ targets │ ok │ failed │ cancelled │ status │/);
  assert.match(text, /│ 1\s+│ 3\s+│ 1\s+│ 1\s+│ 1\s+│ failed/);
  assert.match(text, /errors 1\/0 allowed/);
  assert.match(barLine(state(), state().batches[0]!), /3\/3 · 1 ok 1 failed 1 cancelled · failed$/);
  const j = StatusJson.parse(stateJson('r1', 'rollingCommand', state()));
  assert.deepEqual([j.counts.failed, j.counts.cancelled, j.counts.succeeded], [1, 1, 1]);
});

test('an aborted run is shown aborted, even one an older engine ended failed; a pause shows its comment', () => {
  const aborted = { by: 'erin', comment: 'wrong build', at: '2026-05-01T10:01:00.000Z' };
  const old = state({ status: 'failed', aborted, reason: 'aborted by erin: wrong build' });
  assert.match(renderStatus('r1', old), /│ status\s+│ aborted/);
  assert.match(renderStatus('r1', old), /│ aborted\s+│ by erin: wrong build at/);
  assert.equal(stateJson('r1', null, old).status, 'aborted');
  const paused = state({
    status: 'paused',
    reason: undefined,
    paused: { by: 'fred', comment: 'lunch', at: '2026-05-01T10:01:00.000Z' },
  });
  assert.match(headline(paused), /paused · batch 1\/1 · errors 1\/0 allowed · paused by fred: lunch$/);
  assert.match(renderStatus('r1', paused), /│ paused\s+│ by fred: lunch at/);
});

function info(
  status: WorkflowExecutionInfo['status']['name'],
  attrs: SearchAttributePair[],
  type = 'rollingCommand',
): WorkflowExecutionInfo {
  return {
    type,
    workflowId: 'r1',
    runId: 'x',
    taskQueue: 'tatflow',
    status: { code: 0, name: status },
    historyLength: 10,
    startTime: new Date('2026-05-01T10:00:00Z'),
    ...(status === 'RUNNING' ? {} : { closeTime: new Date('2026-05-01T10:05:00Z') }),
    searchAttributes: {},
    typedSearchAttributes: new TypedSearchAttributes(attrs),
    raw: {},
  } as WorkflowExecutionInfo;
}

test("runs: a row from the run's search attributes, or from Temporal when the run published no end", () => {
  const now = Date.parse('2026-05-01T11:00:00Z');
  const row = rowOf(
    info('RUNNING', [
      { key: RUN_ATTRIBUTES.status, value: 'waiting for approval' },
      { key: RUN_ATTRIBUTES.startedBy, value: 'erin' },
      { key: RUN_ATTRIBUTES.targets, value: 5 },
      { key: RUN_ATTRIBUTES.done, value: 1 },
      { key: RUN_ATTRIBUTES.failed, value: 0 },
    ]),
    now,
  );
  assert.deepEqual(
    [row.status, row.startedBy, row.targets, row.done, row.ageSeconds, row.endedAt],
    ['waiting for approval', 'erin', 5, 1, 3600, null],
  );
  // Failed before it published anything but the `planning` `tatflow run` set: failed.
  const early = rowOf(info('FAILED', [{ key: RUN_ATTRIBUTES.status, value: 'planning' }]), now);
  assert.equal(early.status, 'failed');
  assert.equal(rowOf(info('TERMINATED', []), now).status, 'aborted');
  assert.equal(rowOf(info('COMPLETED', []), now).status, 'succeeded');
  assert.equal(
    rowOf(info('FAILED', [{ key: RUN_ATTRIBUTES.status, value: 'aborted' }]), now).status,
    'aborted',
  );
  assert.deepEqual(parseStatuses(['waiting', 'window-closed,failed']), [
    'waiting for approval',
    'window closed',
    'failed',
  ]);
  assert.throws(() => parseStatuses(['ok']), /--status: "ok" is not a run status/);
});

test("logs: the step of a run's command (its key, its name), and a task as text with its full-output link", () => {
  assert.equal(stepOfKey('step.deploy'), 'deploy');
  assert.equal(stepOfKey('health'), 'health');
  assert.equal(stepOfKey('deploy'), 'deploy', 'runs before step roles keyed by bare name');
  assert.equal(stepOfCommandName(stepCommandName('run-1', 'step.deploy')), 'deploy');
  assert.equal(stepOfCommandName(stepCommandName('run-1', 'rollback')), 'rollback');
  assert.equal(stepOfCommandName('my-own-command'), undefined, 'not a command tatflow made');
  assert.equal(stepOfCommandName(undefined), undefined);
  const text = renderTask({
    instance: 'ins-a',
    step: 'deploy',
    invocationId: 'inv-1',
    taskId: 'invt-1',
    status: 'FAILED',
    exitCode: 2,
    output: 'line 1\nline 2\n',
    dropped: 10,
    outputUrl: 'http://127.0.0.1:9000/cos/dev/o',
    startTime: null,
    endTime: null,
  });
  assert.equal(
    text,
    '── ins-a · deploy · FAILED, exit 2 · invt-1\n  line 1\n  line 2\n  [10 more bytes not kept by the TAT endpoint]\n  full output: http://127.0.0.1:9000/cos/dev/o',
  );
});
