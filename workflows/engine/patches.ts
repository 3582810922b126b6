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
