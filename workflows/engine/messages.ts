// The messages a run answers, as exported constants shared by the workflow and the CLI. Updates
// (not signals) so that `tatflow approve` learns at once whether there was a gate to approve.

import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RolloutState } from './types.js';

export interface Actor {
  /** Who: a user name or an email. */
  by: string;
  comment?: string;
}

/** A decision at a gate: who, why, and the gate decided on. */
export interface GateDecision extends Actor {
  /**
   * The name of the gate decided on (`after canary`, `before batch 3`): refused unless that gate is
   * the one waiting, so an approval meant for one gate never passes a later one. Absent: the gate
   * waiting now (clients before gates were named).
   */
  gate?: string;
}

export const progressQuery = defineQuery<RolloutState>('progress');
/** Passes the gate that is waiting (the one it names); refused when none is, or another is. */
export const approveUpdate = defineUpdate<string, [GateDecision]>('approve');
/** Refuses the gate that is waiting (the one it names): the run aborts. */
export const rejectUpdate = defineUpdate<string, [GateDecision]>('reject');
/** Finishes in-flight work and holds before the next batch (or the next target). */
export const pauseUpdate = defineUpdate<string, [Actor]>('pause');
export const resumeUpdate = defineUpdate<string, [Actor]>('resume');
/** Stops dispatching, cancels in-flight invocations, waits until no process is left, rolls back. */
export const abortUpdate = defineUpdate<string, [Actor]>('abort');
