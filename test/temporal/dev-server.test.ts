// The Temporal dev server as tests, `tatflow dev` and users get it: the pinned CLI found (or
// refused clearly), a real server that answers, keeps its state in a database file across
// restarts, serves the Web UI, and leaves neither a process nor a port behind when stopped.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Client, Connection, ScheduleClient } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { findTemporalCli, freePort, startTemporalDevServer } from '../../temporal/dev-server.js';
import { sharedTemporal, stopSharedTemporal, workflowBundle } from '../../testkit/temporal.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const scratch: string[] = [];
after(async () => {
  await stopSharedTemporal();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

function scratchDir(parent = tmpdir()): string {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'tatflow-temporal-'));
  scratch.push(dir);
  return dir;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function assertGroupGone(pid: number): void {
  assert.throws(() => process.kill(-pid, 0), { code: 'ESRCH' }, `process group ${pid} is gone`);
}

const portOf = (address: string) => Number(address.split(':').pop());

test('a dev server on a database file answers, keeps a schedule across restarts, and stops cleanly', async (t) => {
  const dbFile = join(scratchDir(), 'state', 'temporal.sqlite');
  let started = performance.now();
  const first = await startTemporalDevServer({ dbFile });
  t.diagnostic(`dev server (Web UI, db file) answered after ${Math.round(performance.now() - started)} ms`);
  assert.match(first.address, /^127\.0\.0\.1:\d+$/);

  const connection = await Connection.connect({ address: first.address });
  const info = await connection.workflowService.getSystemInfo({});
  assert.ok(info.capabilities, 'getSystemInfo answers with the server capabilities');
  const { namespaces } = await connection.workflowService.listNamespaces({});
  assert.ok(namespaces.some((n) => n.namespaceInfo?.name === 'default'));

  const ui = await fetch(first.uiUrl!);
  assert.equal(ui.status, 200);
  assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await ui.text(), /<html/i);

  const schedules = new ScheduleClient({ connection });
  await schedules.create({
    scheduleId: 'nightly-patch',
    spec: { cronExpressions: ['0 3 * * *'] },
    action: { type: 'startWorkflow', workflowType: 'rollout', taskQueue: 'tatflow', args: [{ batch: 10 }] },
    state: { paused: true, note: 'kept across restarts' },
  });
  await connection.close();
  await first.stop();
  assertGroupGone(first.pid);
  assert.ok(await portIsFree(portOf(first.address)), 'the gRPC port is free again');
  assert.ok(await portIsFree(Number(new URL(first.uiUrl!).port)), 'the UI port is free again');

  started = performance.now();
  const second = await startTemporalDevServer({
    dbFile,
    headless: true,
    namespace: 'runbooks',
    searchAttributes: ['TatflowRunbook=Keyword'],
  });
  t.diagnostic(
    `restart (headless, same db file) answered after ${Math.round(performance.now() - started)} ms`,
  );
  assert.equal(second.uiUrl, undefined);
  const again = await Connection.connect({ address: second.address });
  const schedule = await new ScheduleClient({ connection: again }).getHandle('nightly-patch').describe();
  assert.equal(schedule.action.type, 'startWorkflow');
  assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'rollout');
  assert.equal(schedule.state.paused, true);
  assert.equal(schedule.state.note, 'kept across restarts');
  await again.workflowService.describeNamespace({ namespace: 'runbooks' });
  const attrs = await again.operatorService.listSearchAttributes({ namespace: 'runbooks' });
  assert.ok(attrs.customAttributes && 'TatflowRunbook' in attrs.customAttributes);
  await again.close();
  await second.stop();
  assertGroupGone(second.pid);
  assert.ok(await portIsFree(portOf(second.address)));
});

test('a server that cannot start fails with its own last words', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as { port: number };
  try {
    await assert.rejects(
      startTemporalDevServer({ port, headless: true }),
      /exited \(code \d+\) before it answered:[\s\S]*address already in use/,
    );
  } finally {
    taken.close();
  }
  await assert.rejects(
    startTemporalDevServer({ cli: '/nonexistent/temporal', port: await freePort(), headless: true }),
    /cannot run the Temporal CLI \/nonexistent\/temporal: .*ENOENT/,
  );
});

test('findTemporalCli honours TEMPORAL_CLI and refuses a bad one clearly', async (t) => {
  const pinned = await findTemporalCli();
  const saved = process.env.TEMPORAL_CLI;
  t.after(() => {
    if (saved === undefined) delete process.env.TEMPORAL_CLI;
    else process.env.TEMPORAL_CLI = saved;
  });

  process.env.TEMPORAL_CLI = '/nonexistent/temporal';
  await assert.rejects(findTemporalCli({ install: true }), {
    message: 'TEMPORAL_CLI=/nonexistent/temporal is not an executable file; unset it or fix the path',
  });
  const notExecutable = join(scratchDir(), 'temporal');
  writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
  process.env.TEMPORAL_CLI = notExecutable;
  await assert.rejects(findTemporalCli(), /is not an executable file/);
  process.env.TEMPORAL_CLI = pinned;
  assert.equal(await findTemporalCli(), pinned);
});

test('the shared server runs a workflow from a bundle built once per process', async (t) => {
  const started = performance.now();
  const temporal = await sharedTemporal();
  t.diagnostic(`shared dev server (in memory) ready after ${Math.round(performance.now() - started)} ms`);
  assert.equal(await sharedTemporal(), temporal, 'one server per test process');

  // Inside the repository, so that webpack resolves @temporalio/workflow from node_modules.
  const workflowsPath = join(scratchDir(join(ROOT, '.tmp')), 'workflows.js');
  writeFileSync(workflowsPath, 'export async function greet(name) { return `hello ${name}`; }\n');
  const bundling = performance.now();
  const bundle = await workflowBundle(workflowsPath);
  t.diagnostic(`workflow bundle built in ${Math.round(performance.now() - bundling)} ms`);
  assert.equal(await workflowBundle(workflowsPath), bundle, 'bundled once per path');

  const taskQueue = 'temporal-server-test';
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: bundle,
  });
  const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
  const greeting = await worker.runUntil(
    client.workflow.execute('greet', { taskQueue, workflowId: 'greet-1', args: ['fleet'] }),
  );
  assert.equal(greeting, 'hello fleet');

  const { pid } = temporal.server;
  await stopSharedTemporal();
  assertGroupGone(pid);
  assert.ok(await portIsFree(portOf(temporal.address)));
});
