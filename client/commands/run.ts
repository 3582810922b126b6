// `tatflow run <runbook>`: starts a run (and with --follow shows it live); `tatflow preview`
// prints the plan without running anything.

import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { Command } from 'commander';
import { createActivities } from '../../activities/index.js';
import { resolveMaxErrors } from '../../workflows/engine/budget.js';
import { progressQuery } from '../../workflows/engine/messages.js';
import { DEFAULT_SHAPE, planBatches, resolveConcurrency } from '../../workflows/engine/plan.js';
import type { RolloutState } from '../../workflows/engine/types.js';
import { ProgressView, renderStatus } from '../progress.js';
import { runbookInput, runOptions, type RunFlags } from '../run-options.js';
import { engineOptions, engineSettings, type EngineFlags } from '../settings.js';
import { renderTable } from '../table.js';
import { connectClient } from '../temporal-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newRunId(runbook: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${runbook}-${t}-${randomBytes(3).toString('hex')}`;
}

/** Shows the run live until it ends; returns its final state (or undefined if never queryable). */
export async function follow(
  handle: WorkflowHandle,
  out: { quiet?: boolean } = {},
): Promise<{ state?: RolloutState; error?: Error }> {
  const view = out.quiet ? undefined : new ProgressView();
  let state: RolloutState | undefined;
  let ended = false;
  let error: Error | undefined;
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
      // not started yet, or between runs of a continue-as-new chain
    }
    if (!ended) await Promise.race([sleep(500), result]);
  }
  try {
    state = await handle.query(progressQuery);
  } catch {
    // a query needs a worker; the last snapshot stays
  }
  if (state) view?.update(state);
  view?.end();
  return { ...(state ? { state } : {}), ...(error ? { error } : {}) };
}

export function runCommand(): Command {
  return runOptions(engineOptions(new Command('run').description('Start a runbook run on the fleet')))
    .option('--id <run-id>', 'the run id (default: <runbook>-<time>-<random>)')
    .option('--follow', 'show progress bars until the run ends; exit 1 if it fails')
    .action(async (runbook: string, flags: RunFlags & EngineFlags & { id?: string; follow?: boolean }) => {
      const s = engineSettings(flags);
      const input = runbookInput(runbook, flags, s.region);
      const client = await connectClient(s);
      const id = flags.id ?? newRunId(runbook);
      const handle = await client.workflow.start(runbook, {
        taskQueue: s.taskQueue,
        workflowId: id,
        args: [input],
      });
      process.stdout.write(`run ${id} started (${runbook}); see it with: tatflow status ${id}\n`);
      if (!flags.follow) return;
      const { state, error } = await follow(handle);
      if (state) process.stdout.write(`\n${renderStatus(id, state)}\n`);
      if (error) {
        const why =
          error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : error.message;
        process.stdout.write(`\nrun ${id} failed: ${why}\n`);
        process.exitCode = 1;
      } else process.stdout.write(`\nrun ${id} succeeded\n`);
    });
}

export function previewCommand(): Command {
  return runOptions(
    engineOptions(
      new Command('preview').description(
        'Print the plan of a run (targets, batches, budget) without running it',
      ),
    ),
  ).action(async (runbook: string, flags: RunFlags & EngineFlags) => {
    const s = engineSettings(flags);
    const input = runbookInput(runbook, flags, s.region);
    const o = input.rollout;
    const acts = createActivities(s.tat);
    const ids = await acts.resolveTargets({ region: s.region, selector: o.targets });
    const status = await acts.agentStatus({ region: s.region, instanceIds: ids });
    const away = new Set([...status.offline, ...status.unknown]);
    const live = ids.filter((id) => !away.has(id));
    const shape = o.shape ?? DEFAULT_SHAPE;
    const lines: string[] = [];
    lines.push(`runbook ${runbook} on ${ids.length} target(s) in ${s.region}; ${live.length} online`);
    if (away.size)
      lines.push(
        o.offline === 'refuse'
          ? `the run would refuse to start: offline or unknown: ${[...away].join(', ')}`
          : `skipped (agent offline or unknown): ${[...away].join(', ')}`,
      );
    if (shape.kind === 'batches') {
      const batches = planBatches(live, shape.batches, ids.length);
      lines.push(
        renderTable(
          ['batch', 'size', 'targets'],
          batches.map((b, i) => [
            i + 1,
            b.length,
            b.length > 6 ? `${b.slice(0, 6).join(', ')}, … (+${b.length - 6})` : b.join(', '),
          ]),
        ),
      );
    } else {
      const c = resolveConcurrency(shape.maxConcurrency, ids.length);
      lines.push(
        shape.kind === 'window'
          ? `sliding window: at most ${c} in flight`
          : `ramp-up: 1, 2, 4 … up to ${c} in flight`,
      );
    }
    const max = resolveMaxErrors(o.maxErrors ?? 0, ids.length);
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
    const p = input.params as { healthCheck?: unknown; rollback?: unknown; postCheck?: unknown };
    lines.push(
      `health check: ${p.healthCheck || p.postCheck || runbook === 'patchFleet' ? 'yes' : 'none'}; rollback: ${p.rollback || runbook === 'rollingAppUpdate' ? 'yes, on changed targets in reverse batch order' : 'none'}`,
    );
    process.stdout.write(lines.join('\n') + '\n');
  });
}
