// Outcome classes of a target, mapped from the final TAT status of its task. Pure data shared by the
// activities (which put the class into each task result) and the engine (which counts them against
// the error budget: workflows/engine/outcome.ts). See docs/runbooks.md, "Outcomes".

import type { TaskStatus } from './status.js';

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
