// The engine on what real TAT needs, end to end on tatd and real agents: a worker signing with
// temporary credentials from a file that is renewed while it runs; an invokeChunk attempt that
// stalls past its heartbeat timeout while its retry invokes (it must not invoke after); and targets
// of two kinds (`ins-` agents and a registered `rins-` machine) in one batch, invoked per kind.

import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RolloutState } from '../../workflows/engine/types.js';
import { ACCOUNT, lines, runFailure, startEngine, type Engine } from '../helpers/engine.js';
import { registerAgent, startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { taskUser } from '../../testkit/task-user.js';
import { stopSharedTemporal } from '../../testkit/temporal.js';
import { stays, waitFor } from '../../testkit/wait.js';

/** Two temporary key pairs of the engine's account, each with its session token. */
const K1 = { secretId: 'AKIDtemp1', secretKey: 'temp-key-1', token: 'token-1' };
const K2 = { secretId: 'AKIDtemp2', secretKey: 'temp-key-2', token: 'token-2' };
const credentials = join(taskUser().dir('credentials'), 'tat.json');

/** Renews the credentials the way a renewer should: a new file renamed over the old one. */
function writeCredentials(c: { secretId: string; secretKey: string; token: string }): void {
  writeFileSync(`${credentials}.new`, JSON.stringify(c));
  renameSync(`${credentials}.new`, credentials);
}

let e: Engine;
let managed: AgentProcess;
/** Set by a test: the first invokeChunk attempt of the next run stalls this long before invoking. */
let stallMs = 0;
let stalled: { attempt: number; instanceIds: string[]; woke?: boolean }[] = [];

before(async () => {
  writeCredentials(K1);
  e = await startEngine({
    taskQueue: 'tat-safety',
    agents: 3,
    tatdConfig: { accounts: [K1, K2].map((k) => ({ ...k, appId: ACCOUNT.appId })) },
    workerTat: (url) => ({ endpoint: url, credentialsFile: credentials }),
    invokeHooks: {
      beforeInvoke: async (input, attempt) => {
        if (stallMs === 0 || attempt !== 1) return;
        const ms = stallMs;
        stallMs = 0;
        const entry: (typeof stalled)[number] = { attempt, instanceIds: input.instanceIds };
        stalled.push(entry);
        // No heartbeat meanwhile, as in a long GC pause or a blocked event loop.
        await new Promise((r) => setTimeout(r, ms));
        entry.woke = true;
      },
    },
  });
  // A machine registered with a code: a managed (rins-) instance beside the engine's ins- agents.
  const { RegisterCodeId, RegisterCodeValue } = await e.tat.CreateRegisterCode({ EffectiveTime: 1 });
  const reg = await registerAgent(e.tatd.url, {
    registerCodeId: RegisterCodeId!,
    registerCodeValue: RegisterCodeValue!,
    machineId: 'tat-safety-managed',
  });
  assert.ok(reg.instanceId, reg.output);
  managed = startAgent(e.tatd.url, {
    machineId: 'tat-safety-managed',
    account: ACCOUNT.appId,
    dir: reg.dir,
    instanceId: reg.instanceId,
    env: { TEST_INSTANCE: reg.instanceId },
  });
  await waitAgents(e.tat, [managed.instanceId], 'Online', 60_000);
});
after(async () => {
  await managed?.stop();
  await e?.stop();
  await stopSharedTemporal();
});

const marks = (name: string) => join(e.work, name);
const script = (dir: string) => `mkdir -p ${dir}; echo ran >> ${dir}/$TEST_INSTANCE`;

test('temporary credentials from a file: renewed ones are used without a restart, and a bad token is refused', async () => {
  const first: RolloutState = await (
    await e.start(
      'rollingCommand',
      { command: { content: 'true' } },
      { shape: { kind: 'batches', batches: [3] } },
    )
  ).result();
  assert.equal(first.status, 'succeeded');
  // The file now holds a token tatd cannot accept: the worker reads it at its next request.
  writeCredentials({ ...K1, token: 'expired-token' });
  const refused = await runFailure(
    await e.start('rollingCommand', { command: { content: 'true' } }, { targets: { instanceIds: e.ids } }),
  );
  assert.match(refused, /AuthFailure\.TokenFailure/);
  // Renewed: other temporary credentials of the same account.
  writeCredentials(K2);
  const third: RolloutState = await (
    await e.start(
      'rollingCommand',
      { command: { content: 'true' } },
      { shape: { kind: 'batches', batches: [3] } },
    )
  ).result();
  assert.equal(third.status, 'succeeded');
});

test('an invokeChunk attempt that stalls past its heartbeat timeout does not invoke after its retry did', async () => {
  const dir = marks('stalled');
  stalled = [];
  stallMs = 20_000; // the engine's heartbeat timeout is 15 s
  const h = await e.start(
    'rollingCommand',
    { command: { content: script(dir) } },
    { targets: { instanceIds: e.ids }, shape: { kind: 'batches', batches: [3] } },
  );
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  assert.equal(stalled.length, 1, 'the first attempt stalled');
  // The stalled attempt wakes 20 s after it started, after its retry invoked (the run may even
  // have ended): from there it must not invoke as well.
  await waitFor(() => stalled[0]!.woke, { timeoutMs: 30_000, what: 'the stalled attempt to wake up' });
  const invocations = async () =>
    (
      await e.tat.DescribeInvocations({
        Filters: [{ Name: 'command-id', Values: [s.commands['step.command']!] }],
      })
    ).TotalCount;
  await stays(async () => (await invocations()) === 1, {
    forMs: 2000,
    what: 'one invocation of the chunk',
    why: 'a woken attempt goes straight to its InvokeCommand (a few ms); 2 s is far beyond it',
  });
  for (const id of e.ids) assert.deepEqual(lines(join(dir, id)), ['ran'], `${id} ran exactly once`);
});

test('targets of two kinds in one batch: one invocation per kind, each target once', async () => {
  const dir = marks('kinds');
  const targets = [e.ids[0]!, managed.instanceId, e.ids[1]!];
  const h = await e.start(
    'rollingCommand',
    { command: { content: script(dir) } },
    { targets: { instanceIds: targets }, shape: { kind: 'batches', batches: [3] } },
  );
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  const invs = await e.tat.DescribeInvocations({
    Filters: [{ Name: 'command-id', Values: [s.commands['step.command']!] }],
  });
  const sets = invs
    .InvocationSet!.map((i) => i.InvocationTaskBasicInfoSet!.map((t) => t.InstanceId!).sort())
    .sort((a, b) => a.length - b.length);
  assert.deepEqual(sets, [[managed.instanceId], [e.ids[0]!, e.ids[1]!].sort()]);
  for (const id of targets) assert.deepEqual(lines(join(dir, id)), ['ran'], `${id} ran exactly once`);
});
