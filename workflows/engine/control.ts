// The handlers of a run's messages: progress, approve/reject at a gate, pause/resume, abort. Each
// update is validated first, so a person gets a clear refusal ("no gate is waiting") at once.

import * as wf from '@temporalio/workflow';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  progressQuery,
  rejectUpdate,
  resumeUpdate,
  type Actor,
  type GateDecision,
} from './messages.js';
import type { RolloutState } from './types.js';

export interface Control {
  /** Waits for approve or reject at the current gate; false on timeout. */
  awaitDecision(timeoutMs: number): Promise<boolean>;
}

const ended = (s: RolloutState) =>
  s.status === 'succeeded' ||
  s.status === 'failed' ||
  s.status === 'aborted' ||
  s.status === 'skipped' ||
  s.status === 'window closed';

function requireActor(a: Actor): void {
  if (!a || typeof a.by !== 'string' || a.by.trim() === '')
    throw new Error('say who you are: "by" is required');
}

export function attachHandlers(state: RolloutState, changed: () => void): Control {
  let decided: boolean | undefined;
  const at = () => new Date().toISOString();

  wf.setHandler(progressQuery, () => state);

  const atGate = (a: GateDecision) => {
    requireActor(a);
    if (!state.gate) throw new Error(`no approval gate is waiting (the run is ${state.status})`);
    if (a.gate !== undefined && a.gate !== state.gate.name)
      throw new Error(
        `the run waits at gate "${state.gate.name}", not "${a.gate}" (that gate was decided already, or is still to come)`,
      );
  };
  wf.setHandler(
    approveUpdate,
    (a) => {
      const gate = state.gate!.name;
      state.decisions.push({ gate, approved: true, by: a.by, comment: a.comment, at: at() });
      decided = true;
      changed();
      return `approved gate "${gate}"`;
    },
    { validator: atGate },
  );
  wf.setHandler(
    rejectUpdate,
    (a) => {
      const gate = state.gate!.name;
      state.decisions.push({ gate, approved: false, by: a.by, comment: a.comment, at: at() });
      state.aborted = { by: a.by, comment: a.comment ?? `rejected at gate "${gate}"`, at: at() };
      decided = true;
      changed();
      return `rejected gate "${gate}": the run aborts`;
    },
    { validator: atGate },
  );
  wf.setHandler(
    pauseUpdate,
    (a) => {
      state.paused = { by: a.by, comment: a.comment, at: at() };
      if (state.status === 'running') state.status = 'paused';
      changed();
      return 'paused: in-flight work finishes, nothing new starts until resume';
    },
    {
      validator: (a) => {
        requireActor(a);
        if (ended(state) || state.aborted)
          throw new Error(`the run is ${state.aborted ? 'aborting' : state.status}`);
        if (state.paused) throw new Error(`already paused by ${state.paused.by}`);
      },
    },
  );
  wf.setHandler(
    resumeUpdate,
    () => {
      state.paused = undefined;
      if (state.status === 'paused') state.status = 'running';
      changed();
      return 'resumed';
    },
    {
      validator: (a) => {
        requireActor(a);
        if (!state.paused) throw new Error(`the run is not paused (it is ${state.status})`);
      },
    },
  );
  wf.setHandler(
    abortUpdate,
    (a) => {
      state.aborted = { by: a.by, comment: a.comment, at: at() };
      changed();
      return 'aborting: nothing new starts, in-flight invocations are cancelled, then rollback runs';
    },
    {
      validator: (a) => {
        requireActor(a);
        if (ended(state)) throw new Error(`the run already ${state.status}`);
        if (state.aborted) throw new Error(`already aborted by ${state.aborted.by}`);
      },
    },
  );

  return {
    async awaitDecision(timeoutMs) {
      decided = undefined;
      const ok = await wf.condition(() => decided !== undefined || !!state.aborted, timeoutMs);
      return ok;
    },
  };
}
