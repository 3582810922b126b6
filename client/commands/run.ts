// `tatflow run <runbook>`: starts a run (and with --follow shows it live); `tatflow preview`
// prints the plan without running anything.

import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { Command } from 'commander';
import { createActivities } from '../../activities/index.js';
import { progressQuery } from '../../workflows/engine/messages.js';
import { DEFAULT_SHAPE } from '../../workflows/engine/plan.js';
import { buildChecked } from '../../workflows/engine/define.js';
import { definitionOs } from '../../workflows/engine/definition.js';
import { planRun, PlanRefusal } from '../../workflows/engine/planning.js';
import type { RolloutState } from '../../workflows/engine/types.js';
import { builtInRunbooks, type RunbookRegistry } from '../../workflows/registry.js';
import { ProgressView, renderStatus } from '../progress.js';
import { describeDefinition, runbooksHelp } from '../runbook-help.js';
import { stuckMessage, stuckRun } from '../run-health.js';
import { runbookInput, runOptions, type RunFlags } from '../run-options.js';
import { engineOptions, engineSettings, type EngineFlags } from '../settings.js';
import { renderTable } from '../table.js';
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

export function runCommand(registry: RunbookRegistry = builtInRunbooks): Command {
  return runOptions(
    engineOptions(new Command('run').description('Start a runbook run on the fleet')),
    registry,
  )
    .addHelpText('after', runbooksHelp(registry))
    .option('--id <run-id>', 'the run id (default: <runbook>-<time>-<random>)')
    .option('--follow', 'show progress bars until the run ends; exit 1 if it fails')
    .action(async (runbook: string, flags: RunFlags & EngineFlags & { id?: string; follow?: boolean }) => {
      const s = engineSettings(flags);
      const input = runbookInput(runbook, flags, s.region, registry);
      const client = await connectClient(s);
      const id = flags.id ?? newRunId(runbook);
      const handle = await client.workflow.start(runbook, {
        taskQueue: s.taskQueue,
        workflowId: id,
        args: [input],
      });
      process.stdout.write(`run ${id} started (${runbook}); see it with: tatflow status ${id}\n`);
      if (!flags.follow) return;
      const { state, error, stuck } = await follow(handle, { client });
      if (stuck) {
        process.stdout.write(`\n${stuck}\n`);
        process.exitCode = 1;
        return;
      }
      if (state) process.stdout.write(`\n${renderStatus(id, state)}\n`);
      if (error) {
        const why =
          error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : error.message;
        process.stdout.write(`\nrun ${id} failed: ${why}\n`);
        process.exitCode = 1;
      } else process.stdout.write(`\nrun ${id} succeeded\n`);
    });
}

export function previewCommand(registry: RunbookRegistry = builtInRunbooks): Command {
  return runOptions(
    engineOptions(
      new Command('preview').description(
        'Print the plan of a run (targets, batches, budget, what runs on each target) without running it',
      ),
    ),
    registry,
  )
    .addHelpText('after', runbooksHelp(registry))
    .action(async (runbook: string, flags: RunFlags & EngineFlags) => {
      const s = engineSettings(flags);
      const input = runbookInput(runbook, flags, s.region, registry);
      const o = input.rollout;
      const acts = createActivities(s.tat);
      const ids = await acts.resolveTargets({ region: s.region, selector: o.targets });
      const status = await acts.agentStatus({ region: s.region, instanceIds: ids });
      const lines: string[] = [];
      lines.push(
        `runbook ${runbook} on ${ids.length} target(s) in ${s.region}; ${status.online.length} online`,
      );
      // What runs on each target: the runbook's own definition, built from these parameters and
      // checked as the run will (runbookInput refused a bad one already).
      const def = buildChecked(registry.require(runbook).spec, input.params);
      // The engine's own planning: what the run would plan now.
      let plan;
      try {
        plan = planRun(
          o,
          { ids, offline: status.offline, unknown: status.unknown, windows: status.windows ?? [] },
          definitionOs(def),
        );
      } catch (e) {
        if (!(e instanceof PlanRefusal)) throw e;
        lines.push(`the run would refuse to start: ${e.message}`);
        process.stdout.write(lines.join('\n') + '\n');
        return;
      }
      if (plan.away.length) lines.push(`skipped (agent offline or unknown): ${plan.away.join(', ')}`);
      if (plan.unsupported.length)
        lines.push(
          `skipped (unsupported OS: the scripts are ${definitionOs(def) === 'Linux' ? 'SHELL' : 'POWERSHELL or BAT'}): ${plan.unsupported.join(', ')}`,
        );
      const shape = o.shape ?? DEFAULT_SHAPE;
      if (shape.kind === 'batches') {
        lines.push(
          renderTable(
            ['batch', 'size', 'targets'],
            plan.batches.map((b) => [
              b.index + 1,
              b.targets.length,
              b.targets.length > 6
                ? `${b.targets.slice(0, 6).join(', ')}, … (+${b.targets.length - 6})`
                : b.targets.join(', '),
            ]),
          ),
        );
      } else {
        lines.push(
          shape.kind === 'window'
            ? `sliding window: at most ${plan.concurrency} in flight`
            : `ramp-up: 1, 2, 4 … up to ${plan.concurrency} in flight`,
        );
      }
      const max = plan.maxErrors;
      const counted = [
        'failed (exit code ≠ 0)',
        'timed out',
        'agent lost',
        ...(o.countUndeliverable ? ['undeliverable'] : []),
      ];
      lines.push(
        `error budget: the run breaches at ${max + 1} error(s) (maxErrors ${max}${o.strictBudget ? ', strict: never overshoots' : ''}); counted: ${counted.join(', ')}; a batch where nothing succeeded breaches`,
      );
      const a = o.approval;
      if (a)
        lines.push(
          `approval gates: ${[a.beforeStart && 'before start', a.afterCanary && 'after canary', a.everyBatch && 'before every batch'].filter(Boolean).join(', ')}; timeout ${a.timeoutSeconds ?? 86400} s → ${a.onTimeout ?? 'fail'}`,
        );
      lines.push(...describeDefinition(def));
      process.stdout.write(lines.join('\n') + '\n');
    });
}
