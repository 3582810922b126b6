// The text of `tatflow schedule list` and `describe` (their JSON is the data of describe.ts as it
// is): a table of schedules, and a schedule with its next fire times and recent runs.

import { localTime } from '../../tat/dst.js';
import type { RunbookInput } from '../../workflows/engine/types.js';
import { formatDuration } from '../durations.js';
import { renderTable } from '../table.js';
import type { ScheduleListEntry, ScheduleView } from './describe.js';
import type { When } from './spec.js';

export function whenText(when: When): string {
  if ('cron' in when) return `cron "${when.cron}"`;
  return when.calendars.length === 1
    ? `calendar ${JSON.stringify(compact(when.calendars[0]!))}`
    : `calendars ${JSON.stringify(when.calendars.map(compact))}`;
}

/** A calendar without its defaults, for reading. */
function compact(c: object): object {
  return Object.fromEntries(
    Object.entries(c)
      .filter(([k, v]) => v !== '*' && !(k === 'comment' && v === '') && v !== undefined)
      .filter(([k, v]) => !(k === 'second' && JSON.stringify(v) === '[{"start":0,"end":0,"step":1}]'))
      .map(([k, v]) => [
        k,
        Array.isArray(v)
          ? v.map((r: { start: unknown; end: unknown; step: number }) =>
              r.start === r.end
                ? r.start
                : `${String(r.start)}-${String(r.end)}${r.step > 1 ? `/${r.step}` : ''}`,
            )
          : v,
      ]),
  );
}

export function renderList(list: ScheduleListEntry[]): string {
  if (list.length === 0)
    return 'no schedules (create one with: tatflow schedule create <name> <runbook> --cron …)';
  return renderTable(
    ['name', 'runbook', 'when', 'zone', 'state', 'next fire', 'last run'],
    list.map((s) => [
      s.name,
      s.runbook,
      whenText(s.when),
      s.timezone,
      s.paused ? `paused${s.note ? `: ${s.note}` : ''}` : 'active',
      s.nextFireTime?.local ?? '',
      s.lastRun?.runId ?? '',
    ]),
  );
}

function targetsText(i: RunbookInput): string {
  const t = i.rollout.targets;
  if ('instanceIds' in t) return t.instanceIds.join(', ');
  if ('online' in t) return 'every online agent';
  if ('select' in t) return t.select.map((s) => `--select '${s}'`).join(' or ');
  return `managed instances named like "${t.managedName}"`;
}

export function renderSchedule(v: ScheduleView): string {
  const out: string[] = [];
  const rows: [string, string][] = [
    ['schedule', `${v.name} (${v.id})`],
    ['runbook', `${v.runbook} on task queue ${v.taskQueue}`],
    ['state', v.paused ? `paused${v.note ? `: ${v.note}` : ''}` : `active${v.note ? ` (${v.note})` : ''}`],
    ['fires', `${whenText(v.when)} in ${v.timezone}`],
    [
      'DST',
      v.dst.rule === 'vixie'
        ? `fixed-time: a fire in a skipped hour runs once right after the gap, a repeated hour runs once` +
          (v.dst.gapFires.length
            ? `; extra fires after gaps: ${v.dst.gapFires
                .filter((g) => Date.parse(g) > Date.now())
                .slice(0, 3)
                .map((g) => localTime(v.timezone, Date.parse(g)))
                .join(', ')} … (computed until ${v.dst.until?.slice(0, 10)}; \`schedule update\` extends it)`
            : '') +
          (v.dst.repeats.some((r) => Date.parse(r.at) > Date.now())
            ? `; repeated fires skipped: ${v.dst.repeats
                .filter((r) => Date.parse(r.at) > Date.now())
                .slice(0, 3)
                .map((r) => localTime(v.timezone, Date.parse(r.at)))
                .join(', ')} …`
            : '')
        : 'literal (a wildcard minute or hour: every wall time that exists fires, a repeated one twice)',
    ],
    [
      'policies',
      `overlap ${v.overlap}; catch-up window ${formatDuration(v.catchupWindowSeconds)}; jitter ${v.jitterSeconds ? formatDuration(v.jitterSeconds) : 'none'}`,
    ],
  ];
  if (v.start || v.end) rows.push(['between', `${v.start ?? 'now'} and ${v.end ?? 'no end'}`]);
  const w = v.input.rollout.maintenanceWindow;
  rows.push(['targets', `${targetsText(v.input)} in ${v.input.rollout.region}`]);
  if (w)
    rows.push([
      'window',
      `${formatDuration(w.durationSeconds)} from each fire${w.cutoffSeconds ? `, no batch in its last ${formatDuration(w.cutoffSeconds)}` : ''}`,
    ]);
  if (v.mirroredFrom)
    rows.push([
      'mirrors',
      `TAT invoker ${v.mirroredFrom.invokerId} (${v.mirroredFrom.endpoint ?? 'Tencent Cloud'}, ${v.mirroredFrom.region})`,
    ]);
  const c = v.counts;
  rows.push([
    'so far',
    `${c.actionsTaken} started a run; started nothing: ${c.skippedOverlap} skipped by the overlap policy, ${c.missedCatchupWindow} missed (later than the catch-up window); ${c.buffered} buffered, ${c.running} running now`,
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  out.push(rows.map(([k, text]) => `${k.padEnd(width)}  ${text}`).join('\n'));
  out.push(
    v.nextFireTimes.length
      ? renderTable(
          [`next fires (${v.timezone})`, 'UTC'],
          v.nextFireTimes.map((f) => [f.local, f.at]),
        )
      : v.paused
        ? 'next fires: none while paused (tatflow schedule unpause …)'
        : 'next fires: none (past its end)',
  );
  out.push(
    v.recentRuns.length
      ? renderTable(
          ['run', 'scheduled', 'status', 'ended', 'note'],
          v.recentRuns.map((r) => [
            r.runId,
            r.local,
            r.status,
            r.closedAt ?? '',
            r.reason ??
              r.note ??
              (r.targets ? `${r.targets.succeeded}/${r.targets.total} targets succeeded` : ''),
          ]),
        )
      : 'recent runs: none yet',
  );
  return out.join('\n');
}
