// How a runbook's parameters are given on the command line: each flag names the parameter (or a
// field of one) its value goes to, and how the text becomes the value. The CLI registers every
// runbook's flags on `tatflow run` / `preview`, shows them in `--help`, and refuses a flag the
// runbook does not take. Pure data, declared with the runbook (define.ts).

export type FlagValue =
  /** A script (a CommandSpec), with --timeout, --username and --working-directory applied. */
  | { kind: 'script' }
  /** The same, read from a file. */
  | { kind: 'scriptFile' }
  /** Text, not empty. */
  | { kind: 'text' }
  /** A whole number ≥ min. */
  | { kind: 'int'; min: number }
  /** Comma-separated words, trimmed, empty ones dropped. */
  | { kind: 'list' }
  | { kind: 'choice'; choices: readonly string[] }
  /** An instance id. */
  | { kind: 'instance' };

export interface RunbookFlag {
  /** The long option without dashes: `app-version`. */
  name: string;
  /** Its placeholder in help: `<version>`. */
  arg: string;
  help: string;
  /** Where the value goes: a parameter, or a field of one (`healthCheck.retries`). */
  param: string;
  value: FlagValue;
  /** A flag this one refines; given without it, this one is refused. */
  needs?: string;
}

/** `--health-check` and its refinements, into a HealthCheck parameter (or its fields). */
export function healthCheckFlags(paths: {
  command: string;
  retries: string;
  interval: string;
  on: string;
  /** The refinements need --health-check (false: they tune a built-in check). */
  needCommand: boolean;
}): RunbookFlag[] {
  const needs = paths.needCommand ? { needs: 'health-check' } : {};
  return [
    {
      name: 'health-check',
      arg: '<script>',
      help: 'health check run after each batch (exit 0 = healthy)',
      param: paths.command,
      value: { kind: 'script' },
    },
    {
      name: 'health-retries',
      arg: '<n>',
      help: 'extra attempts of a failing health check',
      param: paths.retries,
      value: { kind: 'int', min: 0 },
      ...needs,
    },
    {
      name: 'health-interval',
      arg: '<seconds>',
      help: 'between health check attempts',
      param: paths.interval,
      value: { kind: 'int', min: 1 },
      ...needs,
    },
    {
      name: 'health-on',
      arg: '<instance>',
      help: 'run the health check once per batch on this instance instead',
      param: paths.on,
      value: { kind: 'instance' },
      ...needs,
    },
  ];
}

export const rollbackFlag = (help: string): RunbookFlag => ({
  name: 'rollback',
  arg: '<script>',
  help,
  param: 'rollback',
  value: { kind: 'script' },
});
