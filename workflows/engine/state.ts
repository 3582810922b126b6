// The state a run starts with, and the state a continued run (continue-as-new) takes over from the
// run before it, brought up to what this engine keeps.

import { DEFAULT_SHAPE } from './plan.js';
import { rekeyCommands } from './steps.js';
import type { RolloutState, RunbookInput } from './types.js';

export function initialState(input: RunbookInput, byRole: boolean, now: string): RolloutState {
  return {
    status: 'planning',
    shapeKind: (input.rollout.shape ?? DEFAULT_SHAPE).kind,
    batches: [],
    targets: {},
    currentBatch: 0,
    errors: 0,
    maxErrors: 0,
    decisions: [],
    commands: {},
    ...(byRole ? { commandKeys: 'role' as const } : {}),
    outputBytes: 0,
    startedAt: now,
    generation: 0,
    nextWave: 0,
  };
}

/**
 * A carried-over state. States of older engines lack the excerpt count (it is summed from the
 * excerpts they kept) and key their saved commands by bare step name (re-keyed by role, unless
 * this run itself still keys them the old way).
 */
export function resumedState(resume: RolloutState, byRole: boolean): RolloutState {
  const s = resume;
  s.outputBytes ??= Object.values(s.targets).reduce(
    (n, t) => n + (t.output?.length ?? 0) + (t.rollback?.output?.length ?? 0),
    0,
  );
  if (byRole && s.commandKeys !== 'role') {
    s.commands = rekeyCommands(s.commands);
    s.commandKeys = 'role';
  }
  return s;
}
