// `tatflow preview <runbook>`: the plan of a run without running anything: the targets the selector
// resolves to now (through the TAT API, as the run's first activity will), the engine's own
// planning of batches and budget, the gates, and what the runbook would run on each target. Text,
// or `--json` (client/json-output.ts, PreviewJson).

import { Command } from 'commander';
import { createActivities } from '../../activities/index.js';
import { buildChecked } from '../../workflows/engine/define.js';
import { definitionOs } from '../../workflows/engine/definition.js';
import { DEFAULT_SHAPE } from '../../workflows/engine/plan.js';
import { planRun, PlanRefusal } from '../../workflows/engine/planning.js';
import type { RunbookDefinition } from '../../workflows/engine/types.js';
import { builtInRunbooks, type RunbookRegistry } from '../../workflows/registry.js';
import { printJson, type PreviewJson } from '../json-output.js';
import { formatDuration } from '../durations.js';
import { describeDefinition, runbooksHelp } from '../runbook-help.js';
import { runbookInput, runOptions, type RunFlags } from '../run-options.js';
import { credentialsOption, engineOptions, engineSettings, type EngineFlags } from '../settings.js';
import { renderTable } from '../table.js';
import { callTat } from '../tat-reach.js';

type Plan = NonNullable<PreviewJson['plan']>;

function definitionJson(def: RunbookDefinition): PreviewJson['definition'] {
  const hc = def.healthCheck;
  return {
    probe: !!def.probe,
    steps: def.steps.map((s) => ({ name: s.name, kind: s.kind })),
    healthCheck: hc
      ? {
          onInstance: hc.onInstance ?? null,
          retries: hc.retries ?? 0,
          intervalSeconds: hc.intervalSeconds ?? 10,
        }
      : null,
    rollback: def.rollback ? { versionParameter: def.rollback.versionParameter ?? null } : null,
  };
}

function text(p: PreviewJson, def: RunbookDefinition | undefined): string {
  const t = p.targets;
  const lines = [
    `runbook ${p.runbook} on ${t.ids.length} target(s) in ${p.region}; ${t.online.length} online`,
  ];
  if (p.refused !== null || p.plan === null) {
    lines.push(`the run would refuse to start: ${p.refused}`);
    return lines.join('\n');
  }
  const plan: Plan = p.plan;
  if (plan.skipped.length) lines.push(`skipped (agent offline or unknown): ${plan.skipped.join(', ')}`);
  if (plan.unsupported.length)
    lines.push(
      `skipped (unsupported OS: the scripts are ${def && definitionOs(def) === 'Windows' ? 'POWERSHELL or BAT' : 'SHELL'}): ${plan.unsupported.join(', ')}`,
    );
  if (plan.shape === 'batches')
    lines.push(
      renderTable(
        ['batch', 'size', 'targets'],
        plan.batches.map((b) => [
          b.batch,
          b.targets.length,
          b.targets.length > 6
            ? `${b.targets.slice(0, 6).join(', ')}, … (+${b.targets.length - 6})`
            : b.targets.join(', '),
        ]),
      ),
    );
  else
    lines.push(
      plan.shape === 'window'
        ? `sliding window: at most ${plan.concurrency} in flight`
        : `ramp-up: 1, 2, 4 … up to ${plan.concurrency} in flight`,
    );
  const counted = plan.counted.map((c) => (c === 'failed' ? 'failed (exit code ≠ 0)' : c));
  lines.push(
    `error budget: the run breaches at ${plan.maxErrors + 1} error(s) (maxErrors ${plan.maxErrors}${plan.strictBudget ? ', strict: never overshoots' : ''}); counted: ${counted.join(', ')}; a batch where nothing succeeded breaches`,
  );
  const a = plan.approval;
  if (a)
    lines.push(
      `approval gates: ${[a.beforeStart && 'before start', a.afterCanary && 'after canary', a.everyBatch && 'before every batch'].filter(Boolean).join(', ')}; timeout ${a.timeoutSeconds} s → ${a.onTimeout}`,
    );
  const mw = plan.maintenanceWindow;
  if (mw)
    lines.push(
      `maintenance window: ${formatDuration(mw.durationSeconds)} from the run's start; no batch starts ${mw.cutoffSeconds ? `in its last ${formatDuration(mw.cutoffSeconds)}` : 'after it'}, nor one the longest batch so far says would end after it`,
    );
  if (def) lines.push(...describeDefinition(def));
  else if ('error' in p.definition)
    lines.push(
      `what runs on each target: ${p.runbook} does not build from these parameters: ${p.definition.error}`,
    );
  return lines.join('\n');
}

