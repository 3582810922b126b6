// Progress bars in a real terminal: ProgressView (client/progress.ts) draws a scripted run in a
// tmux pane, and the screen is read back at each step. What used to go wrong on a terminal (it was
// clean only when piped): status lines printed twice, a finished batch's bar gone, a stale `0/2`
// bar left beside the `2/2`, failure lines written over bars. `tatflow run --follow` in a terminal
// against the real engine is in cli-engine.test.ts.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { headline } from '../../client/progress.js';
import type { BatchState, RolloutState, TargetState } from '../../workflows/engine/types.js';
import { waitFor } from '../../testkit/wait.js';
import { openScreen, type Screen } from '../helpers/tmux.js';

const SCRIPT = fileURLToPath(new URL('../helpers/progress-script.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tatflow-progress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const [A, B, C, D, E] = ['ins-aaaaaaaa', 'ins-bbbbbbbb', 'ins-cccccccc', 'ins-dddddddd', 'ins-eeeeeeee'];
const BATCHES = [[A], [B, C], [D, E]] as const;

/** A snapshot: batch statuses, and the targets that are done (with how they ended). */
function snapshot(
  status: RolloutState['status'],
  batch: BatchState['status'][],
  done: Record<string, 'ok' | 'failed'>,
): RolloutState {
  const targets: Record<string, TargetState> = {};
  BATCHES.forEach((ids, b) => {
    for (const id of ids) {
      const end = done[id];
      targets[id] =
        end === undefined
          ? { id, batch: b, phase: batch[b] === 'running' ? 'running' : 'pending' }
          : end === 'ok'
            ? { id, batch: b, phase: 'done', outcome: 'succeeded', exitCode: 0 }
            : {
                id,
                batch: b,
                phase: 'done',
                outcome: 'failed',
                exitCode: 7,
                output: 'checking disk\nno space left on device\n',
              };
    }
  });
  const current = Math.max(
    0,
    batch.findLastIndex((s) => s !== 'pending'),
  );
  return {
    status,
    shapeKind: 'batches',
    batches:
      status === 'planning'
        ? []
        : BATCHES.map((t, index) => ({ index, targets: [...t], status: batch[index]! })),
    targets: status === 'planning' ? {} : targets,
    currentBatch: current,
    errors: Object.values(done).filter((d) => d === 'failed').length,
    maxErrors: 1,
    decisions: [],
    commands: {},
    startedAt: '2026-01-01T00:00:00.000Z',
    generation: 0,
    nextWave: 0,
  };
}

const RUN = [
  snapshot('planning', [], {}),
  snapshot('running', ['running', 'pending', 'pending'], {}),
  snapshot('running', ['healthy', 'running', 'pending'], { [A]: 'ok' }),
  snapshot('running', ['healthy', 'running', 'pending'], { [A]: 'ok', [B]: 'ok' }),
  snapshot('running', ['healthy', 'healthy', 'running'], { [A]: 'ok', [B]: 'ok', [C]: 'ok' }),
  snapshot('running', ['healthy', 'healthy', 'running'], { [A]: 'ok', [B]: 'ok', [C]: 'ok', [D]: 'failed' }),
  snapshot('succeeded', ['healthy', 'healthy', 'healthy'], {
    [A]: 'ok',
    [B]: 'ok',
    [C]: 'ok',
    [D]: 'failed',
    [E]: 'ok',
  }),
];

const count = (lines: string[], re: RegExp) => lines.filter((l) => re.test(l)).length;
const lastLine = (lines: string[]) => lines.filter((l) => l !== '').at(-1) ?? '';
const bar = (b: number, done: number, total: number, ok: number, bad: number, status: string) =>
  new RegExp(`^ batch +${b} \\[[█░]{24}\\] ${done}/${total} · ${ok} ok ${bad} failed · ${status}$`);
const anyBar = (b: number) => new RegExp(`^ batch +${b} \\[`);

/** Runs the script in a terminal; `check(i, screen)` reads the screen after snapshot i. */
async function drive(
  name: string,
  columns: number,
  check: (i: number, lines: string[]) => void,
): Promise<string[]> {
  const sync = mkdtempSync(join(dir, `${name}-`));
  const file = join(sync, 'run.json');
  writeFileSync(file, JSON.stringify(RUN));
  const screen: Screen = openScreen([process.execPath, SCRIPT, file, sync], { columns, rows: 40 });
  try {
    for (let i = 0; i < RUN.length; i++) {
      await waitFor(() => existsSync(join(sync, `shown-${i}`)), { what: `snapshot ${i} shown` });
      check(i, screen.all());
      writeFileSync(join(sync, `next-${i}`), '');
    }
    const end = await screen.waitFor(/^done$/, 'the script to end');
    writeFileSync(join(sync, 'quit'), '');
    return end;
  } finally {
    screen.stop();
  }
}

test('a run drawn in a 120-column terminal: each line once, bars final, failures above the live bar', async () => {
  const lines = await drive('wide', 120, (i, screen) => {
    const s = RUN[i]!;
    // Each status line once, when it changes; never twice, though every snapshot came twice.
    assert.equal(
      count(screen, new RegExp(`^• ${escape(headline(s))}$`)),
      1,
      `headline of step ${i}:\n${screen.join('\n')}`,
    );
    for (const b of s.batches) {
      const lines = screen.filter((l) => anyBar(b.index + 1).test(l));
      // One bar per started batch: no stale bar beside it, and it does not disappear when done.
      assert.equal(
        lines.length,
        b.status === 'pending' ? 0 : 1,
        `batch ${b.index + 1} at step ${i}:\n${screen.join('\n')}`,
      );
    }
    const running = s.batches.find((b) => b.status === 'running');
    // The live bar is the last line: nothing is written below or over it.
    if (running)
      assert.match(lastLine(screen), anyBar(running.index + 1), `step ${i}:\n${screen.join('\n')}`);
  });
  assert.equal(count(lines, bar(1, 1, 1, 1, 0, 'healthy')), 1);
  assert.equal(count(lines, bar(2, 2, 2, 2, 0, 'healthy')), 1);
  assert.equal(count(lines, bar(3, 2, 2, 1, 1, 'healthy')), 1);
  assert.equal(count(lines, /0\/2|1\/2/), 0, 'no stale bar');
  // The failure, whole: its line and its output tail, each once, in order.
  const f = lines.indexOf(`✗ ${D} failed (exit 7)`);
  assert.ok(f >= 0, lines.join('\n'));
  assert.deepEqual(lines.slice(f + 1, f + 3), ['    checking disk', '    no space left on device']);
  assert.equal(count(lines, /no space left on device/), 1);
  assert.ok(
    f < lines.findIndex((l) => bar(3, 2, 2, 1, 1, 'healthy').test(l)),
    'the failure comes before its batch ends',
  );
  assert.equal(count(lines, /^• succeeded · batch 3\/3 · errors 1\/1 allowed$/), 1);
});

test('in a narrow terminal a live bar is cut to the width, never wrapped', async () => {
  await drive('narrow', 50, (i, screen) => {
    const running = RUN[i]!.batches.find((b) => b.status === 'running');
    if (!running) return;
    const last = lastLine(screen);
    assert.match(last, anyBar(running.index + 1));
    assert.ok(last.length <= 49 && last.endsWith('…'), `step ${i}: ${last}`);
    // The region redrawn in place leaves nothing of an earlier frame behind.
    assert.equal(count(screen, anyBar(running.index + 1)), 1, screen.join('\n'));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
