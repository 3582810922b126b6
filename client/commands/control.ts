// `tatflow status|approve|reject|pause|resume|abort <run>`. A run whose workflow task keeps failing
// cannot answer: `status` says why (client/run-health.ts), and `abort` terminates it with the
// reason, since an update can no longer reach it.

import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { Command } from 'commander';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  progressQuery,
  rejectUpdate,
  resumeUpdate,
  type GateDecision,
} from '../../workflows/engine/messages.js';
import { printJson } from '../json-output.js';
import { loginName } from '../login-name.js';
import { renderStatus } from '../progress.js';
import { stuckMessage, stuckRun } from '../run-health.js';
import { stateJson } from '../runs/state-json.js';
import { engineOptions, temporalSettings, type EngineFlags } from '../settings.js';
import { connectClient, runHandle } from '../temporal-client.js';
import { follow } from './run.js';

/** How long an update may take to reach the run before the CLI looks at why it does not. */
const UPDATE_WAIT_MS = 30_000;

/** The run's state from its progress query, or an error that says why there is none. */
async function progressOf(client: Client, handle: WorkflowHandle, runId: string) {
  try {
    return await handle.query(progressQuery);
  } catch (e) {
    const stuck = await stuckRun(client, handle).catch(() => undefined);
    if (stuck) throw new Error(stuckMessage(runId, stuck));
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING')
      throw new Error(
        `run ${runId} ${d.status.name.toLowerCase()}; its progress cannot be read: ${(e as Error).message}`,
      );
    throw new Error(
      `run ${runId} does not answer (${(e as Error).message}): is a worker running on its task queue (${d.taskQueue})?`,
    );
  }
}

export function statusCommand(): Command {
  return engineOptions(new Command('status').description('Show a run: batches, targets, errors, gates'))
    .argument('<run>', 'run id')
    .option('--follow', 'show progress bars until the run ends')
    .option('--json', 'print JSON (docs/cli.md, "tatflow status --json"); with --follow, once it ends')
    .action(async (runId: string, flags: EngineFlags & { follow?: boolean; json?: boolean }) => {
      const client = await connectClient(temporalSettings(flags));
      const handle = await runHandle(client, runId);
      if (flags.follow) {
        const { stuck } = await follow(handle, { client, quiet: !!flags.json });
        if (stuck) throw new Error(stuck);
      }
      const state = await progressOf(client, handle, runId);
      if (flags.json) printJson(stateJson(runId, (await handle.describe()).type, state));
      else process.stdout.write(`${renderStatus(runId, state)}\n`);
    });
}

const UPDATES = {
  approve: [approveUpdate, 'Approve the gate a run waits at'],
  reject: [rejectUpdate, 'Reject the gate a run waits at: the run aborts (and rolls back)'],
  pause: [pauseUpdate, 'Pause a run: in-flight work finishes, nothing new starts'],
  resume: [resumeUpdate, 'Resume a paused run'],
  abort: [abortUpdate, 'Abort a run: cancel in-flight invocations, wait until no process is left, roll back'],
} as const;

type Flags = EngineFlags & { by?: string; comment?: string; gate?: string };

/** Runs the update, giving up waiting after UPDATE_WAIT_MS (the update may still arrive later). */
async function sendUpdate(
  handle: WorkflowHandle,
  update: (typeof UPDATES)[keyof typeof UPDATES][0],
  arg: GateDecision,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), UPDATE_WAIT_MS);
  });
  try {
    return await Promise.race([handle.executeUpdate(update, { args: [arg] }), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function controlCommands(): Command[] {
  return Object.entries(UPDATES).map(([name, [update, description]]) => {
    const cmd = engineOptions(new Command(name).description(description))
      .argument('<run>', 'run id')
      .option('--by <name>', 'who (default: your login name)')
      .option('--comment <text>', 'why, recorded in the run');
    if (name === 'approve' || name === 'reject')
      cmd.option(
        '--gate <name>',
        `the gate to ${name} (default: the one the run waits at now, as status shows it): refused if the run waits at another`,
      );
    return cmd.action(async (runId: string, flags: Flags) => {
      const client = await connectClient(temporalSettings(flags));
      const handle = await runHandle(client, runId);
      const decision: GateDecision = {
        by: flags.by ?? loginName(),
        ...(flags.comment ? { comment: flags.comment } : {}),
      };
      const stuck = await stuckRun(client, handle);
      if (stuck) {
        if (name !== 'abort') throw new Error(stuckMessage(runId, stuck));
        await terminate(handle, runId, decision, stuck.reason);
        return;
      }
      if (name === 'approve' || name === 'reject') {
        // The gate this decision is for: the one named, or the one the run waits at now, so
        // that a decision never passes a gate its maker did not see.
        const gate = flags.gate ?? (await progressOf(client, handle, runId)).gate?.name;
        if (!gate) throw new Error(`${name} refused: no approval gate is waiting`);
        decision.gate = gate;
      }
      let answer: string | undefined;
      try {
        answer = await sendUpdate(handle, update, decision);
      } catch (e) {
        // Refused by the run (its validator), or not delivered (a workflow task in failed state
        // answers FAILED_PRECONDITION): the latter is a stuck run.
        const again = await stuckRun(client, handle).catch(() => undefined);
        if (again && name === 'abort') return terminate(handle, runId, decision, again.reason);
        if (again) throw new Error(stuckMessage(runId, again));
        if (e instanceof WorkflowUpdateFailedError)
          throw new Error(`${name} refused: ${e.cause?.message ?? e.message}`);
        throw e;
      }
      if (answer === undefined) {
        const again = await stuckRun(client, handle);
        if (again && name === 'abort') return terminate(handle, runId, decision, again.reason);
        if (again) throw new Error(stuckMessage(runId, again));
        throw new Error(
          `${name}: the run did not answer within ${UPDATE_WAIT_MS / 1000} s; is a worker running? ` +
            '(the request may still reach the run when one is)',
        );
      }
      process.stdout.write(`${runId}: ${answer}\n`);
    });
  });
}

/** A stuck run cannot take an abort: it is terminated, with who, why, and why it was stuck. */
async function terminate(handle: WorkflowHandle, runId: string, a: GateDecision, why: string): Promise<void> {
  const reason = `aborted by ${a.by}${a.comment ? `: ${a.comment}` : ''} (terminated: its workflow task kept failing: ${why})`;
  await handle.terminate(reason);
  process.stdout.write(
    `${runId}: terminated, since its workflow task kept failing (${why}).\n` +
      'Nothing was cleaned up by the run: invocations it had in flight keep running, and its saved ' +
      'commands (tatflow-…) stay until deleted.\n',
  );
}
