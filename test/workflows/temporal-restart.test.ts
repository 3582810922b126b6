// Killing the Temporal server itself mid-run (SIGKILL of its process group) and starting it again
// on the same database: the worker reconnects, the run resumes, no target runs the command twice.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { startTemporalDevServer, type TemporalDevServer } from '../../temporal/dev-server.js';
import type { RolloutState } from '../../workflows/engine/types.js';
import { lines, startEngine, type Engine } from '../helpers/engine.js';
import { waitFor } from '../../testkit/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'tatflow-temporal-restart-'));
const dbFile = join(dir, 'temporal.sqlite');
let server: TemporalDevServer;
let connection: Connection;
let e: Engine;

before(async () => {
  server = await startTemporalDevServer({ headless: true, dbFile });
  connection = await Connection.connect({ address: server.address });
  e = await startEngine({
    taskQueue: 'temporal-restart',
    agents: 5,
    temporal: { address: server.address, connection },
  });
});
after(async () => {
  await e?.stop();
  await connection?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the Temporal server killed mid-batch and restarted: the run completes, every target ran once', async () => {
  const marks = join(e.work, 'marks');
  const h = await e.start(
    'rollingCommand',
    { command: { content: `mkdir -p ${marks}; echo ran >> ${marks}/$TEST_INSTANCE; sleep 2` } },
    { shape: { kind: 'batches', batches: [2, 3] } },
  );
  await waitFor(() => lines(join(marks, e.ids[0]!)).length + lines(join(marks, e.ids[1]!)).length > 0, {
    what: 'batch 1 running',
  });
  const port = Number(server.address.split(':')[1]);
  process.kill(-server.pid, 'SIGKILL');
  // Gone (its port free) before the next server starts on the same port and database.
  await waitFor(
    () => {
      try {
        process.kill(-server.pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { what: 'the killed Temporal server to be gone' },
  );
  server = await startTemporalDevServer({ headless: true, dbFile, port });
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  for (const id of e.ids)
    assert.equal(readFileSync(join(marks, id), 'utf8'), 'ran\n', `${id} ran exactly once`);
});
