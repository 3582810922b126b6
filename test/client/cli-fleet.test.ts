// The CLI's view of the fleet and the runbooks, as a user runs it (`bin/tatflow` child processes)
// against a real tatd with real agents: two open-enrolled (ins-) and two registered machines with
// tags (rins-, one running). `tatflow instances` (table, --select, --json), `preview --select
// --json`, `tatflow runbooks`, where the credentials come from and what is said when there are
// none or the endpoint is down. Every --json answer is checked against its schema
// (client/json-output.ts). No Temporal: none of these commands needs it.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { z } from 'zod';
import { InstancesJson, PreviewJson, RunbooksJson } from '../../client/json-output.js';
import { registerMachines, startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';
import { tatflowCli, type Ran } from '../helpers/cli.js';

const ACCOUNT = { secretId: 'AKIDfleet', secretKey: 'fleet-secret', appId: '1900000001' };
const EXAMPLE = fileURLToPath(new URL('../../../examples/runbooks/rotate-logs.ts', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'tatflow-cli-fleet-'));

let tatd: Tatd;
const agents: AgentProcess[] = [];
let ins: string[];
let web: string;
let db: string;

before(async () => {
  tatd = await startTatd({
    accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
    openEnrollment: true,
  });
  const tat = client(tatd, ACCOUNT);
  for (const m of ['fleet-a', 'fleet-b'])
    agents.push(startAgent(tatd.url, { machineId: m, account: ACCOUNT.appId }));
  ins = agents.map((a) => a.instanceId).sort();
  const [w, d] = await registerMachines(tat, tatd.url, [
    { machineId: 'web-1', tags: ['env=prod', 'role=web'] },
    { machineId: 'db-1', tags: ['env=staging'] },
  ]);
  assert.ok(w && d);
  web = w.instanceId;
  db = d.instanceId;
  await tat.ModifyRegisterInstance({ InstanceId: web, InstanceName: 'web-1' });
  await tat.ModifyRegisterInstance({ InstanceId: db, InstanceName: 'db-1' });
  agents.push(
    startAgent(tatd.url, { machineId: 'web-1', account: ACCOUNT.appId, dir: w.dir, instanceId: web }),
  );
  await waitAgents(tat, [...ins, web]);
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

const KEYS = {
  TENCENTCLOUD_SECRET_ID: ACCOUNT.secretId,
  TENCENTCLOUD_SECRET_KEY: ACCOUNT.secretKey,
};

const cli = (
  args: string[],
  env: NodeJS.ProcessEnv = { ...KEYS, TATFLOW_TAT_ENDPOINT: tatd.url },
  dir = cwd,
) => tatflowCli(args, { cwd: dir, env });

function ok(r: Ran, what: string): Ran {
  assert.equal(r.code, 0, `${what}: ${r.err}${r.out}`);
  return r;
}

/** The --json answer, checked against its schema (strict: no field the docs do not describe). */
function json<S extends z.ZodType>(schema: S, r: Ran): z.infer<S> {
  ok(r, 'a --json command');
  const parsed = schema.safeParse(JSON.parse(r.out));
  assert.ok(parsed.success, `${parsed.error?.message}\n${r.out}`);
  return parsed.data;
}

test('instances: the whole fleet as a table, with names and tags of the managed instances', async () => {
  const r = ok(await cli(['instances']), 'instances');
  assert.match(r.out, /^4 instance\(s\) in ap-guangzhou; 3 online\n/);
  assert.match(
    r.out,
    new RegExp(`│ ${web} +│ web-1 +│ online +│ [^│]+│ Linux +│ rins +│ env=prod, role=web +│`),
  );
  assert.match(r.out, new RegExp(`│ ${db} +│ db-1 +│ offline +│ [^│]+│ Linux +│ rins +│ env=staging +│`));
  for (const id of ins)
    assert.match(r.out, new RegExp(`│ ${id} +│ +│ online +│ 1\\.1\\.9-tatflow +│ Linux +│ ins +│ +│`));
  assert.match(r.out, /names and tags live in the CVM and Lighthouse APIs, which tatflow does not call/);
});

test('instances --json and --select: the documented shape; terms AND, repeated --select OR', async () => {
  const all = json(InstancesJson, await cli(['instances', '--json']));
  assert.equal(all.instances.length, 4);
  assert.equal(all.managedListed, true);
  const w = all.instances.find((i) => i.id === web)!;
  assert.deepEqual(
    { ...w, lastHeartbeat: null, registeredAt: null },
    {
      id: web,
      kind: 'managed',
      name: 'web-1',
      online: true,
      agentVersion: '1.1.9-tatflow',
      os: 'Linux',
      tags: [
        { key: 'env', value: 'prod' },
        { key: 'role', value: 'web' },
      ],
      hostname: w.hostname,
      localIp: w.localIp,
      lastHeartbeat: null,
      registeredAt: null,
    },
  );
  assert.ok(w.registeredAt && w.lastHeartbeat && w.hostname);
  const ids = async (...select: string[]) =>
    json(InstancesJson, await cli(['instances', '--json', ...select.flatMap((s) => ['--select', s])]))
      .instances.map((i) => i.id)
      .sort();
  assert.deepEqual(await ids('tag:env'), [web, db].sort());
  assert.deepEqual(await ids('tag:env,online'), [web]);
  assert.deepEqual(await ids('tag:env=staging', 'kind=ins'), [db, ...ins].sort());
  assert.deepEqual(await ids('name=web-*,os=linux,kind=rins,tag:env=prod,online'), [web]);
  assert.deepEqual(await ids('offline'), [db]);
  const bad = await cli(['instances', '--select', 'online,colour=red']);
  assert.equal(bad.code, 1);
  assert.match(
    bad.err,
    /--select "online,colour=red": term "colour=red": unknown term; terms are tag:KEY=VALUE/,
  );
});

test('preview --select --json: the plan of exactly the selected targets, in the documented shape', async () => {
  const p = json(
    PreviewJson,
    await cli([
      'preview',
      'rollingCommand',
      '--select',
      'tag:env',
      '--batches',
      '1,50%',
      '--command',
      'uptime',
      '--max-errors',
      '1',
      '--json',
    ]),
  );
  assert.deepEqual(p.targets.selector, { select: ['tag:env'] });
  assert.deepEqual([...p.targets.ids].sort(), [web, db].sort());
  assert.deepEqual(p.targets.online, [web]);
  assert.deepEqual(p.targets.offline, [db]);
  assert.equal(p.taskQueue, 'tatflow');
  assert.equal(p.refused, null);
  assert.deepEqual(p.plan?.skipped, [db]);
  assert.deepEqual(p.plan?.batches, [{ batch: 1, targets: [web] }]);
  assert.equal(p.plan?.maxErrors, 1);
  assert.deepEqual(p.definition, {
    probe: false,
    steps: [{ name: 'command', kind: 'command' }],
    healthCheck: null,
    rollback: null,
  });
  // Refused: with --refuse-offline the offline one stops the run; the reason is in the answer.
  const refused = json(
    PreviewJson,
    await cli([
      'preview',
      'rollingCommand',
      '--select',
      'tag:env',
      '--refuse-offline',
      '--command',
      'x',
      '--json',
    ]),
  );
  assert.equal(refused.plan, null);
  assert.match(refused.refused ?? '', new RegExp(`agents offline or unknown: ${db}`));
  // The text form says the same.
  const text = ok(
    await cli(['preview', 'rollingCommand', '--select', 'tag:env', '--command', 'x']),
    'preview',
  );
  assert.match(text.out, /runbook rollingCommand on 2 target\(s\) in ap-guangzhou; 1 online/);
  assert.match(text.out, new RegExp(`skipped \\(agent offline or unknown\\): ${db}`));
});

test('runbooks: the registry with task queues and parameters; a runbook file adds its own queue', async () => {
  const list = json(RunbooksJson, await cli(['runbooks', '--json'], {}));
  assert.deepEqual(
    list.runbooks.map((r) => [r.name, r.source, r.taskQueue]),
    [
      ['patchFleet', 'built-in', 'tatflow'],
      ['rollingAppUpdate', 'built-in', 'tatflow'],
      ['rollingCommand', 'built-in', 'tatflow'],
    ],
  );
  const command = list.runbooks
    .find((r) => r.name === 'rollingCommand')!
    .parameters.find((p) => p.name === 'command');
  assert.deepEqual(command, {
    name: 'command',
    type: 'script',
    required: true,
    description: 'the script to run on every target',
    flags: ['--command', '--command-file'],
  });
  const more = json(
    RunbooksJson,
    await cli(['runbooks', '--runbooks', EXAMPLE, '--task-queue', 'ops', '--json'], {}),
  );
  const rotate = more.runbooks.find((r) => r.name === 'rotateLogs')!;
  assert.equal(rotate.source, EXAMPLE);
  assert.equal(rotate.taskQueue, 'ops-rotate-logs');
  assert.equal(more.runbooks.find((r) => r.name === 'rollingCommand')!.taskQueue, 'ops');
  const text = ok(await cli(['runbooks'], { TATFLOW_RUNBOOKS: EXAMPLE }), 'runbooks');
  assert.match(text.out, /^rotateLogs {2}\(.*rotate-logs\.ts; task queue tatflow-rotate-logs\)$/m);
  assert.match(text.out, /^ {4}dir +string +--dir +directory whose \*\.log files are rotated$/m);
  assert.match(text.out, /^ {4}days\? +integer +--param days=… +compress files/m);
});

test('credentials: --credentials-file, then the environment, then the dev system; the error says where it looked', async () => {
  const home = mkdtempSync(join(tmpdir(), 'tatflow-creds-'));
  try {
    const file = join(home, 'tat.json');
    writeFileSync(file, JSON.stringify({ secretId: ACCOUNT.secretId, secretKey: ACCOUNT.secretKey }), {
      mode: 0o600,
    });
    const endpoint = { TATFLOW_TAT_ENDPOINT: tatd.url };
    // The file wins over (wrong) variables.
    ok(
      await cli(['instances', '--credentials-file', file], {
        ...endpoint,
        TENCENTCLOUD_SECRET_ID: 'AKIDwrong',
        TENCENTCLOUD_SECRET_KEY: 'wrong',
      }),
      'a credentials file',
    );
    // Readable by others: refused, saying how to fix it.
    chmodSync(file, 0o644);
    const loose = await cli(['instances', '--credentials-file', file], endpoint);
    assert.equal(loose.code, 1);
    assert.match(
      loose.err,
      new RegExp(`--credentials-file .*tat\\.json can be read by other users \\(mode 644\\): chmod 600 `),
    );
    chmodSync(file, 0o600);
    writeFileSync(file, JSON.stringify({ secretId: 'AKIDx' }));
    const partial = await cli(['instances', '--credentials-file', file], endpoint);
    assert.match(partial.err, /secretKey .*expected \{"secretId"/);
    // Wrong variables: the API's own refusal comes through.
    const wrong = await cli(['instances'], {
      ...endpoint,
      TENCENTCLOUD_SECRET_ID: 'AKIDwrong',
      TENCENTCLOUD_SECRET_KEY: 'x',
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /AuthFailure\.SecretIdNotFound/);
    assert.match(
      (await cli(['instances'], { ...endpoint, TENCENTCLOUD_SECRET_ID: 'AKIDx' })).err,
      /TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not/,
    );

    // Nothing anywhere: every place is named.
    const none = await cli(['instances'], endpoint, home);
    assert.equal(none.code, 1);
    assert.match(none.err, /no TAT API credentials; looked, in order, at:/);
    assert.match(none.err, /--credentials-file FILE: not given/);
    assert.match(none.err, /TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY: not set/);
    assert.ok(none.err.includes(`${join(home, '.tatflow/dev/credentials.json')}: not found`), none.err);

    // The dev system's files (as `tatflow dev` leaves them): its key pair and its endpoint.
    const dev = join(home, '.tatflow', 'dev');
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'credentials.json'), JSON.stringify({ ...ACCOUNT }), { mode: 0o600 });
    writeFileSync(
      join(dev, 'engine.json'),
      JSON.stringify({ temporalAddress: '127.0.0.1:1', region: 'ap-guangzhou', tat: { endpoint: tatd.url } }),
    );
    const fromDev = json(InstancesJson, await cli(['instances', '--json'], {}, home));
    assert.equal(fromDev.instances.length, 4);
    // A down endpoint gets a message that says what to do, not a bare ECONNREFUSED.
    const down = join(home, 'down');
    mkdirSync(join(down, '.tatflow', 'dev'), { recursive: true });
    writeFileSync(join(down, '.tatflow/dev/credentials.json'), JSON.stringify({ ...ACCOUNT }), {
      mode: 0o600,
    });
    writeFileSync(
      join(down, '.tatflow/dev/engine.json'),
      JSON.stringify({ tat: { endpoint: 'http://127.0.0.1:1' } }),
    );
    for (const args of [['instances'], ['preview', 'rollingCommand', '--online', '--command', 'x']]) {
      const r = await cli(args, {}, down);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /cannot reach the TAT API at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.* \(is `tatflow dev` running in this directory\? Start it with `tatflow dev`\)/,
      );
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
