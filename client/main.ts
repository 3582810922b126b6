// The `tatflow` command line.

import { Command } from 'commander';
import { agentCommand } from './commands/agent.js';
import { devCommand } from './commands/dev.js';
import { serverCommand } from './commands/server.js';
import { controlCommands, statusCommand } from './commands/control.js';
import { instancesCommand } from './commands/instances.js';
import { previewCommand } from './commands/preview.js';
import { runCommand } from './commands/run.js';
import { runbooksCommand } from './commands/runbooks.js';
import { logsCommand, runsCommand } from './commands/runs.js';
import { scheduleCommand } from './commands/schedule.js';
import { workerCommand } from './commands/worker.js';
import { registerCodeCommand } from './commands/register-code.js';
import { cliRegistry } from './runbooks.js';
import { builtInRunbooks } from '../workflows/registry.js';

// Only the commands that start runs or list runbooks load user runbook files (their flags become
// options).
const startsRuns = ['run', 'preview', 'runbooks', 'schedule'].includes(process.argv[2] ?? '');
const registry = startsRuns
  ? await cliRegistry(process.argv.slice(3)).catch((e: unknown) => {
      process.stderr.write(`tatflow: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    })
  : builtInRunbooks;

const program = new Command()
  .name('tatflow')
  .description(
    'Runbooks-as-code for server fleets: tatd (a TAT-compatible control plane), its agent, and the runbook engine',
  )
  .showHelpAfterError()
  // Options belong to the command they follow: `agent register … --server URL` is register's.
  .enablePositionalOptions()
  .addCommand(serverCommand())
  .addCommand(agentCommand())
  .addCommand(registerCodeCommand())
  .addCommand(devCommand())
  .addCommand(workerCommand())
  .addCommand(runCommand(registry))
  .addCommand(previewCommand(registry))
  .addCommand(statusCommand())
  .addCommand(runsCommand())
  .addCommand(logsCommand())
  .addCommand(instancesCommand())
  .addCommand(runbooksCommand(registry))
  .addCommand(scheduleCommand(registry));
for (const c of controlCommands()) program.addCommand(c);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`tatflow: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
