// The agent activities against a real tatd and three real agent processes, which the tests stop
// and start again: agent status, target selectors, and waiting for a reboot.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import type { TatClient } from '../../tat/node/client.js';
import {
  registerAgent,
  registerMachines,
  startAgent,
  waitAgents,
  type AgentProcess,
} from '../../testkit/agents.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { waitFor } from '../../testkit/wait.js';

const ACCOUNT = { secretId: 'AKIDagents', secretKey: 'agents-secret', appId: '1300000201' };
const region = 'ap-guangzhou';

let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];
let ids: string[];
let acts: ReturnType<typeof createActivities>;

const newEnv = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const runIn = <I, O>(env: MockActivityEnvironment, fn: (i: I) => Promise<O>, input: I): Promise<O> =>
  env.run(fn, input);
const run = <I, O>(fn: (i: I) => Promise<O>, input: I): Promise<O> => runIn(newEnv(), fn, input);

before(async () => {
  tatd = await startTatd({
    accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
    openEnrollment: true,
  });
  tat = client(tatd, ACCOUNT);
  agents = ['ag-a', 'ag-b', 'ag-c'].map((m) =>
    startAgent(tatd.url, {
      machineId: m,
      account: ACCOUNT.appId,
      dir: mkdtempSync(join(tmpdir(), 'tatflow-agent-')),
      maxBackoffSeconds: 3,
    }),
  );
  ids = agents.map((a) => a.instanceId);
  await waitAgents(tat, ids);
  acts = createActivities({ secretId: ACCOUNT.secretId, secretKey: ACCOUNT.secretKey, endpoint: tatd.url });
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd.stop();
});

/** Starts a stopped agent again and waits until it is online. */
async function restart(a: AgentProcess): Promise<void> {
  a.start();
  await waitAgents(tat, [a.instanceId]);
}

describe('agentStatus', () => {
  test('sorts instances into online, offline and unknown to TAT', async () => {
    const [a, b, c] = agents as [AgentProcess, AgentProcess, AgentProcess];
    await c.stop();
    try {
      await waitAgents(tat, [c.instanceId], 'Offline');
      const r = await run(acts.agentStatus, {
        region,
        instanceIds: [a.instanceId, 'ins-zzzzzzzz', b.instanceId, c.instanceId, 'not-an-id', a.instanceId],
      });
      assert.deepEqual(r, {
        online: [a.instanceId, b.instanceId],
        offline: [c.instanceId],
        unknown: ['ins-zzzzzzzz', 'not-an-id'],
        windows: [], // the agents run on Linux (Environment in DescribeAutomationAgentStatus)
      });
    } finally {
      await restart(c);
    }
  });
});

describe('resolveTargets', () => {
  test('instance ids as given, without repeats, in their order', async () => {
    const r = await run(acts.resolveTargets, {
      region,
      selector: { instanceIds: [ids[2]!, ids[0]!, ids[2]!] },
    });
    assert.deepEqual(r, [ids[2], ids[0]]);
  });

  test('`online` is every instance with an online agent in the region', async () => {
    const b = agents[1]!;
    assert.deepEqual(
      (await run(acts.resolveTargets, { region, selector: { online: true } })).sort(),
      [...ids].sort(),
    );
    await b.stop();
    try {
      await waitAgents(tat, [b.instanceId], 'Offline');
      const r = await run(acts.resolveTargets, { region, selector: { online: true } });
      assert.deepEqual(r.sort(), [ids[0], ids[2]].sort());
    } finally {
      await restart(b);
    }
  });

  test('a managed-name selector names the managed instances whose name contains the text', async () => {
    const code = await tat.CreateRegisterCode({ RegisterLimit: 2 });
    const managed: string[] = [];
    for (const [machineId, name] of [
      ['ag-web', 'web-1'],
      ['ag-db', 'db-1'],
    ] as const) {
      const reg = await registerAgent(tatd.url, {
        registerCodeId: code.RegisterCodeId!,
        registerCodeValue: code.RegisterCodeValue!,
        machineId,
      });
      assert.ok(reg.instanceId, reg.output);
      await tat.ModifyRegisterInstance({ InstanceId: reg.instanceId, InstanceName: name });
      managed.push(reg.instanceId);
    }
    assert.deepEqual(await run(acts.resolveTargets, { region, selector: { managedName: 'web' } }), [
      managed[0],
    ]);
    assert.deepEqual(await run(acts.resolveTargets, { region, selector: { managedName: 'nothing' } }), []);
  });
});

