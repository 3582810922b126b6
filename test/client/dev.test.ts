// `tatflow dev` as a user starts it (a child process on free ports, in a directory of its own, with
// a runbook file and no demo): one per directory (a second one says where the first runs), the
// root warning, the task queues, engine.json without the key pair, the CLI working next to it,
// the reboot guard (refused without a terminal, asked on one), the SDK core's warnings in the log
// file and not on the terminal, and a clean stop. The lock's stale-pid handling is tested on its
// own first.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { acquireDevLock } from '../../client/dev-lock.js';
import { InstancesJson } from '../../client/json-output.js';
import { freePort } from '../../temporal/dev-server.js';
import { waitFor } from '../../testkit/wait.js';
import { BIN, tatflowCli } from '../helpers/cli.js';
import { openScreen } from '../helpers/tmux.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));
const root = process.getuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), 'tatflow-dev-test-'));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the dev lock', () => {
  const dir = mkdtempSync(join(scratch, 'lock-'));
  const file = join(dir, 'dev.lock');
  const holder = (argv: string[]) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    children.add(p);
    return p;
  };
  const lockOf = (pid: number) =>
    writeFileSync(file, JSON.stringify({ pid, startedAt: '2026-01-01T00:00:00Z', tat: 'http://x:1' }));

  test('a live tatflow process holds it; a dead one or a reused pid of another program does not', async () => {
    const live = holder([process.execPath, '-e', 'setInterval(() => {}, 1000)', 'tatflow-holder']);
    const other = holder(['sleep', '30']);
    try {
      lockOf(live.pid!);
      const held = acquireDevLock(dir);
      assert.ok('running' in held);
      assert.equal(held.running.pid, live.pid);
      assert.equal(held.running.tat, 'http://x:1');

      // A pid alive but of another program (reused after a crash): stale.
      lockOf(other.pid!);
      const mine = acquireDevLock(dir);
      assert.ok(!('running' in mine));
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, process.pid);
      mine.update({ tat: 'http://127.0.0.1:9', temporal: '127.0.0.1:7' });
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).tat, 'http://127.0.0.1:9');
      mine.release();
      assert.equal(existsSync(file), false);

      // The process is gone (killed): stale. Garbage in the file (a crash mid-write): stale too.
      live.kill('SIGKILL');
      await waitFor(() => live.exitCode !== null || live.signalCode !== null, { what: 'the holder to die' });
      lockOf(live.pid!);
      const again = acquireDevLock(dir);
      assert.ok(!('running' in again));
      again.release();
      writeFileSync(file, '{"pid": ');
      const fromGarbage = acquireDevLock(dir);
      assert.ok(!('running' in fromGarbage));
      fromGarbage.release();
    } finally {
      live.kill('SIGKILL');
      other.kill('SIGKILL');
    }
  });
});

