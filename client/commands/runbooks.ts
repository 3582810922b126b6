// `tatflow runbooks`: the runbooks the registry knows (the built-in ones, and those of the runbook
// files given with --runbooks, TATFLOW_RUNBOOKS or recorded by `tatflow dev`), with the task queue
// their runs go to and their parameters; as text or `--json`.

import { Command } from 'commander';
import { builtInRunbooks, type RunbookRegistry } from '../../workflows/registry.js';
import { collect } from '../flags.js';
import { printJson } from '../json-output.js';
import { runbooksJson, runbooksListing } from '../runbook-help.js';
import { temporalSettings } from '../settings.js';

export function runbooksCommand(registry: RunbookRegistry = builtInRunbooks): Command {
  return new Command('runbooks')
    .description('List the runbooks: what each does, its task queue and its parameters (and flags)')
    .option(
      '--runbooks <file>',
      'also a runbook file (repeatable; env TATFLOW_RUNBOOKS; the files `tatflow dev` loaded are included)',
      collect,
    )
    .option(
      '--task-queue <name>',
      'the built-in runbooks\' queue, which runbook files\' queues derive from (env TATFLOW_TASK_QUEUE; default "tatflow")',
    )
    .option('--json', 'print JSON (docs/cli.md, "tatflow runbooks --json")')
    .action((flags: { taskQueue?: string; json?: boolean }) => {
      const list = runbooksJson(registry, temporalSettings(flags).taskQueue);
      if (flags.json) printJson(list);
      else process.stdout.write(`${runbooksListing(list)}\n`);
    });
}