describe('resolveTargets with selectors', () => {
  test('tags, names, kind, os and agent status as the TAT API reports them; several selectors are OR', async () => {
    const [web, db] = await registerMachines(
      tat,
      tatd.url,
      [
        { machineId: 'sel-web', tags: ['env=prod', 'role=web'] },
        { machineId: 'sel-db', tags: ['env=staging'] },
      ],
      'sel-',
    );
    assert.ok(web && db);
    // The web machine's agent runs; the db machine registered but its agent is not running.
    const agent = startAgent(tatd.url, {
      machineId: 'sel-web',
      account: ACCOUNT.appId,
      dir: web.dir,
      instanceId: web.instanceId,
      maxBackoffSeconds: 3,
    });
    try {
      await waitAgents(tat, [web.instanceId]);
      const sel = async (...select: string[]) =>
        (await run(acts.resolveTargets, { region, selector: { select } })).sort();
      const w = web.instanceId;
      const d = db.instanceId;
      assert.deepEqual(await sel('tag:env=prod'), [w]);
      assert.deepEqual(await sel('tag:env'), [w, d].sort());
      assert.deepEqual(await sel('tag:env,online'), [w]);
      assert.deepEqual(await sel('tag:env,offline'), [d]);
      assert.deepEqual(await sel('tag:env=staging,os=linux,kind=rins,name=sel-*'), [d]);
      assert.deepEqual(await sel('kind=ins'), [...ids].sort());
      assert.deepEqual(await sel('kind=ins', 'tag:role=web'), [...ids, w].sort());
      assert.deepEqual(await sel(`id=${ids[0]}`), [ids[0]]);
      assert.deepEqual(await sel('tag:env=nowhere'), []);
      // A bad selector (from any Temporal client) fails the activity at once, naming the term.
      await assert.rejects(
        run(acts.resolveTargets, { region, selector: { select: ['online,os=mac'] } }),
        (e: unknown) =>
          e instanceof ApplicationFailure &&
          e.nonRetryable &&
          /select "online,os=mac": term "os=mac": os is linux or windows/.test(e.message),
      );
    } finally {
      await agent.stop();
    }
  });
});

describe('waitReboot', () => {
  test('tells apart agents that came back, never went away, and did not come back', async () => {
    const [a, b, c] = agents as [AgentProcess, AgentProcess, AgentProcess];
    const env = newEnv();
    let beats = 0;
    let seenOffline = 0;
    env.on('heartbeat', (d?: { waitingOnline?: number }) => {
      beats++;
      seenOffline = d?.waitingOnline ?? seenOffline;
    });
    const waiting = runIn(env, acts.waitReboot, {
      region,
      instanceIds: ids,
      offlineWithinMs: 2500,
      onlineWithinMs: 5000,
      pollIntervalMs: 100,
    });
    try {
      // a "reboots": gone for a moment, then back; c goes and stays away; b stays.
      await Promise.all([a.stop(), c.stop()]);
      // a comes back once the activity has seen both go (its heartbeat counts them).
      await waitFor(() => seenOffline === 2, { what: 'the activity to see a and c offline' });
      a.start();
      const r = await waiting;
      assert.deepEqual(r, { back: [a.instanceId], notRebooted: [b.instanceId], notBack: [c.instanceId] });
      assert.ok(beats > 0, 'it heartbeats while it waits');
    } finally {
      await waiting.catch(() => undefined);
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) c.start();
      await waitAgents(tat, ids);
    }
  });
});
