// `defineRunbook`: how built-in and user-written runbooks become workflows on the engine. A runbook
// describes itself in one place: what it is for, its parameters (a zod schema with descriptions),
// the command-line flags that set them, and how it builds what it does to each target. When a run
// starts, the worker builds its definition once from these (a local activity over the worker's
// registry: the parameters and the definition are checked there, and a bad one fails the run at
// once, non-retryable, saying what is wrong); the run keeps that definition, through
// continue-as-new and any later change of the runbook's file. The CLI and the worker read the same
// description through the registry (workflows/registry.ts).

import * as wf from '@temporalio/workflow';
import type { z } from 'zod';
import { engineActivities } from './activities.js';
import { definitionProblems } from './definition.js';
import type { RunbookFlag } from './flags.js';
import { runPaths } from './paths.js';
import { runRollout } from './rollout.js';
import { anyParamsSchema } from './schemas.js';
import type { RolloutState, RunbookDefinition, RunbookInput } from './types.js';

export interface RunbookSpec<S extends z.ZodType = z.ZodType> {
  /** One line: what the runbook does. */
  description: string;
  /** Its parameters, with `.describe()` on each (shown by `--help` and the docs). */
  params: S;
  /** Command-line flags that set parameters (any parameter can also be given with --param). */
  flags?: readonly RunbookFlag[];
  /**
   * What to do to each target, given the run's (checked) parameters: plain data (no functions),
   * since the run keeps it in its history. Runs in the worker when a run starts, and in the CLI.
   */
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

/** The parameters' problems, one line each (`path: message`). */
export function paramProblems(schema: z.ZodType, params: unknown): string[] {
  const r = schema.safeParse(params);
  if (r.success) return [];
  return r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
}

/** Why a run of a runbook cannot start, as its failure type says. */
export class RunbookRefusal extends Error {
  constructor(
    message: string,
    readonly type: 'BadParams' | 'BadRunbook' | 'UnknownRunbook',
  ) {
    super(message);
  }
}

/**
 * The definition `spec` builds from `params`, checked, as plain data (as it will be in the run's
 * history); throws a RunbookRefusal saying what is wrong. `legacy`: the checks of runs begun
 * before the `definition-once` patch, which replay them in the workflow.
 */
export function buildChecked(
  spec: RunbookSpec,
  params: unknown,
  o: { legacy?: boolean } = {},
): RunbookDefinition {
  const bad = paramProblems(spec.params, params);
  if (bad.length) throw new RunbookRefusal(`invalid parameters: ${bad.join('; ')}`, 'BadParams');
  let def: RunbookDefinition;
  try {
    def = spec.build(spec.params.parse(params));
  } catch (e) {
    throw new RunbookRefusal(
      `the runbook does not build from these parameters: ${(e as Error).message}`,
      'BadRunbook',
    );
  }
  const wrong = definitionProblems(def, o);
  if (wrong.length) throw new RunbookRefusal(`invalid runbook definition: ${wrong.join('; ')}`, 'BadRunbook');
  return o.legacy ? def : (JSON.parse(JSON.stringify(def)) as RunbookDefinition);
}

const refused = (e: RunbookRefusal) => wf.ApplicationFailure.nonRetryable(e.message, e.type);

/** The run's definition from the worker's registry (a local activity); its refusal fails the run. */
async function definitionOf(input: RunbookInput): Promise<RunbookDefinition> {
  try {
    return await engineActivities().building.buildDefinition({
      runbook: wf.workflowInfo().workflowType,
      params: input.params,
    });
  } catch (e) {
    const cause = e instanceof wf.ActivityFailure ? e.cause : undefined;
    if (cause instanceof wf.ApplicationFailure && cause.nonRetryable)
      throw wf.ApplicationFailure.nonRetryable(cause.message, cause.type ?? 'BadRunbook');
    throw e;
  }
}

/** Runs the workflow code of a run: the definition (built once, or carried), then the rollout. */
async function runbookRun(spec: RunbookSpec, input: RunbookInput): Promise<RolloutState> {
  const paths = runPaths(input);
  if (!paths.checkInput) return runRollout(spec.build(input.params), input, paths);
  if (!paths.definitionOnce) {
    // Runs begun before the definition was built once: checked and built here, on every replay.
    let def: RunbookDefinition;
    try {
      def = buildChecked(spec, input.params, { legacy: true });
    } catch (e) {
      throw e instanceof RunbookRefusal ? refused(e) : e;
    }
    return runRollout(def, input, paths);
  }
  const def = input.definition ?? (await definitionOf(input));
  return runRollout(def, { ...input, definition: def }, paths);
}

/**
 * What leaves the workflow: Temporal's own failures, cancellation and continue-as-new as they are;
 * any other error (a bug, input the code did not expect) fails the run with its reason, instead of
 * a workflow task retried forever while the run shows as running. (The rollout stops and cleans up
 * on such an error itself: engine/rollout.ts.)
 */
function asRunFailure(e: unknown): unknown {
  if (e instanceof wf.TemporalFailure || e instanceof wf.ContinueAsNew || wf.isCancellation(e)) return e;
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return wf.ApplicationFailure.nonRetryable(`engine error: ${what}`, 'EngineError');
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
    try {
      return await runbookRun(spec, input);
    } catch (e) {
      throw asRunFailure(e);
    }
  };
  return Object.assign(workflow, { runbook: spec });
}

/**
 * The workflow of a type the bundle does not have (a misspelt runbook name from a client that did
 * not check it): it fails at once, with the worker registry's answer naming the runbooks there are,
 * instead of a workflow task that fails forever.
 */
export async function unknownRunbook(input: RunbookInput): Promise<never> {
  const type = wf.workflowInfo().workflowType;
  await definitionOf(input);
  throw wf.ApplicationFailure.nonRetryable(`unknown runbook "${type}"`, 'UnknownRunbook');
}

/** True for a value made by `defineRunbook`. */
export function isRunbook(v: unknown): v is Runbook {
  return typeof v === 'function' && typeof (v as { runbook?: unknown }).runbook === 'object';
}
