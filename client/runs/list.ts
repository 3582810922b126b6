// `tatflow runs`: the runs of a namespace from Temporal's visibility store (no worker needed), with
// what each run keeps in its search attributes (workflows/engine/visibility.ts). A run's status is
// its `TatflowStatus` (or the end a scheduled run left in its memo); while that is not final and Temporal says the run is closed (it failed on
// bad parameters before it published anything, it was terminated, or an older engine ran it), the
// status comes from Temporal's own: failed, or aborted for a cancelled or terminated run.

import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { RUN_MEMO, type RunMemo } from '../../workflows/engine/scheduled.js';
import { RUN_ATTRIBUTES } from '../../workflows/engine/visibility.js';
import { builtInRunbooks } from '../../workflows/registry.js';
import { formatDuration } from '../durations.js';
import { RUN_STATUSES, type RunsJson } from '../json-output.js';
import { renderTable } from '../table.js';

type RunStatus = (typeof RUN_STATUSES)[number];
type RunRow = RunsJson['runs'][number];

const FINAL = new Set<RunStatus>(['succeeded', 'failed', 'aborted', 'skipped', 'window closed']);

/** `--status` words: a status, or `waiting` (at a gate) and the statuses with `-` for spaces. */
export function parseStatuses(words: string[]): RunStatus[] {
  return words
    .flatMap((w) => w.split(','))
    .map((w) => w.trim())
    .filter(Boolean)
    .map((w) => {
      const s = w === 'waiting' ? 'waiting for approval' : w.replace(/-/g, ' ');
      if (!(RUN_STATUSES as readonly string[]).includes(s))
        throw new Error(
          `--status: "${w}" is not a run status (one of running, waiting, paused, planning, rolling-back, succeeded, failed, aborted, skipped, window-closed)`,
        );
      return s as RunStatus;
    });
}

/** Temporal's closed statuses as run statuses. */
function fromTemporal(name: WorkflowExecutionInfo['status']['name']): RunStatus {
  if (name === 'COMPLETED') return 'succeeded';
  if (name === 'CANCELLED' || name === 'TERMINATED') return 'aborted';
  return 'failed';
}

export function rowOf(w: WorkflowExecutionInfo, now: number): RunRow {
  const sa = w.typedSearchAttributes;
  // A scheduled run leaves its end in its memo too (a skipped fire publishes nothing else).
  const memo = (w.memo?.[RUN_MEMO] as RunMemo | undefined)?.status;
  const published = (memo ?? sa.get(RUN_ATTRIBUTES.status)) as RunStatus | undefined;
  const running = w.status.name === 'RUNNING';
  let status: RunStatus;
  if (running) status = published && !FINAL.has(published) ? published : 'running';
  else status = published && FINAL.has(published) ? published : fromTemporal(w.status.name);
  const int = (k: typeof RUN_ATTRIBUTES.targets) => sa.get(k) ?? null;
  return {
    id: w.workflowId,
    runbook: sa.get(RUN_ATTRIBUTES.runbook) ?? w.type,
    status,
    startedBy: sa.get(RUN_ATTRIBUTES.startedBy) ?? null,
    account: sa.get(RUN_ATTRIBUTES.account) ?? null,
    targets: int(RUN_ATTRIBUTES.targets),
    done: int(RUN_ATTRIBUTES.done),
    failed: int(RUN_ATTRIBUTES.failed),
    startedAt: w.startTime.toISOString(),
    endedAt: w.closeTime?.toISOString() ?? null,
    ageSeconds: Math.max(0, Math.round((now - w.startTime.getTime()) / 1000)),
    temporalStatus: w.status.name,
  };
}

export interface RunsQuery {
  statuses: RunStatus[];
  runbook?: string;
  /** Seconds back from now. */
  sinceSeconds?: number;
  limit: number;
}

/** The visibility query: time and runbook are filtered by Temporal; status here (it is derived). */
export function visibilityQuery(q: RunsQuery, now: number): string {
  const parts: string[] = [];
  if (q.sinceSeconds !== undefined)
    parts.push(`StartTime >= '${new Date(now - q.sinceSeconds * 1000).toISOString()}'`);
  if (q.runbook) parts.push(`WorkflowType = '${q.runbook.replace(/'/g, '')}'`);
  return parts.join(' AND ');
}

/** At most this many executions are read for one listing. */
const SCAN_LIMIT = 5000;

export async function listRuns(client: Client, q: RunsQuery, now = Date.now()): Promise<RunRow[]> {
  const query = visibilityQuery(q, now);
  const rows: RunRow[] = [];
  let scanned = 0;
  for await (const w of client.workflow.list(query ? { query } : {})) {
    if (++scanned > SCAN_LIMIT) break;
    // A continued run shows as its latest execution; workflows that are no runbook runs are left out.
    if (w.status.name === 'CONTINUED_AS_NEW') continue;
    if (!w.typedSearchAttributes.get(RUN_ATTRIBUTES.runbook) && !builtInRunbooks.get(w.type)) continue;
    const row = rowOf(w, now);
    if (q.statuses.length && !q.statuses.includes(row.status)) continue;
    rows.push(row);
  }
  rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.id.localeCompare(b.id));
  return rows.slice(0, q.limit);
}

function progress(r: RunRow): string {
  if (r.targets === null) return '';
  const failed = r.failed ? `, ${r.failed} failed` : '';
  return `${r.done ?? 0}/${r.targets}${failed}`;
}

export function renderRuns(rows: RunRow[]): string {
  if (rows.length === 0) return 'no runs';
  return renderTable(
    ['run', 'runbook', 'status', 'started by', 'progress', 'age'],
    rows.map((r) => [
      r.id,
      r.runbook,
      r.status,
      r.startedBy ?? '',
      progress(r),
      formatDuration(r.ageSeconds),
    ]),
  );
}
