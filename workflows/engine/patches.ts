// The engine's workflow-code patches (docs/engine.md, "Changing workflow code"). A run begun before a
// patch replays and finishes on the old path; every run begun after takes the new one. Once no run
// begun before a patch can be open any more, its id moves to `deprecatePatch` and the old path goes.

/**
 * Step roles are types: saved commands are keyed by role (`step.<name>`, `probe`, `health`,
 * `rollback`), so a runbook step named `health` has its own command and its failures count.
 */
export const STEP_ROLES_PATCH = 'step-roles';

/**
 * The run's parameters are checked against its runbook's schema, and its definition (unique step
 * names, non-empty scripts), before anything runs.
 */
export const CHECK_INPUT_PATCH = 'check-input';

/**
 * An agent found offline at dispatch gets 150 s (was 60 s) to come back when the run does not say:
 * the reference agent notices a tatd that died without closing its socket only at its next ping
 * (120 s), then backs off a few seconds (docs/architecture.md, "Agents after a restart").
 */
export const OFFLINE_GRACE_PATCH = 'offline-grace-150';

/**
 * The run's definition is built once, when it starts, by a local activity from the worker's
 * registry (parameters and definition checked there), and carried through continue-as-new: a
 * replay or a continued run never builds it again from the code of the day.
 */
export const DEFINITION_ONCE_PATCH = 'definition-once';

/**
 * Short calls (saved commands, agent status, target lookup, deleting the commands, finding open
 * invocations) run as local activities, and explicit instance ids need no lookup at all: fewer
 * workflow tasks per run.
 */
export const LOCAL_CALLS_PATCH = 'local-calls';

/**
 * Targets of different kinds (`ins-`, `lhins-`, `rins-`) go in separate invocations: TAT refuses
 * CVM and Lighthouse instances in one call.
 */
export const KIND_SPLIT_PATCH = 'kind-split';

/**
 * Runs a tatflow schedule started record it (the schedule, the time it meant the run for) in their
 * state, end at once as skipped when they are the second pass of a repeated wall time (DST, a
 * fixed-time schedule), and leave their outcome in their memo for `tatflow schedule describe`.
 */
export const SCHEDULED_RUNS_PATCH = 'scheduled-runs';

/**
 * A run's maintenance window: no batch starts after the window's cutoff, nor one the run expects
 * cannot end inside the window; the run ends `window closed` saying what was left.
 */
export const MAINTENANCE_WINDOW_PATCH = 'maintenance-window';

/**
 * A run keeps its search attributes current (engine/visibility.ts): its runbook, status, who
 * started it, the account it acts as and its progress, so `tatflow runs` lists runs from
 * Temporal's visibility without a worker. It first asks its worker (an activity) whether the
 * namespace has them, and the account.
 */
export const RUN_VISIBILITY_PATCH = 'run-visibility';

/**
 * Status that tells the truth (rollout.ts, wave.ts, planning.ts): a rejected or aborted run ends `aborted` (a
 * `RunAborted` failure), not `failed`; targets whose health check was never dispatched because the
 * run stopped end `cancelled` (not checked), not failed, and no health-check retry waits for them; an
 * instance id the TAT endpoint does not know refuses the run at plan time.
 */
export const TRUTHFUL_STATUS_PATCH = 'truthful-status';

/**
 * A stop ends a wait (wave.ts, context.ts `wait`): an abort or breach during a bake or between
 * health-check attempts ends that wait at once, instead of after its whole length (a 30-minute
 * bake held an abort for 30 minutes).
 */
export const STOP_ENDS_WAITS_PATCH = 'stop-ends-waits';
