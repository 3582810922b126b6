// `tatflow status|approve|reject|pause|resume|abort <run>`.

import { userInfo } from 'node:os';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Command } from 'commander';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  progressQuery,
  rejectUpdate,
  resumeUpdate,
  type Actor,
} from '../../workflows/engine/messages.js';
import { printJson } from '../json-output.js';
import { renderStatus } from '../progress.js';
import { stateJson } from '../runs/state-json.js';
import { engineOptions, temporalSettings, type EngineFlags } from '../settings.js';
import { connectClient, runHandle } from '../temporal-client.js';
import { follow } from './run.js';

export function statusCommand(): Command {
  return engineOptions(new Command('status').description('Show a run: batches, targets, errors, gates'))
    .argument('<run>', 'run id')
    .option('--follow', 'show progress bars until the run ends')
    .option('--json', 'print JSON (docs/cli.md, "tatflow status --json"); with --follow, once it ends')
    .action(async (runId: string, flags: EngineFlags & { follow?: boolean; json?: boolean }) => {
      const client = await connectClient(temporalSettings(flags));
      const handle = await runHandle(client, runId);
      if (flags.follow) await follow(handle, { quiet: !!flags.json });
      const state = await handle.query(progressQuery);
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

export function controlCommands(): Command[] {
  return Object.entries(UPDATES).map(([name, [update, description]]) =>
    engineOptions(new Command(name).description(description))
      .argument('<run>', 'run id')
      .option('--by <name>', 'who (default: your login name)')
      .option('--comment <text>', 'why, recorded in the run')
      .action(async (runId: string, flags: EngineFlags & { by?: string; comment?: string }) => {
        const client = await connectClient(temporalSettings(flags));
        const handle = await runHandle(client, runId);
        const actor: Actor = {
          by: flags.by ?? userInfo().username,
          ...(flags.comment ? { comment: flags.comment } : {}),
        };
        try {
          const answer = await handle.executeUpdate(update, { args: [actor] });
          process.stdout.write(`${runId}: ${answer}\n`);
        } catch (e) {
          if (e instanceof WorkflowUpdateFailedError)
            throw new Error(`${name} refused: ${e.cause?.message ?? e.message}`);
          throw e;
        }
      }),
  );
}
