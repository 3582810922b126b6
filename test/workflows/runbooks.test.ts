// The built-in rollingAppUpdate and patchFleet runbooks, and a user-written runbook loaded by the
// worker from a file, end to end on 5 real agents. patchFleet runs against PATH shims standing in
// for apt-get, dpkg and reboot (a reboot is simulated by restarting the agent): tests never change
// the host's packages nor reboot it.

import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { RolloutState } from '../../workflows/engine/types.js';
import { runFailure, startEngine, type Engine } from '../helpers/engine.js';
import { stopSharedTemporal } from '../../testkit/temporal.js';
import { waitFor } from '../../testkit/wait.js';
import { taskUser } from '../../testkit/task-user.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));
const ROLES = fileURLToPath(new URL('../../../test/fixtures/runbooks/named-like-roles.ts', import.meta.url));

let e: Engine;
let shims: string;
let rebootWatcher: NodeJS.Timeout | undefined;
const restarts = new Map<string, number>();

/** Waits until tatd saw the agent of `id` go offline and then answered a status call about the fleet. */
async function seenOffline(id: string): Promise<void> {
  const at = (l: Record<string, unknown>) => l.time as number;
  const gone = await waitFor(
    () =>
      e.tatd
        .logs()
        .find((l) => l.msg === 'agent offline' && l.instanceId === id && !checked.has(`${id}@${at(l)}`)),
    { what: `tatd to see ${id} go offline` },
  );
  checked.add(`${id}@${at(gone)}`);
  await waitFor(
    () =>
      e.tatd
        .logs()
        .some(
          (l) => l.msg === 'api call' && l.action === 'DescribeAutomationAgentStatus' && at(l) > at(gone),
        ),
    { what: `the engine to look at the fleet while ${id} is down` },
  );
}
/** The offline moments already used, one per simulated reboot. */
const checked = new Set<string>();

function writeShims(dir: string, instance: string, work: string): void {
  mkdirSync(dir, { recursive: true });
  const log = join(work, 'pkg', `${instance}.log`);
  const shim = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  shim(
    'apt-get',
    `echo "apt-get $*" >> ${log}\ncase "$1" in check) echo "Reading package lists..." ;; esac\nexit 0`,
  );
  shim('dpkg', `echo "dpkg $*" >> ${log}\nexit 0`);
  shim('fuser', 'exit 1');
  shim('reboot', `echo reboot >> ${log}\ntouch ${join(work, 'reboot-requests', instance)}`);
}

before(async () => {
  const work0 = join('/tmp', `tatflow-runbooks-${process.pid}`);
  shims = join(work0, 'shims');
  for (const d of ['pkg', 'reboot-requests']) mkdirSync(join(work0, d), { recursive: true });
  taskUser().own(work0); // the shims' tasks write their logs and reboot requests there
  e = await startEngine({
    taskQueue: 'runbooks',
    agents: 5,
    userRunbooks: [EXAMPLE, ROLES],
    agentEnv: (id) => {
      writeShims(join(shims, id), id, work0);
      return { TATFLOW_TASK_PATH_PREFIX: join(shims, id) };
    },
  });
  // "Reboots": a reboot request stops that agent, and starts it again once the engine has looked
  // at the fleet while it was down (a DescribeAutomationAgentStatus call after tatd saw it go).
  rebootWatcher = setInterval(() => {
    for (const id of readdirSync(join(work0, 'reboot-requests'))) {
      rmSync(join(work0, 'reboot-requests', id));
      const agent = e.agents.find((a) => a.instanceId === id);
      if (!agent) continue;
      restarts.set(id, (restarts.get(id) ?? 0) + 1);
      void agent
        .stop()
        .then(() => seenOffline(id))
        .then(() => agent.start());
    }
  }, 100);
  (e as Engine & { work0: string }).work0 = work0;
});
after(async () => {
  clearInterval(rebootWatcher);
  await e?.stop();
  await stopSharedTemporal();
  const w = (e as (Engine & { work0?: string }) | undefined)?.work0;
  if (w) rmSync(w, { recursive: true, force: true });
});

const work0 = () => (e as Engine & { work0: string }).work0;
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

test('rollingAppUpdate: a failed health check rolls every changed target back to the version it had', async () => {
  const app = join(e.work, 'app');
  mkdirSync(app, { recursive: true });
  e.ids.forEach((id, i) => writeFileSync(join(app, id), i === 4 ? 'v0\n' : 'v1\n'));
  taskUser().own(app);
  const bad = e.ids[3]!;
  const deploys = join(e.work, 'deploys.log');
  const params = {
    version: 'v2',
    probe: { content: `cat ${app}/$TEST_INSTANCE` },
    deploy: {
      content: `echo {{version}} > ${app}/$TEST_INSTANCE; echo "$TEST_INSTANCE {{version}}" >> ${deploys}`,
    },
    healthCheck: {
      command: { content: `[ "$TEST_INSTANCE" != ${bad} ] || [ "$(cat ${app}/$TEST_INSTANCE)" != v2 ]` },
    },
  };
  const h = await e.start('rollingAppUpdate', params, { shape: { kind: 'batches', batches: [1, 2] } });
  assert.match(await runFailure(h), new RegExp(`health check failed on ${bad}`));
  const s = await e.progress(h);
  // Every target was deployed (batch 3 holds the bad one), so every target is rolled back, each to its own version.
  e.ids.forEach((id, i) => {
    assert.equal(s.targets[id]!.version, i === 4 ? 'v0' : 'v1');
    assert.equal(read(join(app, id)).trim(), i === 4 ? 'v0' : 'v1', `${id} is back on its version`);
    assert.equal(s.targets[id]!.rollback?.outcome, 'succeeded');
  });
  const rollbackLines = read(deploys)
    .trim()
    .split('\n')
    .filter((l) => !l.endsWith(' v2'));
  assert.deepEqual(rollbackLines.map((l) => l.split(' ')[1]).sort(), ['v0', 'v1', 'v1', 'v1', 'v1']);

  // Deploying the version most targets have changes only the one that lacks it.
  writeFileSync(deploys, '');
  const s2: RolloutState = await (
    await e.start('rollingAppUpdate', { ...params, version: 'v1', healthCheck: undefined }, {})
  ).result();
  assert.equal(s2.status, 'succeeded');
  assert.equal(read(deploys).trim(), `${e.ids[4]} v1`);
  assert.match(s2.targets[e.ids[0]!]!.reason ?? '', /already at v1/);
});

