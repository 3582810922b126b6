// Outcome classes of a target, mapped from its TAT task status (runbooks.md, Outcomes), and which
// of them count against the error budget.

import type { TaskStatus } from '../../tat/status.js';

export const OUTCOME_CLASSES = [
  'succeeded',
  'failed',
  'timed out',
  'agent lost',
  'undeliverable',
  'cancelled',
] as const;
export type OutcomeClass = (typeof OUTCOME_CLASSES)[number];

const CLASS_OF: Partial<Record<TaskStatus, OutcomeClass>> = {
  SUCCESS: 'succeeded',
  FAILED: 'failed',
  TIMEOUT: 'timed out',
  TASK_TIMEOUT: 'agent lost',
  DELIVER_FAILED: 'undeliverable',
  START_FAILED: 'undeliverable',
  CANCELLED: 'cancelled',
  TERMINATED: 'cancelled',
};

/** The class of a final task status; undefined while the task is not final. */
export function outcomeOf(status: TaskStatus): OutcomeClass | undefined {
  return CLASS_OF[status];
}

/** Which classes count against the budget: the defaults, and `undeliverable` on request. */
export interface CountingRule {
  countUndeliverable?: boolean;
}

export function countsAsError(c: OutcomeClass, rule: CountingRule = {}): boolean {
  switch (c) {
    case 'failed':
    case 'timed out':
    case 'agent lost':
      return true;
    case 'undeliverable':
      return rule.countUndeliverable === true;
    default:
      return false;
  }
}

/** Ended without success (used for "a batch where none succeeded breaches"). */
export function isUnsuccessful(c: OutcomeClass): boolean {
  return c !== 'succeeded' && c !== 'cancelled';
}
