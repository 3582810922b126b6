// How task statuses fold into the invocation status (tat/status.ts, the rule of
// docs/tat-api-reference.md, "Task and invocation statuses").

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FINAL_TASK_STATUSES,
  foldInvocationStatus,
  INVOCATION_STATUSES,
  isFinalInvocationStatus,
  isFinalTaskStatus,
  TASK_STATUSES,
  type InvocationStatus,
  type TaskStatus,
} from '../../tat/status.js';

const CASES: [TaskStatus[], InvocationStatus][] = [
  [[], 'PENDING'],
  [['PENDING'], 'PENDING'],
  [['PENDING', 'DELIVERING', 'DELIVER_DELAYED'], 'PENDING'],
  [['RUNNING'], 'RUNNING'],
  [['PENDING', 'RUNNING'], 'RUNNING'],
  // one task has ended, another not started: the invocation is under way
  [['SUCCESS', 'DELIVER_DELAYED'], 'RUNNING'],
  [['FAILED', 'PENDING'], 'RUNNING'],
  [['CANCELLING'], 'CANCELLING'],
  [['CANCELLING', 'RUNNING', 'SUCCESS'], 'CANCELLING'],
  [['CANCELLING', 'PENDING'], 'CANCELLING'],
  [['SUCCESS'], 'SUCCESS'],
  [['SUCCESS', 'SUCCESS', 'SUCCESS'], 'SUCCESS'],
  [['CANCELLED'], 'CANCELLED'],
  [['CANCELLED', 'TERMINATED'], 'CANCELLED'],
  [['SUCCESS', 'CANCELLED'], 'PARTIAL_CANCELLED'],
  [['SUCCESS', 'TERMINATED', 'SUCCESS'], 'PARTIAL_CANCELLED'],
  [['FAILED'], 'FAILED'],
  [['FAILED', 'START_FAILED', 'DELIVER_FAILED', 'TASK_TIMEOUT'], 'FAILED'],
  [['TIMEOUT'], 'TIMEOUT'],
  [['TIMEOUT', 'TIMEOUT'], 'TIMEOUT'],
  [['TIMEOUT', 'FAILED'], 'FAILED'],
  [['TASK_TIMEOUT'], 'FAILED'],
  [['SUCCESS', 'FAILED'], 'PARTIAL_FAILED'],
  [['SUCCESS', 'TIMEOUT'], 'PARTIAL_FAILED'],
  [['CANCELLED', 'FAILED'], 'PARTIAL_FAILED'],
  [['SUCCESS', 'CANCELLED', 'DELIVER_FAILED'], 'PARTIAL_FAILED'],
];

describe('foldInvocationStatus', () => {
  for (const [tasks, expected] of CASES)
    test(`[${tasks.join(', ')}] → ${expected}`, () => {
      assert.equal(foldInvocationStatus(tasks), expected);
    });

  test('the order of the tasks does not matter', () => {
    for (const [tasks, expected] of CASES) assert.equal(foldInvocationStatus([...tasks].reverse()), expected);
  });

  test('any iterable will do', () => {
    assert.equal(foldInvocationStatus(new Set<TaskStatus>(['SUCCESS', 'FAILED'])), 'PARTIAL_FAILED');
    function* gen(): Generator<TaskStatus> {
      yield 'RUNNING';
      yield 'SUCCESS';
    }
    assert.equal(foldInvocationStatus(gen()), 'RUNNING');
  });

  test('an invocation is final exactly when all its tasks are', () => {
    for (const a of TASK_STATUSES)
      for (const b of TASK_STATUSES) {
        const folded = foldInvocationStatus([a, b]);
        assert.ok(INVOCATION_STATUSES.includes(folded));
        assert.equal(
          isFinalInvocationStatus(folded),
          isFinalTaskStatus(a) && isFinalTaskStatus(b),
          `[${a}, ${b}] → ${folded}`,
        );
      }
  });
});

describe('final statuses', () => {
  test('tasks: the eight end states, nothing else', () => {
    assert.deepEqual(
      TASK_STATUSES.filter(isFinalTaskStatus),
      TASK_STATUSES.filter((s) => (FINAL_TASK_STATUSES as readonly string[]).includes(s)),
    );
    for (const s of ['PENDING', 'DELIVERING', 'DELIVER_DELAYED', 'RUNNING', 'CANCELLING'])
      assert.equal(isFinalTaskStatus(s), false, s);
    assert.equal(isFinalTaskStatus('NOT_A_STATUS'), false);
  });

  test('invocations: all but PENDING, RUNNING and CANCELLING', () => {
    assert.deepEqual(
      INVOCATION_STATUSES.filter((s) => !isFinalInvocationStatus(s)),
      ['PENDING', 'RUNNING', 'CANCELLING'],
    );
  });
});
