// `tatflow runs` (the runs, from Temporal's visibility: no worker needed) and `tatflow logs <run>`
// (every task's output, from the TAT endpoint).

import { Command } from 'commander';
import { clientsFor } from '../../activities/clients.js';
import { parseDuration } from '../durations.js';
import { collect } from '../flags.js';
import { printJson, type LogTaskJson, type LogsJson, type RunsJson } from '../json-output.js';
import { invocationTasks, renderTask, runRecord } from '../runs/logs.js';
import { listRuns, parseStatuses, renderRuns } from '../runs/list.js';
import {
  credentialsOption,
  engineOptions,
  tatSettings,
  temporalSettings,
  type EngineFlags,
} from '../settings.js';
import { callTat } from '../tat-reach.js';
import { connectClient, runHandle } from '../temporal-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunsFlags extends EngineFlags {
  status?: string[];
  runbook?: string;
  since?: string;
  limit: string;
  json?: boolean;
}

export function runsCommand(): Command {
  return engineOptions(
    new Command('runs').description(
      'List recent and running runs: runbook, status, who started them, progress, age (from Temporal; no worker needed)',
    ),
  )
    .option(
      '--status <status>',
      'only runs in this status: running, waiting (at a gate), paused, planning, rolling-back, succeeded, failed, aborted, skipped, window-closed (repeat or comma-separate for several)',
      collect,
      [],
    )
    .option('--runbook <name>', 'only runs of this runbook')
    .option('--since <duration>', 'only runs started within this long (90s, 15m, 2h, 1d)')
    .option('--limit <n>', 'at most this many runs, the most recent first', '50')
    .option('--json', 'print JSON (docs/cli.md, "tatflow runs --json")')
    .action(async (flags: RunsFlags) => {
      const statuses = parseStatuses(flags.status ?? []);
      const sinceSeconds = flags.since !== undefined ? parseDuration('since', flags.since) : undefined;
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new Error(`--limit: "${flags.limit}" is not a positive whole number`);
      const client = await connectClient(temporalSettings(flags));
      const runs = await listRuns(client, {
        statuses,
        ...(flags.runbook ? { runbook: flags.runbook } : {}),
        ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
        limit,
      });
      const out: RunsJson = {
        filters: { status: statuses, runbook: flags.runbook ?? null, since: flags.since ?? null },
        runs,
      };
      if (flags.json) printJson(out);
      else process.stdout.write(`${renderRuns(runs)}\n`);
    });
}

interface LogsFlags extends EngineFlags {
  step?: string;
  follow?: boolean;
  json?: boolean;
}

export function logsCommand(): Command {
  return credentialsOption(
    engineOptions(
      new Command('logs').description(
        "Show the output of a run's tasks on every target, successful ones too (from the TAT endpoint)",
      ),
    ),
  )
    .argument('<run>', 'run id')
    .argument('[instance]', 'only this instance')
    .option('--step <name>', 'only this step (a runbook step, or probe, health, rollback)')
    .option('--follow', 'keep printing tasks as they end, until the run ends')
    .option('--json', 'print JSON (docs/cli.md, "tatflow logs --json"); with --follow, one task per line')
    .action(async (runId: string, instance: string | undefined, flags: LogsFlags) => {
      const { tat } = tatSettings(flags);
      const client = await connectClient(temporalSettings(flags));
      await runHandle(client, runId);
      const wanted = (t: LogTaskJson) =>
        (!instance || t.instance === instance) && (!flags.step || t.step === flags.step);
      const shown = new Set<string>();
      let region = '';
      for (;;) {
        const record = await runRecord(client, runId);
        region = record.region ?? tatSettings(flags).region;
        const calls = clientsFor(tat)(region);
        const tasks = await callTat(tat.endpoint, () => invocationTasks(calls, record.invocations));
        if (!flags.follow) {
          const out: LogsJson = { run: runId, region, tasks: tasks.map((t) => t.task).filter(wanted) };
          if (flags.json) printJson(out);
          else if (out.tasks.length === 0) process.stdout.write(`no task output for run ${runId} (yet)\n`);
          else process.stdout.write(`${out.tasks.map(renderTask).join('\n')}\n`);
          return;
        }
        // Following: each task once, when it has ended (its output is then complete).
        for (const { task, final } of tasks) {
          if ((!final && !record.closed) || shown.has(task.taskId) || !wanted(task)) continue;
          shown.add(task.taskId);
          process.stdout.write(flags.json ? `${JSON.stringify(task)}\n` : `${renderTask(task)}\n`);
        }
        if (record.closed) return;
        await sleep(1000);
      }
    });
}
