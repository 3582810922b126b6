// Runbook schedules' names and ids. A schedule named `nightly` is the Temporal Schedule
// `tatflow-nightly`, and the runs it starts are `tatflow-nightly-<time>` (Temporal appends the time
// it meant each run for). tatflow lists and touches only Schedules with its prefix: tatd's invoker
// Schedules (`tatd-…`) and anyone else's on the same Temporal are left alone.

export const SCHEDULE_PREFIX = 'tatflow-';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Checks a schedule name given on the command line (or its id); returns the name. */
export function scheduleName(given: string): string {
  const name = given.startsWith(SCHEDULE_PREFIX) ? given.slice(SCHEDULE_PREFIX.length) : given;
  if (!NAME.test(name))
    throw new Error(
      `schedule name "${given}": 1-63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit (like nightly-patch)`,
    );
  return name;
}

export const scheduleIdOf = (name: string): string => `${SCHEDULE_PREFIX}${name}`;

/** The name of a tatflow Schedule id, or undefined for anyone else's. */
export function nameOfId(id: string): string | undefined {
  return id.startsWith(SCHEDULE_PREFIX) ? id.slice(SCHEDULE_PREFIX.length) : undefined;
}
