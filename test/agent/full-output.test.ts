// The whole output of a task with an OutputCOSBucketUrl (docs/agent-protocol-reference.md,
// "Output"): written uncapped to `<id>.log` next to the script while the 24 KB excerpt is reported
// as usual, and handed over with the finish; a file that cannot be created is
// OutputFileCreateFailed.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TaskExecutor, type FinishFields, type FullOutput } from '../../agent/executor.js';
import type { OutputChunk } from '../../agent/output.js';
import type { AgentTaskMessage } from '../../tat/agent-protocol.js';
import { taskUser } from '../../testkit/task-user.js';

// Tasks run as the test task user (a throwaway user with quiet login files when root).
const me = taskUser();

function setup() {
  const dir = join(me.dir('full'), 'scripts');
  const chunks: OutputChunk[] = [];
  const finishes: { fields: FinishFields; full: FullOutput | undefined }[] = [];
  const e = new TaskExecutor(dir, {
    chunk: (_id, c) => chunks.push(c),
    finish: (_id, fields, full) => finishes.push({ fields, full }),
  });
  return { dir, e, chunks, finishes };
}

function task(id: string, script: string, over: Partial<AgentTaskMessage> = {}): AgentTaskMessage {
  return {
    InvocationTaskId: id,
    TimeOut: 30,
    Command: Buffer.from(script).toString('base64'),
    CommandType: 'SHELL',
    Username: me.name,
    WorkingDirectory: tmpdir(),
    OutputCOSBucketUrl: 'https://tatd.example/cos/logs',
    OutputCOSKeyPrefix: 'p/',
    ...over,
  };
}

test('the whole output goes to a file handed over with the finish; the excerpt stays 24 KB', async () => {
  const x = setup();
  const t0 = Date.now();
  // 300 KB in bursts, and stderr merged in order.
  const result = await x.e.run(task('invt-full0001', "head -c 307200 /dev/zero | tr '\\0' z; echo END >&2"));
  assert.equal(result, 'SUCCESS');
  assert.equal(x.finishes.length, 1);
  const { fields, full } = x.finishes[0]!;
  assert.ok(full, 'a task with a bucket hands its output file over');
  assert.equal(full.path, join(x.dir, 'invt-full0001.log'));
  assert.equal(full.bucketUrl, 'https://tatd.example/cos/logs');
  assert.equal(full.keyPrefix, 'p/');
  assert.equal(full.writeError, undefined);
  assert.ok(full.deadline >= t0 + 30_000 && full.deadline <= Date.now() + 30_000);
  const whole = readFileSync(full.path);
  assert.equal(whole.length, 307200 + 4);
  assert.ok(whole.subarray(0, 307200).every((b) => b === 0x7a));
  assert.equal(whole.subarray(307200).toString(), 'END\n');
  // The upload fills these in later (the session): the executor leaves them empty.
  assert.equal(fields.OutputUrl, '');
  assert.equal(fields.OutputUploadCOSErrorInfo, '');
  const excerpt = Buffer.concat(x.chunks.map((c) => Buffer.from(c.Output, 'base64')));
  assert.equal(excerpt.length, 24576);
  assert.equal(x.chunks.at(-1)!.Dropped, 307204 - 24576);
  rmSync(full.path);
});

test('no bucket, no file', async () => {
  const x = setup();
  assert.equal(await x.e.run(task('invt-full0002', 'echo hi', { OutputCOSBucketUrl: '' })), 'SUCCESS');
  assert.equal(x.finishes[0]!.full, undefined);
  assert.equal(existsSync(join(x.dir, 'invt-full0002.log')), false);
});

test('an output file that cannot be created is START_FAILED OutputFileCreateFailed', async () => {
  const x = setup();
  // A directory where the file would go.
  mkdirSync(join(x.dir, 'invt-full0003.log'), { recursive: true });
  assert.equal(await x.e.run(task('invt-full0003', 'echo never')), 'START_FAILED');
  const { fields, full } = x.finishes[0]!;
  assert.match(fields.ErrorInfo, /^OutputFileCreateFailed: /);
  assert.equal(fields.ExitCode, -1);
  assert.equal(full, undefined);
  assert.equal(existsSync(join(x.dir, 'invt-full0003.sh')), false, 'the script is removed');
});
