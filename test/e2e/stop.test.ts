// tatd stops on SIGTERM while agents are connected. Node's server.close() waits for every
// connection it accepted, upgraded WebSockets included, so a tatd that closed its listener but
// not its agents' sockets kept running (and answering their pings) for minutes, while a new tatd
// on the same port saw those agents Offline. Now the agents' sockets are closed first (close code
// 1001, "going away"), the process exits within a bounded time, and the agents reconnect to the
// next tatd at once instead of at their next ping.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WebSocket } from 'ws';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { openAgentSocket } from '../helpers/agent-wire.js';
import { b64, waitFinal } from '../helpers/invocations.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';

const ACCOUNT = { secretId: 'AKIDstop', secretKey: 'stop-secret', appId: '1500000001' };

let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];

before(async () => {
  tatd = await startTatd({
    accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
    openEnrollment: true,
  });
  tat = client(tatd, ACCOUNT);
  // Our agents back off at most 5 s (the reference agent's own back-off is a few seconds too).
  agents = ['stop-a', 'stop-b'].map((m) =>
    startAgent(tatd.url, { machineId: m, account: ACCOUNT.appId, maxBackoffSeconds: 5 }),
  );
  await waitAgents(
    tat,
    agents.map((a) => a.instanceId),
  );
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd.stop();
});

test('SIGTERM with agents connected: tatd exits promptly, and the agents come back to the next tatd', async () => {
  // The reference agent's socket, spoken by hand: it must get a close frame, not silence.
  const wire = await openAgentSocket(tatd.url, {
    'Tat-Version': '1.1.9',
    'Tat-KernelName': 'Linux',
    MachineId: 'stop-wire',
  });
  assert.ok(wire.ws, `the hand-spoken agent socket was refused (${wire.status})`);
  const ws: WebSocket = wire.ws;
  const closedWith = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

  const proc = tatd.proc;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const t0 = Date.now();
  tatd.signal('SIGTERM');
  // The stop is bounded (docs/architecture.md: sockets closed at once, requests get 5 s, the
  // process exits within 15 s whatever happens); 20 s here only keeps a regression from hanging.
  const code = await Promise.race([
    exited,
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref()),
  ]);
  assert.notEqual(code, 'hung', 'tatd was still running 20 s after SIGTERM');
  assert.equal(code, 0, 'a graceful stop exits with status 0');
  console.log(`tatd exited ${Date.now() - t0} ms after SIGTERM with 3 agent sockets open`);
  assert.equal(await closedWith, 1001, 'the agent socket was closed with 1001 (going away)');

  // A new tatd on the same port and data: the agents are Online there and run a command.
  await tatd.restart();
  const ids = agents.map((a) => a.instanceId);
  await waitAgents(tat, ids, 'Online', 30_000);
  const { InvocationId } = await tat.RunCommand({ Content: b64('echo back'), InstanceIds: ids });
  const { tasks } = await waitFinal(tat, InvocationId!);
  assert.deepEqual(
    tasks.map((t) => t.TaskStatus),
    ['SUCCESS', 'SUCCESS'],
  );
  await waitFor(() => ws.readyState === ws.CLOSED, { what: 'the hand-spoken socket closed' });
});
