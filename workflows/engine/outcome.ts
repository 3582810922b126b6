// Which outcome classes count against the error budget, and which mean "without success". The
// classes themselves (and how a TAT task status maps to one) are in tat/outcome.ts, shared with
// the activities.

import type { OutcomeClass } from '../../tat/outcome.js';

export { OUTCOME_CLASSES, outcomeOf, type OutcomeClass } from '../../tat/outcome.js';

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
