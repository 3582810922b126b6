// Outcome classes (workflows/engine/outcome.ts): the table of runbooks.md, "Outcomes and the error
// budget" — TAT task status → class, which classes count against the budget, which are "without
// success" for the rule that a batch where nothing succeeded breaches.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FINAL_TASK_STATUSES, isFinalTaskStatus, TASK_STATUSES, type TaskStatus } from '../../tat/status.js';
import {
  countsAsError,
  isUnsuccessful,
  OUTCOME_CLASSES,
  outcomeOf,
  type OutcomeClass,
} from '../../workflows/engine/outcome.js';

// The table, row by row: [TAT task status, class, counts against the budget by default]
const TABLE: [TaskStatus, OutcomeClass, boolean][] = [
  ['SUCCESS', 'succeeded', false],
  ['FAILED', 'failed', true],
  ['TIMEOUT', 'timed out', true],
  ['TASK_TIMEOUT', 'agent lost', true],
  ['DELIVER_FAILED', 'undeliverable', false],
  ['START_FAILED', 'undeliverable', false],
  ['CANCELLED', 'cancelled', false],
  ['TERMINATED', 'cancelled', false],
];

describe('outcomeOf', () => {
  for (const [status, cls] of TABLE)
    test(`${status} → ${cls}`, () => {
      assert.equal(outcomeOf(status), cls);
    });

  for (const status of ['PENDING', 'DELIVERING', 'DELIVER_DELAYED', 'RUNNING', 'CANCELLING'] as const)
    test(`${status} is not final: no class yet`, () => {
      assert.equal(outcomeOf(status), undefined);
    });

  test('exactly the final statuses have a class', () => {
    for (const status of TASK_STATUSES)
      assert.equal(outcomeOf(status) !== undefined, isFinalTaskStatus(status), status);
    assert.deepEqual(
      [...FINAL_TASK_STATUSES].sort(),
      TABLE.map(([s]) => s).sort(),
      'the table covers every final status',
    );
  });

  test('every class is reached from some status', () => {
    const reached = new Set(TASK_STATUSES.map(outcomeOf).filter((c) => c !== undefined));
    assert.deepEqual([...reached].sort(), [...OUTCOME_CLASSES].sort());
  });
});

describe('countsAsError', () => {
  for (const [status, cls, counts] of TABLE)
    test(`${status} (${cls}) ${counts ? 'counts' : 'does not count'} against the budget by default`, () => {
      assert.equal(countsAsError(cls), counts);
      assert.equal(countsAsError(cls, {}), counts);
      assert.equal(countsAsError(cls, { countUndeliverable: false }), counts);
    });

  test('undeliverable counts when configured, and nothing else changes', () => {
    const expected: Record<OutcomeClass, boolean> = {
      succeeded: false,
      failed: true,
      'timed out': true,
      'agent lost': true,
      undeliverable: true,
      cancelled: false,
    };
    for (const c of OUTCOME_CLASSES)
      assert.equal(countsAsError(c, { countUndeliverable: true }), expected[c], c);
  });

  test('DELIVER_FAILED and START_FAILED count only with countUndeliverable', () => {
    for (const status of ['DELIVER_FAILED', 'START_FAILED'] as const) {
      const c = outcomeOf(status)!;
      assert.equal(countsAsError(c), false, status);
      assert.equal(countsAsError(c, { countUndeliverable: true }), true, status);
    }
  });

  test('success and cancellation never count', () => {
    for (const rule of [{}, { countUndeliverable: false }, { countUndeliverable: true }]) {
      assert.equal(countsAsError('succeeded', rule), false);
      assert.equal(countsAsError('cancelled', rule), false);
    }
  });
});

describe('isUnsuccessful', () => {
  // "ended without success (failed, timed out, lost or undeliverable)"
  const cases: [OutcomeClass, boolean][] = [
    ['succeeded', false],
    ['failed', true],
    ['timed out', true],
    ['agent lost', true],
    ['undeliverable', true],
    ['cancelled', false],
  ];
  for (const [c, want] of cases)
    test(`${c}: ${want ? 'without success' : 'not counted as without success'}`, () => {
      assert.equal(isUnsuccessful(c), want);
    });

  test('covers every class', () => {
    assert.deepEqual(cases.map(([c]) => c).sort(), [...OUTCOME_CLASSES].sort());
  });

  test('a batch of only undeliverable targets is without success even when they do not count', () => {
    const batch = (['DELIVER_FAILED', 'START_FAILED', 'DELIVER_FAILED'] as const).map((s) => outcomeOf(s)!);
    assert.ok(batch.every(isUnsuccessful));
    assert.ok(batch.every((c) => !countsAsError(c)));
  });

  test('one success in a batch is enough for it not to be a batch without success', () => {
    const batch = (['FAILED', 'TIMEOUT', 'SUCCESS', 'TASK_TIMEOUT'] as const).map((s) => outcomeOf(s)!);
    assert.equal(batch.every(isUnsuccessful), false);
  });
});