export function previewCommand(registry: RunbookRegistry = builtInRunbooks): Command {
  return runOptions(
    credentialsOption(
      engineOptions(
        new Command('preview').description(
          'Print the plan of a run (targets, batches, budget, what runs on each target) without running it',
        ),
      ),
    ),
    registry,
  )
    .option('--json', 'print JSON (docs/cli.md, "tatflow preview --json")')
    .addHelpText('after', runbooksHelp(registry))
    .action(async (runbook: string, flags: RunFlags & EngineFlags & { json?: boolean }) => {
      const s = engineSettings(flags);
      const input = runbookInput(runbook, flags, s.region, registry);
      const o = input.rollout;
      const acts = createActivities(s.tat);
      const { ids, status } = await callTat(s.tat.endpoint, async () => {
        const ids = await acts.resolveTargets({ region: s.region, selector: o.targets });
        return { ids, status: await acts.agentStatus({ region: s.region, instanceIds: ids }) };
      });
      // What runs on each target: the runbook's own definition, built from these parameters and
      // checked as the run will (runbookInput refused a bad one already).
      const entry = registry.require(runbook);
      let def: RunbookDefinition | undefined;
      let definition: PreviewJson['definition'];
      try {
        def = buildChecked(entry.spec, input.params);
        definition = definitionJson(def);
      } catch (e) {
        definition = { error: (e as Error).message };
      }
      const out: PreviewJson = {
        runbook,
        region: s.region,
        taskQueue: registry.taskQueue(runbook, s.taskQueue),
        targets: { selector: o.targets, ids, ...status, windows: status.windows ?? [] },
        refused: null,
        plan: null,
        definition,
      };
      // The engine's own planning: what the run would plan now.
      try {
        const plan = planRun(
          o,
          { ids, offline: status.offline, unknown: status.unknown, windows: status.windows ?? [] },
          def ? definitionOs(def) : 'Linux',
          { refuseUnknown: true },
        );
        const shape = o.shape ?? DEFAULT_SHAPE;
        const a = o.approval;
        out.plan = {
          shape: shape.kind,
          batches: plan.batches.map((b) => ({ batch: b.index + 1, targets: b.targets })),
          concurrency: plan.concurrency ?? null,
          skipped: plan.away,
          unsupported: plan.unsupported,
          maxErrors: plan.maxErrors,
          counted: [
            'failed',
            'timed out',
            'agent lost',
            ...(o.countUndeliverable ? ['undeliverable' as const] : []),
          ],
          strictBudget: !!o.strictBudget,
          approval: a
            ? {
                beforeStart: !!a.beforeStart,
                afterCanary: !!a.afterCanary,
                everyBatch: !!a.everyBatch,
                timeoutSeconds: a.timeoutSeconds ?? 86400,
                onTimeout: a.onTimeout ?? 'fail',
              }
            : null,
          maintenanceWindow: o.maintenanceWindow
            ? {
                durationSeconds: o.maintenanceWindow.durationSeconds,
                cutoffSeconds: o.maintenanceWindow.cutoffSeconds ?? 0,
              }
            : null,
        };
      } catch (e) {
        if (!(e instanceof PlanRefusal)) throw e;
        out.refused = e.message;
        // A mistyped instance id is an error (exit 1), not a plan; the output still says why.
        if (e.type === 'UnknownTargets') process.exitCode = 1;
      }
      if (flags.json) printJson(out);
      else process.stdout.write(`${text(out, def)}\n`);
    });
}
