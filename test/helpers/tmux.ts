// A real terminal for tests: a command runs in a tmux pane of a given size (a pseudo-terminal, so
// the program sees a TTY and draws as it would for a person), and the test reads the screen back
// with `tmux capture-pane`. Each screen has a tmux server of its own (`-L`, no user config), killed
// by `stop()` and when the test process exits. tmux comes from Debian: when it is missing, the
// tests install it (as root), or fail saying how to.

import { execFileSync, spawnSync } from 'node:child_process';
import { waitFor } from '../../testkit/wait.js';

let checked = false;

/** Makes sure tmux is installed: apt-get installs it when the tests run as root. */
export function ensureTmux(): void {
  if (checked) return;
  if (spawnSync('tmux', ['-V']).status === 0) {
    checked = true;
    return;
  }
  const how = 'apt-get install tmux (Debian package "tmux")';
  if (process.getuid?.() !== 0)
    throw new Error(`these tests need tmux, a real terminal to read the screen from: ${how}, as root`);
  for (const args of [
    ['update', '-q'],
    ['install', '-y', '-q', 'tmux'],
  ]) {
    const r = spawnSync('apt-get', args, {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status !== 0 && args[0] === 'install')
      throw new Error(`tmux is missing and apt-get could not install it (${how}): ${r.stderr.slice(-500)}`);
  }
  if (spawnSync('tmux', ['-V']).status !== 0) throw new Error(`tmux is still missing after apt-get: ${how}`);
  checked = true;
}

const servers = new Set<string>();
process.on('exit', () => {
  for (const s of servers) spawnSync('tmux', ['-L', s, 'kill-server']);
});

let n = 0;

export interface Screen {
  /** The visible screen, one string per row, trailing blanks cut. */
  rows(): string[];
  /** The whole pane: scrollback and screen. */
  all(): string[];
  /** Waits until the pane (scrollback included) holds a line matching `re`. */
  waitFor(re: RegExp, what: string, timeoutMs?: number): Promise<string[]>;
  /** Types a line into the program (as keys, then Enter). */
  type(line: string): void;
  stop(): void;
}

/**
 * Runs `argv` in a new `columns` × `rows` terminal. The pane stays after the command exits
 * (`remain-on-exit`), so its last screen can be read.
 */
export function openScreen(
  argv: string[],
  o: { columns?: number; rows?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Screen {
  ensureTmux();
  const socket = `tatflow-test-${process.pid}-${++n}`;
  servers.add(socket);
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...o.env },
    });
  const quoted = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  // The server starts with a parked shell so that remain-on-exit is set before the command runs.
  tmux(
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(o.columns ?? 120),
    '-y',
    String(o.rows ?? 40),
    ...(o.cwd ? ['-c', o.cwd] : []),
    'sleep 600',
  );
  tmux('set-option', '-g', 'remain-on-exit', 'on');
  tmux('set-option', '-g', 'history-limit', '10000');
  tmux('respawn-pane', '-k', '-t', 'main', ...(o.cwd ? ['-c', o.cwd] : []), `exec ${quoted}`);
  const capture = (all: boolean) =>
    tmux('capture-pane', '-p', '-t', 'main', ...(all ? ['-S', '-'] : []))
      .split('\n')
      .map((l) => l.trimEnd());
  const screen: Screen = {
    rows: () => capture(false),
    all: () => capture(true),
    waitFor: (re, what, timeoutMs = 30_000) =>
      waitFor(
        () => {
          const lines = capture(true);
          return lines.some((l) => re.test(l)) ? lines : undefined;
        },
        { what, timeoutMs, intervalMs: 50 },
      ),
    type(line) {
      tmux('send-keys', '-t', 'main', '-l', line);
      tmux('send-keys', '-t', 'main', 'Enter');
    },
    stop() {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      servers.delete(socket);
    },
  };
  return screen;
}
