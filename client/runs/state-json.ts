// A run's state as `tatflow status --json` and `tatflow run --json` print it (client/json-output.ts,
// StatusJson): every field present, null when unknown; outputs left out (`tatflow logs` has them).

import type { RolloutState } from '../../workflows/engine/types.js';
import type { StatusJson } from '../json-output.js';
import { shownStatus } from '../progress.js';

const decision = (d: { by: string; comment?: string | undefined; at: string }) => ({
  by: d.by,
  comment: d.comment ?? null,
  at: d.at,
});

export function stateJson(run: string, runbook: string | null, s: RolloutState): StatusJson {
  const targets = Object.values(s.targets).sort((a, b) => a.batch - b.batch || a.id.localeCompare(b.id));
  const n = (pred: (t: (typeof targets)[number]) => boolean) => targets.filter(pred).length;
  return {
    run,
    runbook,
    status: shownStatus(s),
    reason: s.reason ?? null,
    note: s.note ?? null,
    startedAt: s.startedAt,
    endedAt: s.endedAt ?? null,
    errors: s.errors,
    maxErrors: s.maxErrors,
    gate: s.gate ? { name: s.gate.name, since: s.gate.since, timeoutAt: s.gate.timeoutAt } : null,
    paused: s.paused ? decision(s.paused) : null,
    aborted: s.aborted ? decision(s.aborted) : null,
    decisions: s.decisions.map((d) => ({ gate: d.gate, approved: d.approved, ...decision(d) })),
    counts: {
      targets: targets.length,
      succeeded: n((t) => t.phase === 'done' && t.outcome === 'succeeded'),
      failed: n((t) => t.phase === 'done' && t.outcome !== 'succeeded' && t.outcome !== 'cancelled'),
      cancelled: n((t) => t.phase === 'done' && t.outcome === 'cancelled'),
      skipped: n((t) => t.phase === 'skipped'),
      pending: n((t) => t.phase === 'pending'),
      running: n((t) => t.phase === 'running'),
    },
    batches: s.batches.map((b) => ({
      batch: b.index + 1,
      status: b.status,
      targets: b.targets,
      startedAt: b.startedAt ?? null,
      endedAt: b.endedAt ?? null,
    })),
    targets: targets.map((t) => ({
      id: t.id,
      batch: t.batch >= 0 ? t.batch + 1 : null,
      phase: t.phase,
      outcome: t.outcome ?? null,
      step: t.step ?? null,
      taskStatus: t.status ?? null,
      exitCode: t.exitCode ?? null,
      invocationId: t.invocationId ?? null,
      taskId: t.taskId ?? null,
      changed: !!t.changed,
      unhealthy: !!t.unhealthy,
      version: t.version ?? null,
      reason: t.reason ?? null,
      rollback: t.rollback
        ? { status: t.rollback.status, outcome: t.rollback.outcome, exitCode: t.rollback.exitCode }
        : null,
    })),
  };
}
