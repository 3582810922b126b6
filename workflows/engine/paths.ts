// Which of the engine's patched paths a run takes (docs/engine.md, "Changing workflow code"),
// asked once, when the run starts, in a fixed order, before the run records anything else. Asking
// them all first keeps their markers ahead of everything else in the first workflow task: a patch
// asked only after the run's first local activity (the definition) would leave its marker behind
// that activity's, which a replay cannot match.

import {
  CHECK_INPUT_PATCH,
  DEFINITION_ONCE_PATCH,
  KIND_SPLIT_PATCH,
  LOCAL_CALLS_PATCH,
  MAINTENANCE_WINDOW_PATCH,
  OFFLINE_GRACE_PATCH,
  SCHEDULED_RUNS_PATCH,
  RUN_VISIBILITY_PATCH,
  STEP_ROLES_PATCH,
  STOP_ENDS_WAITS_PATCH,
  TRUTHFUL_STATUS_PATCH,
} from './patches.js';
import type { RunbookInput } from './types.js';
import { patched } from './versioning.js';

export interface RunPaths {
  /** Parameters and definition checked at the start (else: built unchecked). */
  checkInput: boolean;
  /** The definition built once by a local activity and carried (else: built in the workflow). */
  definitionOnce: boolean;
  /** Saved commands keyed by role (else: by bare step name). */
  stepRoles: boolean;
  /** 150 s for an agent offline at dispatch (else 60 s). */
  offlineGrace150: boolean;
  /** Short calls as local activities (else remote ones). */
  localCalls: boolean;
  /** Invocations of one instance kind each (else any mix). */
  kindSplit: boolean;
  /**
   * A run a tatflow schedule started records the fire (engine/scheduled.ts). Asked only of a first
   * run whose input has `schedule`; a continued run carries what its first run recorded.
   */
  scheduledRuns: boolean;
  /**
   * The run's maintenance window is kept (engine/window.ts). Asked only of a first run whose options
   * have `maintenanceWindow`; a continued run carries the window in its state.
   */
  maintenanceWindow: boolean;
  /** Aborted runs end `aborted`, unchecked targets `cancelled`, unknown ids refuse the run. */
  truthfulStatus: boolean;
  /** The run keeps its search attributes current (engine/visibility.ts). */
  runVisibility: boolean;
  /** A stop (abort, breach) ends a bake or a wait between health-check attempts at once. */
  stopEndsWaits: boolean;
}

export function runPaths(input: RunbookInput): RunPaths {
  const checkInput = patched(CHECK_INPUT_PATCH);
  const definitionOnce = checkInput && patched(DEFINITION_ONCE_PATCH);
  // The order is the order of the markers in a history: a new patch goes last.
  const stepRoles = patched(STEP_ROLES_PATCH);
  const offlineGrace150 = patched(OFFLINE_GRACE_PATCH);
  const localCalls = patched(LOCAL_CALLS_PATCH);
  const kindSplit = patched(KIND_SPLIT_PATCH);
  const truthfulStatus = patched(TRUTHFUL_STATUS_PATCH);
  const scheduledRuns = !input.resume && !!input.schedule && patched(SCHEDULED_RUNS_PATCH);
  const maintenanceWindow =
    !input.resume && !!input.rollout.maintenanceWindow && patched(MAINTENANCE_WINDOW_PATCH);
  const runVisibility = patched(RUN_VISIBILITY_PATCH);
  const stopEndsWaits = patched(STOP_ENDS_WAITS_PATCH);
  return {
    checkInput,
    definitionOnce,
    stepRoles,
    offlineGrace150,
    localCalls,
    kindSplit,
    scheduledRuns,
    maintenanceWindow,
    truthfulStatus,
    runVisibility,
    stopEndsWaits,
  };
}
