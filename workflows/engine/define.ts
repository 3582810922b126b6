// `defineRunbook`: how built-in and user-written runbooks become workflows on the engine.

import { runRollout } from './rollout.js';
import type { RolloutState, RunbookDefinition, RunbookInput } from './types.js';

export type Runbook<P> = (input: RunbookInput<P>) => Promise<RolloutState>;

/**
 * A runbook workflow from a function that says what to do to each target, given the run's
 * parameters. The function runs inside the workflow, so it must be deterministic (no I/O).
 */
export function defineRunbook<P>(build: (params: P) => RunbookDefinition): Runbook<P> {
  return (input) => runRollout(build(input.params), input);
}