describe('tatflow dev', () => {
  test('one per directory, root warning, queues, CLI next to it, reboot guard, warnings to the log, clean stop', async () => {
    const cwd = mkdtempSync(join(scratch, 'dev-'));
    const [tatdPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const args = [
      'dev',
      '--no-demo',
      '--agents',
      '2',
      '--listen',
      `127.0.0.1:${tatdPort}`,
      '--temporal-port',
      String(temporalPort),
      '--temporal-ui-port',
      String(uiPort),
      '--runbooks',
      EXAMPLE,
    ];
    const dev = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(dev);
    let out = '';
    let err = '';
    dev.stdout.on('data', (d: Buffer) => (out += d.toString()));
    dev.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => dev.on('exit', (code) => r(code)));
    const data = join(cwd, '.tatflow', 'dev');
    try {
      await waitFor(() => out.includes('Ctrl-C stops everything') || dev.exitCode !== null, {
        timeoutMs: 120_000,
        what: `tatflow dev to be up (${out}${err})`,
      });
      assert.ok(out.includes('Ctrl-C stops everything'), out + err);
      assert.equal(
        out.startsWith('Running as root: the 2 agents of the dev fleet run every task as root'),
        root,
        out,
      );
      assert.match(
        out,
        /│ Task queues +│ tatflow: patchFleet, rollingAppUpdate, rollingCommand; tatflow-rotate-logs: rotateLogs +│/,
      );

      // engine.json tells the CLI where things are, but not the key pair (credentials.json, 0600).
      const engine = JSON.parse(readFileSync(join(data, 'engine.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(engine, {
        temporalAddress: `127.0.0.1:${temporalPort}`,
        region: 'ap-guangzhou',
        tat: { endpoint: `http://127.0.0.1:${tatdPort}` },
        runbooks: [EXAMPLE],
        rootFleet: root,
      });
      assert.equal(statSync(join(data, 'credentials.json')).mode & 0o777, 0o600);

      // A second one in the same directory says where the first runs, and starts nothing.
      const second = await tatflowCli(args, { cwd, timeoutMs: 30_000 });
      assert.equal(second.code, 1);
      assert.match(
        second.err,
        new RegExp(
          `tatflow dev is already running on .*\\.tatflow/dev \\(pid ${dev.pid}, since .*\\): TAT API http://127\\.0\\.0\\.1:${tatdPort} · Temporal 127\\.0\\.0\\.1:${temporalPort} · Web UI http://127\\.0\\.0\\.1:${uiPort}`,
        ),
      );
      assert.equal(second.out, '');

      // The CLI next to it needs no flag: the dev system's credentials and endpoint.
      const listed = await tatflowCli(['instances', '--json'], { cwd });
      assert.equal(listed.code, 0, listed.err);
      assert.equal(InstancesJson.parse(JSON.parse(listed.out)).instances.filter((i) => i.online).length, 2);
      const runbooks = await tatflowCli(['runbooks'], { cwd });
      assert.match(runbooks.out, /rotateLogs {2}\(.*; task queue tatflow-rotate-logs\)/);

      // A run that may reboot the root dev fleet (this host): refused without a terminal, asked on
      // one (and not started unless the answer is yes). Nothing is run on the fleet here.
      if (root) {
        const refused = await tatflowCli(['run', 'patchFleet', '--online', '--reboot', 'if-required'], {
          cwd,
        });
        assert.equal(refused.code, 1);
        assert.match(
          refused.err,
          /refusing to start: this patchFleet run may reboot its targets, and they are the `tatflow dev` fleet, whose agents run as root on this machine.* Pass --yes/,
        );
        const screen = openScreen(
          [process.execPath, BIN, 'run', 'patchFleet', '--online', '--reboot', 'always'],
          {
            cwd,
            columns: 150,
          },
        );
        try {
          await screen.waitFor(/Type "yes" to go on:/, 'the question');
          screen.type('no');
          const lines = await screen.waitFor(/^tatflow: not started$/, 'the refusal');
          assert.ok(!lines.some((l) => l.startsWith('run patchFleet')), lines.join('\n'));
        } finally {
          screen.stop();
        }
      }

      // The SDK core's warnings (here: a workflow task for a type the worker does not have) go to
      // the log file, not over the terminal.
      const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
      try {
        const h = await new Client({ connection }).workflow.start('noSuchRunbook', {
          taskQueue: 'tatflow',
          workflowId: 'dev-test-unknown-type',
          args: [],
        });
        await waitFor(
          () => readFileSync(join(data, 'tatflow.log'), 'utf8').includes('Failing workflow task'),
          {
            what: 'the warning in the log file',
          },
        );
        await h.terminate('test done');
      } finally {
        await connection.close();
      }
      assert.ok(!/WARN|Failing workflow task/.test(out + err), out + err);
      assert.ok(existsSync(join(data, 'dev.lock')));
    } finally {
      // A closed terminal (SIGHUP) stops it as Ctrl-C (SIGINT) does: one handler for both
      // (client/shutdown.ts); by default SIGHUP would end it at once and leave Temporal running.
      if (dev.exitCode === null) dev.kill('SIGHUP');
    }
    assert.equal(await exited, 0, err);
    assert.equal(existsSync(join(data, 'dev.lock')), false, 'the lock is gone');
    for (const port of [tatdPort, temporalPort])
      assert.equal(await listening(port), false, `port ${port} is free again`);
  });
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
