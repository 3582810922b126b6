// `tatflow run <runbook>`: starts a run on its runbook's task queue (and with --follow shows it
// live). It needs no TAT credentials: the worker calls the TAT API, the CLI only Temporal.

import { randomBytes } from 'node:crypto';
import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { Command } from 'commander';
import { progressQuery } from '../../workflows/engine/messages.js';
import type { RolloutState } from '../../workflows/engine/types.js';
import { RUN_ATTRIBUTES } from '../../workflows/engine/visibility.js';
import { builtInRunbooks, type RunbookRegistry } from '../../workflows/registry.js';
import { registerRunSearchAttributes } from '../../worker/search-attributes.js';
import { confirmDevReboot } from '../dev-guard.js';
import { printJson } from '../json-output.js';
import { loginName } from '../login-name.js';
import { ProgressView, renderStatus } from '../progress.js';
import { stateJson } from '../runs/state-json.js';
import { runbooksHelp } from '../runbook-help.js';
import { stuckMessage, stuckRun } from '../run-health.js';
import { runbookInput, runOptions, type RunFlags } from '../run-options.js';
import { engineOptions, regionSetting, temporalSettings, type EngineFlags } from '../settings.js';
import { connectClient } from '../temporal-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newRunId(runbook: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${runbook}-${t}-${randomBytes(3).toString('hex')}`;
}

/**
 * Shows the run live until it ends; returns its final state (or undefined if never queryable),
 * and `stuck`, saying why, when the run's workflow task keeps failing (it would never end).
 */
export async function follow(
  handle: WorkflowHandle,
  out: { quiet?: boolean; client?: Client } = {},
): Promise<{ state?: RolloutState; error?: Error; stuck?: string }> {
  const view = out.quiet ? undefined : new ProgressView();
  let state: RolloutState | undefined;
  let ended = false;
  let error: Error | undefined;
  let stuck: string | undefined;
  let lastCheck = 0;
  const result = handle
    .result()
    .then(
      (r: RolloutState) => {
        state = r;
      },
      (e: unknown) => {
        error = e as Error;
      },
    )
    .finally(() => {
      ended = true;
    });
  while (!ended) {
    try {
      state = await handle.query(progressQuery);
      view?.update(state);
    } catch {
      // Not started yet, between runs of a continue-as-new chain, or stuck: a workflow task
      // that keeps failing answers no query, and the run would never end.
      if (out.client && Date.now() - lastCheck > 2000) {
        lastCheck = Date.now();
        const s = await stuckRun(out.client, handle).catch(() => undefined);
        if (s) {
          stuck = stuckMessage(handle.workflowId, s);
          break;
        }
      }
    }
    if (!ended) await Promise.race([sleep(500), result]);
  }
  if (!stuck) {
    try {
      state = await handle.query(progressQuery);
    } catch {
      // a query needs a worker; the last snapshot stays
    }
  }
  if (state) view?.update(state);
  view?.end();
  return { ...(state ? { state } : {}), ...(error ? { error } : {}), ...(stuck ? { stuck } : {}) };
}

/** Exit statuses of `run --follow` / `run --json` (docs/cli.md): a failed run 1, an aborted one 3. */
export const EXIT_FAILED = 1;
export const EXIT_ABORTED = 3;

/** How a followed run ended, from its last state and its result. */
export function runEnd(
  state: RolloutState | undefined,
  error: Error | undefined,
): { kind: 'succeeded' | 'window closed' | 'skipped' | 'failed' | 'aborted'; why: string } {
  if (!error) {
    if (state?.status === 'window closed' || state?.status === 'skipped')
      return { kind: state.status, why: state.note ?? '' };
    return { kind: 'succeeded', why: '' };
  }
  const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
  const why = cause?.message ?? error.message;
  const aborted =
    (cause instanceof ApplicationFailure && cause.type === 'RunAborted') ||
    cause instanceof CancelledFailure ||
    cause instanceof TerminatedFailure ||
    !!state?.aborted;
  return { kind: aborted ? 'aborted' : 'failed', why };
}

export function runCommand(registry: RunbookRegistry = builtInRunbooks): Command {
  return runOptions(
    engineOptions(new Command('run').description('Start a runbook run on the fleet')),
    registry,
  )
    .addHelpText('after', runbooksHelp(registry))
    .option('--id <run-id>', 'the run id (default: <runbook>-<time>-<random>)')
    .option('--follow', 'show progress bars until the run ends; exit 1 if it fails, 3 if it is aborted')
    .option(
      '--json',
      'wait for the run to end and print its state as JSON (docs/cli.md, "tatflow run --json")',
    )
    .option('--by <name>', 'who starts it, shown by `tatflow runs` (default: your login name)')
    .option('--yes', 'start without asking, even a run that may reboot the `tatflow dev` fleet on this host')
    .action(
      async (
        runbook: string,
        flags: RunFlags &
          EngineFlags & { id?: string; follow?: boolean; json?: boolean; yes?: boolean; by?: string },
      ) => {
        const s = temporalSettings(flags);
        const input = runbookInput(runbook, flags, regionSetting(flags), registry);
        await confirmDevReboot(registry.require(runbook), input.params, s.temporalAddress, !!flags.yes);
        const client = await connectClient(s);
        // `tatflow runs` lists runs by these (workflows/engine/visibility.ts); the run keeps them current.
        const attributes = await registerRunSearchAttributes(client.connection.operatorService, s.namespace);
        if (!attributes.ok) process.stderr.write(`warning: ${attributes.why}\n`);
        const id = flags.id ?? newRunId(runbook);
        const handle = await client.workflow.start(runbook, {
          taskQueue: registry.taskQueue(runbook, s.taskQueue),
          workflowId: id,
          args: [input],
          ...(attributes.ok
            ? {
                typedSearchAttributes: [
                  { key: RUN_ATTRIBUTES.runbook, value: runbook },
                  { key: RUN_ATTRIBUTES.startedBy, value: flags.by ?? loginName() },
                  { key: RUN_ATTRIBUTES.status, value: 'planning' },
                ],
              }
            : {}),
        });
        if (!flags.json)
          process.stdout.write(`run ${id} started (${runbook}); see it with: tatflow status ${id}\n`);
        if (!flags.follow && !flags.json) return;
        const { state, error, stuck } = await follow(handle, { client, quiet: !!flags.json });
        if (stuck) {
          if (flags.json) throw new Error(stuck);
          process.stdout.write(`\n${stuck}\n`);
          process.exitCode = EXIT_FAILED;
          return;
        }
        const end = runEnd(state, error);
        if (end.kind === 'failed') process.exitCode = EXIT_FAILED;
        if (end.kind === 'aborted') process.exitCode = EXIT_ABORTED;
        if (flags.json) {
          if (!state)
            throw new Error(`run ${id} ${end.kind}${end.why ? `: ${end.why}` : ''} (no state to show)`);
          printJson(stateJson(id, runbook, state));
          return;
        }
        if (state) process.stdout.write(`\n${renderStatus(id, state)}\n`);
        if (end.kind === 'failed' || end.kind === 'aborted')
          process.stdout.write(`\nrun ${id} ${end.kind}: ${end.why}\n`);
        else if (end.kind === 'window closed')
          process.stdout.write(`\nrun ${id} ended with its maintenance window: ${end.why}\n`);
        else if (end.kind === 'skipped') process.stdout.write(`\nrun ${id} skipped: ${end.why}\n`);
        else process.stdout.write(`\nrun ${id} succeeded\n`);
      },
    );
}
