// The proof that the suite does not depend on root's login files: agent test files run again, in
// a mount namespace where /root is a throwaway directory whose ~/.bashrc sleeps 5 s and leaves a
// mark. They must pass, and the mark must never appear: no task went through root's profile, so
// a slow or broken one (a stale pyenv lock once cost 60 s per task) cannot slow them down or fail
// them. Needs root (the mount namespace, and the tests create their throwaway task user).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const DIST_TEST = fileURLToPath(new URL('..', import.meta.url));
/** Test files that run many tasks on real agents, from the executor up to the engine. */
const FILES = [
  'agent/executor.test.js',
  'e2e/execution.test.js',
  'activities/execution.test.js',
  'workflows/rolling-command.test.js',
].map((f) => join(DIST_TEST, f));

const home = mkdtempSync(join(tmpdir(), 'tatflow-slow-root-'));
const mark = join(home, 'slow-profile-ran');
after(() => rmSync(home, { recursive: true, force: true }));

test('agent tests pass, untouched, with a root ~/.bashrc that sleeps 5 s', { timeout: 600_000 }, async () => {
  assert.equal(process.getuid?.(), 0, 'this file runs as root (scripts/test.mjs runs test/root only then)');
  writeFileSync(join(home, '.bashrc'), `touch "${mark}"\nsleep 5\n`);
  const started = Date.now();
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--',
      'sh',
      '-c',
      `mount --bind "${home}" /root && exec "$@"`,
      'sh',
      process.execPath,
      '--test',
      '--test-concurrency=1',
      '--test-reporter=tap',
      ...FILES,
    ],
    // A run of its own, not a subtest of this one: without NODE_TEST_CONTEXT (set by the runner).
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const tail = out.split('\n').slice(-40).join('\n');
  assert.equal(code, 0, `the agent tests failed under a slow root profile:\n${tail}`);
  const pass = /^# pass (\d+)$/m.exec(out)?.[1];
  assert.ok(Number(pass) > 20, `expected the files' tests to run, got:\n${tail}`);
  assert.equal(existsSync(mark), false, "a task went through root's ~/.bashrc");
  console.log(`${pass} agent tests passed in ${Date.now() - started} ms with a 5 s root ~/.bashrc`);
});
