// Rendering a run's progress: live bars per batch while it runs (`--follow`), and tables for
// `tatflow status`. Bars on a terminal (cli-progress); plain lines when the output is a file or pipe.

import cliProgress from 'cli-progress';
import type { RolloutState, TargetState } from '../workflows/engine/types.js';
import { renderTable } from './table.js';

const MAX_BARS = 8;

function tail(output: string | undefined, lines = 5): string {
  if (!output) return '';
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}

function counts(s: RolloutState, ids: string[]) {
  let ok = 0;
  let bad = 0;
  for (const id of ids) {
    const t = s.targets[id]!;
    if (t.phase !== 'done') continue;
    if (t.outcome === 'succeeded') ok++;
    else bad++;
  }
  return { ok, bad, done: ok + bad };
}

export function headline(s: RolloutState): string {
  const n = s.batches.length;
  if (s.status === 'planning') return 'planning: resolving targets and checking agents';
  const gate = s.gate ? ` · waiting at gate "${s.gate.name}" (tatflow approve|reject)` : '';
  const pause = s.paused ? ` · paused by ${s.paused.by}` : '';
  return `${s.status} · batch ${Math.min(s.currentBatch + 1, Math.max(n, 1))}/${n} · errors ${s.errors}/${s.maxErrors} allowed${gate}${pause}`;
}

function failureLine(t: TargetState): string {
  const what = `${t.id} ${t.outcome}${t.exitCode !== undefined && t.exitCode !== null ? ` (exit ${t.exitCode})` : ''}${t.reason ? `: ${t.reason}` : ''}`;
  const out = tail(t.output);
  return out ? `✗ ${what}\n${out.replace(/^/gm, '    ')}` : `✗ ${what}`;
}

/** Follows a run: feed it every progress snapshot; call `end()` once. */
export class ProgressView {
  private readonly tty = process.stdout.isTTY === true;
  private readonly multibar = this.tty
    ? new cliProgress.MultiBar(
        {
          format: ' {label} [{bar}] {value}/{total} · {ok} ok {bad} failed · {status}',
          hideCursor: true,
          clearOnComplete: false,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  private readonly bars = new Map<number, cliProgress.SingleBar>();
  private readonly reported = new Set<string>();
  private lastLine = '';
  private lastHeadline = '';

  update(s: RolloutState): void {
    for (const t of Object.values(s.targets)) {
      if (t.phase !== 'done' || t.outcome === 'succeeded' || this.reported.has(t.id)) continue;
      this.reported.add(t.id);
      this.print(failureLine(t));
    }
    const head = headline(s);
    if (head !== this.lastHeadline) {
      this.lastHeadline = head;
      this.print(`• ${head}`);
    }
    for (const b of s.batches) {
      if (b.status === 'pending' || b.status === 'skipped') continue;
      const c = counts(s, b.targets);
      const payload = {
        label: `batch ${String(b.index + 1).padStart(3)}`,
        ok: c.ok,
        bad: c.bad,
        status: b.status,
      };
      if (!this.multibar) {
        const line = `batch ${b.index + 1}: ${c.done}/${b.targets.length} done, ${c.ok} ok, ${c.bad} failed (${b.status})`;
        if (b.status !== 'running' && !this.reported.has(`b${b.index}`)) {
          this.reported.add(`b${b.index}`);
          this.print(line);
        }
        continue;
      }
      let bar = this.bars.get(b.index);
      if (!bar) {
        bar = this.multibar.create(b.targets.length, 0, payload);
        this.bars.set(b.index, bar);
        this.trimBars(s);
      }
      bar.update(c.done, payload);
    }
  }

  private trimBars(s: RolloutState): void {
    if (!this.multibar) return;
    for (const [index, bar] of this.bars) {
      if (this.bars.size <= MAX_BARS) break;
      if (s.batches.find((b) => b.index === index)?.status === 'running') continue;
      this.multibar.remove(bar);
      this.bars.delete(index);
    }
  }

  private print(line: string): void {
    if (line === this.lastLine) return;
    this.lastLine = line;
    if (this.multibar) this.multibar.log(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  }

  end(): void {
    this.multibar?.stop();
  }
}

/** `tatflow status`: the run, its batches and its targets as tables. */
export function renderStatus(runId: string, s: RolloutState): string {
  const out: string[] = [];
  const rows: [string, string][] = [
    ['run', runId],
    ['status', s.status],
    ['progress', headline(s)],
    ['started', s.startedAt],
  ];
  if (s.endedAt) rows.push(['ended', s.endedAt]);
  if (s.reason) rows.push(['reason', s.reason]);
  else if (s.cleanupError) rows.push(['warning', s.cleanupError]);
  for (const d of s.decisions)
    rows.push([
      `gate "${d.gate}"`,
      `${d.approved ? 'approved' : 'rejected'} by ${d.by} at ${d.at}${d.comment ? `: ${d.comment}` : ''}`,
    ]);
  out.push(renderTable(['', ''], rows));
  out.push(
    renderTable(
      ['batch', 'targets', 'ok', 'failed', 'status'],
      s.batches.map((b) => {
        const c = counts(s, b.targets);
        return [b.index + 1, b.targets.length, c.ok, c.bad, b.status];
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
  return out.join('\n');
}
