// Rendering a run's progress: live bars per batch while it runs (`--follow`), and tables for
// `tatflow status`. Bars redrawn in place on a terminal; plain lines when the output is a file or
// pipe.

import { localTime } from '../tat/dst.js';
import type { BatchState, RolloutState, TargetState } from '../workflows/engine/types.js';
import { renderTable } from './table.js';

/** At most this many live bars (window shapes can have many waves in flight). */
const MAX_BARS = 8;
const BAR_WIDTH = 24;

function tail(output: string | undefined, lines = 5): string {
  if (!output) return '';
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Done targets by how they ended: ok, failed (any other end but cancelled), cancelled. */
export function counts(s: RolloutState, ids: string[]) {
  let ok = 0;
  let bad = 0;
  let cancelled = 0;
  for (const id of ids) {
    const t = s.targets[id]!;
    if (t.phase !== 'done') continue;
    if (t.outcome === 'succeeded') ok++;
    else if (t.outcome === 'cancelled') cancelled++;
    else bad++;
  }
  return { ok, bad, cancelled, done: ok + bad + cancelled };
}

/**
 * The status to show. A run that ended `failed` because someone aborted it (runs begun before
 * the engine ended such runs `aborted`) is shown `aborted` too.
 */
export function shownStatus(s: RolloutState): RolloutState['status'] {
  return s.status === 'failed' && s.aborted ? 'aborted' : s.status;
}

const who = (d: { by: string; comment?: string | undefined }) =>
  `${d.by}${d.comment ? `: ${d.comment}` : ''}`;

export function headline(s: RolloutState): string {
  const n = s.batches.length;
  if (s.status === 'planning') return 'planning: resolving targets and checking agents';
  if (s.status === 'skipped') return `skipped: ${s.note ?? ''}`;
  const gate = s.gate ? ` · waiting at gate "${s.gate.name}" (tatflow approve|reject)` : '';
  const pause = s.paused ? ` · paused by ${who(s.paused)}` : '';
  const abort = s.aborted ? ` · aborted by ${who(s.aborted)}` : '';
  return `${shownStatus(s)} · batch ${Math.min(s.currentBatch + 1, Math.max(n, 1))}/${n} · errors ${s.errors}/${s.maxErrors} allowed${gate}${pause}${abort}`;
}

function failureLine(t: TargetState): string {
  const what = `${t.id} ${t.outcome}${t.exitCode !== undefined && t.exitCode !== null ? ` (exit ${t.exitCode})` : ''}${t.reason ? `: ${t.reason}` : ''}`;
  const out = tail(t.output);
  const mark = t.outcome === 'cancelled' ? '–' : '✗';
  return out ? `${mark} ${what}\n${out.replace(/^/gm, '    ')}` : `${mark} ${what}`;
}

/** The text of one batch's bar: `batch   2 [████░░░░] 1/2 · 1 ok 0 failed · running`. */
export function barLine(s: RolloutState, b: BatchState, width = BAR_WIDTH): string {
  const c = counts(s, b.targets);
  const total = b.targets.length;
  const filled = total === 0 ? width : Math.round((c.done / total) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const cancelled = c.cancelled ? ` ${c.cancelled} cancelled` : '';
  return ` batch ${String(b.index + 1).padStart(3)} [${bar}] ${c.done}/${total} · ${c.ok} ok ${c.bad} failed${cancelled} · ${b.status}`;
}

/** Where the view writes: a terminal (redrawn in place) or anything else (lines only). */
export interface ProgressOut {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * Follows a run: feed it every progress snapshot; call `end()` once.
 *
 * On a terminal, what happened is written once, as lines that scroll up (a headline whenever the
 * run's status line changes, each failed target with its output tail, each finished batch with its
 * final bar), and below them a live region, redrawn in place, holds the bars of the batches (or
 * waves) still running. Each redraw moves the cursor up over the live region, clears to the end of
 * the screen, writes the new lines and then the region again, in one write; live lines are cut to
 * the terminal's width so that none wraps, which keeps the count of lines to move up exact. So a
 * line is never printed twice, a finished batch's bar stays (with its final count, never beside a
 * stale one), and nothing is written over a bar. Piped, the same events are plain lines.
 */
export class ProgressView {
  private readonly tty: boolean;
  /** Lines of the live region on the screen now. */
  private drawn = 0;
  private lastFrame = '';
  private readonly reported = new Set<string>();
  private lastLine = '';
  private lastHeadline = '';

  constructor(private readonly out: ProgressOut = process.stdout) {
    this.tty = out.isTTY === true;
  }

  update(s: RolloutState): void {
    const lines: string[] = [];
    const add = (line: string) => {
      if (line === this.lastLine) return;
      this.lastLine = line;
      lines.push(line);
    };
    for (const t of Object.values(s.targets)) {
      if (t.phase !== 'done' || t.outcome === 'succeeded' || this.reported.has(t.id)) continue;
      this.reported.add(t.id);
      add(failureLine(t));
    }
    const live: string[] = [];
    for (const b of s.batches) {
      if (b.status === 'pending' || b.status === 'skipped') continue;
      if (b.status === 'running') {
        if (this.tty) live.push(barLine(s, b));
        continue;
      }
      if (this.reported.has(`b${b.index}`)) continue;
      this.reported.add(`b${b.index}`);
      if (this.tty) add(barLine(s, b));
      else {
        const c = counts(s, b.targets);
        add(
          `batch ${b.index + 1}: ${c.done}/${b.targets.length} done, ${c.ok} ok, ${c.bad} failed${c.cancelled ? `, ${c.cancelled} cancelled` : ''} (${b.status})`,
        );
      }
    }
    const head = headline(s);
    if (head !== this.lastHeadline) {
      this.lastHeadline = head;
      add(`• ${head}`);
    }
    if (this.tty) this.draw(lines, live);
    else if (lines.length) this.out.write(lines.map((l) => `${l}\n`).join(''));
  }

  /** Writes `lines` above the live region and redraws the region with `live`. */
  private draw(lines: string[], live: string[]): void {
    const width = Math.max((this.out.columns ?? 80) - 1, 20);
    const room = Math.max((this.out.rows ?? 24) - 2, 1);
    let region = live.map((l) => cut(l, width));
    if (region.length > Math.min(room, MAX_BARS)) {
      const keep = Math.min(room, MAX_BARS) - 1;
      region = [...region.slice(0, keep), cut(` … and ${region.length - keep} more running`, width)];
    }
    const frame = region.join('\n');
    if (lines.length === 0 && frame === this.lastFrame) return;
    this.lastFrame = frame;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    for (const l of lines) text += `${l}\n`;
    for (const l of region) text += `${l}\n`;
    this.drawn = region.length;
    this.out.write(text);
  }

  /** Leaves the screen as it is: what is drawn stays. */
  end(): void {
    this.drawn = 0;
    this.lastFrame = '';
  }
}

/** A line cut to `width` characters (the bars and counts are single-width characters). */
function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** `tatflow status`: the run, its batches and its targets as tables. */
export function renderStatus(runId: string, s: RolloutState): string {
  const out: string[] = [];
  const rows: [string, string][] = [
    ['run', runId],
    ['status', shownStatus(s)],
    ['progress', headline(s)],
    ['started', s.startedAt],
  ];
  if (s.endedAt) rows.push(['ended', s.endedAt]);
  if (s.reason) rows.push(['reason', s.reason]);
  else if (s.cleanupError) rows.push(['warning', s.cleanupError]);
  if (s.paused) rows.push(['paused', `by ${who(s.paused)} at ${s.paused.at}`]);
  if (s.aborted) rows.push(['aborted', `by ${who(s.aborted)} at ${s.aborted.at}`]);
  if (s.note) rows.push(['note', s.note]);
  if (s.schedule)
    rows.push([
      'schedule',
      `${s.schedule.id}: the fire of ${localTime(s.schedule.timezone, Date.parse(s.schedule.scheduledAt))} (${s.schedule.scheduledAt})`,
    ]);
  const w = s.window;
  if (w)
    rows.push([
      'window',
      `${w.startsAt} to ${w.endsAt}${w.cutoffAt !== w.endsAt ? `; no batch starts after ${w.cutoffAt}` : ''}${w.closedAt ? `; closed at ${w.closedAt}: ${w.closedBecause}` : ''}`,
    ]);
  for (const d of s.decisions)
    rows.push([
      `gate "${d.gate}"`,
      `${d.approved ? 'approved' : 'rejected'} by ${d.by} at ${d.at}${d.comment ? `: ${d.comment}` : ''}`,
    ]);
  out.push(renderTable([], rows));
  out.push(
    renderTable(
      ['batch', 'targets', 'ok', 'failed', 'cancelled', 'status'],
      s.batches.map((b) => {
        const c = counts(s, b.targets);
        return [b.index + 1, b.targets.length, c.ok, c.bad, c.cancelled, b.status];
      }),
    ),
  );
  const targets = Object.values(s.targets).sort((a, b) => a.batch - b.batch || a.id.localeCompare(b.id));
  out.push(
    renderTable(
      ['instance', 'batch', 'state', 'outcome', 'exit', 'task', 'changed', 'rollback', 'note'],
      targets.map((t) => [
        t.id,
        t.batch >= 0 ? t.batch + 1 : '',
        t.phase,
        t.outcome ?? '',
        t.exitCode ?? '',
        t.taskId ?? '',
        t.changed ? 'yes' : '',
        t.rollback ? `${t.rollback.outcome}` : '',
        t.reason ?? (t.version ? `was ${t.version}` : ''),
      ]),
    ),
  );
  const failed = targets.filter((t) => t.phase === 'done' && t.outcome !== 'succeeded' && t.output);
  for (const t of failed) out.push(failureLine(t));
  if (failed.length) out.push(`(every target's output: tatflow logs ${runId})`);
  return out.join('\n');
}
