// `defineRunbook`: how built-in and user-written runbooks become workflows on the engine. A runbook
// describes itself in one place: what it is for, its parameters (a zod schema with descriptions),
// the command-line flags that set them, and how it builds what it does to each target. The
// workflow checks the parameters and the definition when a run starts and refuses bad ones with a
// non-retryable failure that says what is wrong; the CLI and the worker read the same description
// through the registry (workflows/registry.ts).

import * as wf from '@temporalio/workflow';
import type { z } from 'zod';
import type { RunbookFlag } from './flags.js';
import { CHECK_INPUT_PATCH } from './patches.js';
import { runRollout } from './rollout.js';
import { anyParamsSchema } from './schemas.js';
import type { CommandSpec, RolloutState, RunbookDefinition, RunbookInput } from './types.js';

export interface RunbookSpec<S extends z.ZodType = z.ZodType> {
  /** One line: what the runbook does. */
  description: string;
  /** Its parameters, with `.describe()` on each (shown by `--help` and the docs). */
  params: S;
  /** Command-line flags that set parameters (any parameter can also be given with --param). */
  flags?: readonly RunbookFlag[];
  /** What to do to each target, given the run's (checked) parameters. Runs inside the workflow: no I/O. */
  build(params: z.output<S>): RunbookDefinition;
  /**
   * The task queue its runs go to. Default: the built-in runbooks' queue for them; for a runbook
   * file's, `<default queue>-<file name>` (workflows/registry.ts). Workers poll the queues of the
   * runbooks they load, so workers with different runbooks never take each other's runs.
   */
  taskQueue?: string;
}

/** A runbook workflow, carrying its description for the registry. */
export type Runbook<P = unknown> = ((input: RunbookInput<P>) => Promise<RolloutState>) & {
  readonly runbook: RunbookSpec;
};

/** Step names go into saved-command names and invocation keys (at most 64 characters in all). */
const STEP_NAME = /^[A-Za-z0-9_-]{1,32}$/;

function scriptProblem(what: string, c: CommandSpec | undefined): string[] {
  if (!c || typeof c.content !== 'string') return [`${what}: no script (command.content)`];
  return c.content.trim() === '' ? [`${what}: the script is empty`] : [];
}

/** What is wrong with a definition, in words; empty when nothing is. */
export function definitionProblems(def: RunbookDefinition): string[] {
  const problems: string[] = [];
  if (!Array.isArray(def?.steps) || def.steps.length === 0) return ['it has no steps'];
  const seen = new Set<string>();
  def.steps.forEach((s, i) => {
    const what = `step ${i + 1}${typeof s?.name === 'string' ? ` "${s.name}"` : ''}`;
    if (s?.kind !== 'command' && s?.kind !== 'reboot')
      problems.push(`${what}: kind must be "command" or "reboot"`);
    if (typeof s?.name !== 'string' || !STEP_NAME.test(s.name))
      problems.push(`${what}: a name is 1-32 letters, digits, "_" or "-"`);
    else if (seen.has(s.name)) problems.push(`${what}: another step has this name`);
    else seen.add(s.name);
    problems.push(...scriptProblem(what, s?.command));
  });
  if (def.probe) problems.push(...scriptProblem('the probe', def.probe));
  if (def.healthCheck) problems.push(...scriptProblem('the health check', def.healthCheck.command));
  if (def.rollback) problems.push(...scriptProblem('the rollback', def.rollback.command));
  return problems;
}

/** The parameters' problems, one line each (`path: message`). */
export function paramProblems(schema: z.ZodType, params: unknown): string[] {
  const r = schema.safeParse(params);
  if (r.success) return [];
  return r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
}

/**
 * A runbook workflow. Give its description (`{ description, params, flags, build }`), or, as runbooks
 * written before parameters were declared did, just the build function (any parameters accepted).
 */
export function defineRunbook<S extends z.ZodType>(spec: RunbookSpec<S>): Runbook<z.input<S>>;
export function defineRunbook<P>(build: (params: P) => RunbookDefinition): Runbook<P>;
export function defineRunbook(
  specOrBuild: RunbookSpec | ((params: unknown) => RunbookDefinition),
): Runbook<unknown> {
  const spec: RunbookSpec =
    typeof specOrBuild === 'function'
      ? { description: '', params: anyParamsSchema, build: specOrBuild }
      : specOrBuild;
  const workflow = async (input: RunbookInput): Promise<RolloutState> => {
    if (!wf.patched(CHECK_INPUT_PATCH)) return runRollout(spec.build(input.params), input);
    const bad = paramProblems(spec.params, input.params);
    if (bad.length)
      throw wf.ApplicationFailure.nonRetryable(`invalid parameters: ${bad.join('; ')}`, 'BadParams');
    const def = spec.build(spec.params.parse(input.params));
    const wrong = definitionProblems(def);
    if (wrong.length)
      throw wf.ApplicationFailure.nonRetryable(
        `invalid runbook definition: ${wrong.join('; ')}`,
        'BadRunbook',
      );
    return runRollout(def, input);
  };
  return Object.assign(workflow, { runbook: spec });
}

/** True for a value made by `defineRunbook`. */
export function isRunbook(v: unknown): v is Runbook {
  return typeof v === 'function' && typeof (v as { runbook?: unknown }).runbook === 'object';
}