test('a user-written runbook loaded from a TypeScript file runs on the fleet', async () => {
  const logs = join(e.work, 'logs');
  mkdirSync(logs, { recursive: true });
  const old = new Date(Date.now() - 10 * 86400_000);
  for (const name of ['a.log', 'b.log', 'fresh.log']) {
    writeFileSync(join(logs, name), 'x\n'.repeat(100));
    if (name !== 'fresh.log') utimesSync(join(logs, name), old, old);
  }
  taskUser().own(logs);
  const h = await e.start(
    'rotateLogs',
    { dir: logs, days: 7 },
    { targets: { instanceIds: [e.ids[0]!] }, shape: { kind: 'batches', batches: [1] } },
  );
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  assert.deepEqual(readdirSync(logs).sort(), ['a.log.gz', 'b.log.gz', 'fresh.log']);
});

test('patchFleet upgrades with the package manager it finds, reboots, waits for the agent, post-checks', async () => {
  // The shims must be what tasks find first, or nothing below may run.
  const probe: RolloutState = await (
    await e.start(
      'rollingCommand',
      { command: { content: 'test "$(command -v reboot)" = "$TATFLOW_TASK_PATH_PREFIX/reboot"' } },
      {},
    )
  ).result();
  assert.equal(probe.status, 'succeeded', 'tasks see the PATH shims');

  const h = await e.start(
    'patchFleet',
    { reboot: 'always' },
    { shape: { kind: 'batches', batches: [2, 3] } },
  );
  const s: RolloutState = await h.result();
  assert.equal(s.status, 'succeeded');
  for (const id of e.ids) {
    const log = read(join(work0(), 'pkg', `${id}.log`));
    assert.match(log, /apt-get update/);
    assert.match(log, /apt-get upgrade -y/);
    assert.match(log, /dpkg --audit/);
    assert.equal(restarts.get(id), 1, `${id} rebooted once`);
    assert.equal(s.targets[id]!.outcome, 'succeeded');
  }
});

test('patchFleet with a package that fails to upgrade breaches and names it', async () => {
  const victim = e.ids[0]!;
  writeFileSync(
    join(shims, victim, 'apt-get'),
    `#!/bin/sh\ncase "$1" in install) echo "E: Unable to locate package nosuchpkg"; exit 100;; esac\nexit 0\n`,
  );
  const h = await e.start(
    'patchFleet',
    { packages: ['nosuchpkg'] },
    { shape: { kind: 'batches', batches: [1, 4] } },
  );
  const reason = await runFailure(h);
  assert.match(reason, /error budget exceeded: 1 failed > maxErrors 0 in batch 1/);
  const s = await e.progress(h);
  assert.equal(s.targets[victim]!.step, 'upgrade');
  assert.match(s.targets[victim]!.output ?? '', /Unable to locate package/);
});

test('a step named "health" is a step: its own command, run once, and its failures count', async () => {
  const dir = join(e.work, 'roles');
  mkdirSync(dir, { recursive: true });
  taskUser().own(dir);
  const count = (id: string, what: string) =>
    read(join(dir, `${id}.${what}`))
      .split('\n')
      .filter(Boolean).length;
  const ok: RolloutState = await (
    await e.start('namedLikeRoles', { dir }, { shape: { kind: 'batches', batches: [2, 3] } })
  ).result();
  assert.equal(ok.status, 'succeeded');
  for (const id of e.ids) {
    assert.equal(count(id, 'step'), 1, `${id}: the step ran once (not again as the health check)`);
    assert.equal(count(id, 'check'), 1, `${id}: the health check ran its own script`);
    assert.equal(count(id, 'rollback'), 0, `${id}: no rollback`);
    rmSync(join(dir, `${id}.step`));
    rmSync(join(dir, `${id}.check`));
  }
  // One of the first batch's two targets fails its step: that error counts (maxErrors 0), so the
  // run breaches although the batch is not all failed, and rollback runs on both changed targets.
  const [bad, good] = e.ids as [string, string];
  const h = await e.start(
    'namedLikeRoles',
    { dir, failOn: bad },
    { shape: { kind: 'batches', batches: [2, 3] } },
  );
  assert.match(await runFailure(h), /error budget exceeded: 1 failed > maxErrors 0 in batch 1/);
  const s = await e.progress(h);
  assert.equal(s.targets[bad]!.outcome, 'failed');
  assert.equal(s.targets[bad]!.step, 'health');
  assert.equal(count(bad, 'step'), 1);
  assert.equal(count(good, 'step'), 1);
  assert.equal(count(good, 'check'), 0, 'nothing new is dispatched after the breach, not even the check');
  for (const id of [bad, good]) assert.equal(count(id, 'rollback'), 1, `${id} rolled back once`);
  for (const id of e.ids.slice(2)) assert.equal(count(id, 'step'), 0, `${id}: never started`);
});
