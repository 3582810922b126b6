// The executor on its own, with real shells: preparation failures with the reference agent's
// error names, the environment a script sees, stdin closed, and cancel before the spawn.

import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TaskExecutor, type FinishFields } from '../../agent/executor.js';
import type { OutputChunk } from '../../agent/output.js';
import type { AgentTaskMessage } from '../../tat/agent-protocol.js';
import { taskUser } from '../../testkit/task-user.js';
import { processesMatching } from '../helpers/invocations.js';
import { waitFor } from '../../testkit/wait.js';

// Tasks run as the test task user (a throwaway user with quiet login files when root).
const me = taskUser();
let n = 0;

function executor() {
  const chunks: OutputChunk[] = [];
  const finishes: FinishFields[] = [];
  const e = new TaskExecutor(join(me.dir('exec'), 'scripts'), {
    chunk: (_id, c) => chunks.push(c),
    finish: (_id, f) => finishes.push(f),
  });
  const output = () => Buffer.concat(chunks.map((c) => Buffer.from(c.Output, 'base64'))).toString('utf8');
  return { e, chunks, finishes, output };
}

function task(script: string, over: Partial<AgentTaskMessage> = {}): AgentTaskMessage {
  return {
    InvocationTaskId: `invt-exec${String(n++).padStart(4, '0')}`,
    TimeOut: 30,
    Command: Buffer.from(script).toString('base64'),
    CommandType: 'SHELL',
    Username: me.name,
    WorkingDirectory: tmpdir(),
    OutputCOSBucketUrl: '',
    OutputCOSKeyPrefix: '',
    ...over,
  };
}

describe('start failures carry the reference error names', () => {
  const cases: [string, Partial<AgentTaskMessage>, RegExp][] = [
    ['a command that is not base64', { Command: 'not base64!' }, /^InvalidCommand: /],
    ['an unknown user', { Username: 'no-such-user-x' }, /^InvalidUser: user `no-such-user-x` not exists$/],
    // getent would take these for an option, or look up a uid: never root in disguise.
    [
      'a user name that reads as an option',
      { Username: '--service=files' },
      /^InvalidUser: user `--service=files`/,
    ],
    ['a uid instead of a name', { Username: '0' }, /^InvalidUser: user `0` not exists$/],
    [
      'an 8 MB command that is not base64',
      { Command: `${'QUJD'.repeat(2 * 1024 * 1024)}!` },
      /^InvalidCommand: /,
    ],
    ['a missing directory', { WorkingDirectory: '/no/such/dir' }, /^InvalidWorkingDirectory: /],
    ['a file as directory', { WorkingDirectory: '/etc/passwd' }, /^InvalidWorkingDirectory: /],
    [
      'a Windows command type',
      { CommandType: 'POWERSHELL' },
      /^ScriptStoreFailed: invalid `POWERSHELL` type in Unix\.$/,
    ],
  ];
  for (const [what, over, info] of cases)
    test(what, async () => {
      const x = executor();
      assert.equal(await x.e.run(task('echo never', over)), 'START_FAILED');
      assert.equal(x.finishes.length, 1);
      assert.match(x.finishes[0]!.ErrorInfo, info);
      assert.equal(x.finishes[0]!.ExitCode, -1);
      assert.equal(x.finishes[0]!.FinalLogIndex, null);
      assert.equal(x.chunks.length, 0);
    });
});

test('the script sees its user, home, working directory and a closed stdin', async () => {
  const x = executor();
  const dir = me.dir('wd');
  const result = await x.e.run(
    task(
      'echo "$USER $LOGNAME $HOME $(pwd)"; if read -r line; then echo got-input; else echo stdin-closed; fi',
      {
        WorkingDirectory: dir,
      },
    ),
  );
  assert.equal(result, 'SUCCESS');
  assert.equal(x.output(), `${me.name} ${me.name} ${me.home} ${dir}\nstdin-closed\n`);
  assert.equal(x.finishes[0]!.ExitCode, 0);
  assert.equal(x.finishes[0]!.FinalLogIndex, 0);
});

test('output of background processes that keep the pipe open is cut a second after the exit', async () => {
  const x = executor();
  const t0 = Date.now();
  const result = await x.e.run(task('echo fg; (sleep 3; echo late) & echo done'));
  assert.equal(result, 'SUCCESS');
  assert.ok(Date.now() - t0 < 4000, 'did not wait for the background process');
  assert.equal(x.output(), 'fg\ndone\n');
});

test('a cancel that arrives while the task is being prepared still terminates it', async () => {
  const x = executor();
  const t = task('sleep 30');
  const running = x.e.run(t);
  assert.equal(x.e.cancel(t.InvocationTaskId), true);
  assert.equal(await running, 'TERMINATED');
  assert.equal(x.finishes[0]!.ExitCode, -1);
});

test('killAll terminates every running task and waits for their reports', async () => {
  const x = executor();
  const marker = `sleep 30${process.pid}`;
  const runs = [x.e.run(task(marker)), x.e.run(task(marker))];
  await waitFor(() => processesMatching(marker).length === 2, { what: 'both tasks running' });
  await x.e.killAll();
  assert.deepEqual(await Promise.all(runs), ['TERMINATED', 'TERMINATED']);
  assert.equal(x.finishes.length, 2);
});
