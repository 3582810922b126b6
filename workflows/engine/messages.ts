// The messages a run answers, as exported constants shared by the workflow and the CLI. Updates
// (not signals) so that `tatflow approve` learns at once whether there was a gate to approve.

import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RolloutState } from './types.js';

export interface Actor {
  /** Who: a user name or an email. */
  by: string;
  comment?: string;
}

export const progressQuery = defineQuery<RolloutState>('progress');
/** Passes the gate that is waiting; refused when none is. */
export const approveUpdate = defineUpdate<string, [Actor]>('approve');
/** Refuses the gate that is waiting: the run aborts. */
export const rejectUpdate = defineUpdate<string, [Actor]>('reject');
/** Finishes in-flight work and holds before the next batch (or the next target). */
export const pauseUpdate = defineUpdate<string, [Actor]>('pause');
export const resumeUpdate = defineUpdate<string, [Actor]>('resume');
/** Stops dispatching, cancels in-flight invocations, waits until no process is left, rolls back. */
export const abortUpdate = defineUpdate<string, [Actor]>('abort');
