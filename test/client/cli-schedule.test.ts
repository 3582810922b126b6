// `tatflow schedule` as a user runs it: `bin/tatflow schedule …` as child processes against a real
// Temporal dev server (on a SQLite file, restarted in the last test), a worker, tatd (whose invokers
// run on the same Temporal) and agents. Create, list, describe (text and --json, checked against the
// documented shapes), pause and unpause with notes, trigger, update, delete; clear flag errors; the
// README's example; mirror-invokers from tatd (dry run, created in Asia/Shanghai, a second run
// changing nothing, an invoker changed, originals disabled); `tatflow dev`'s demo schedule; and
// schedules surviving a restart of the Temporal server.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { DEMO_SCHEDULE, ensureDemoSchedule } from '../../client/schedules/demo.js';
import { nextFireTime, parseCrontab } from '../../tat/cron.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../temporal/dev-server.js';
import { waitFor } from '../../testkit/wait.js';
import { ACCOUNT, lines, REGION, startEngine, type Engine } from '../helpers/engine.js';

const BIN = fileURLToPath(new URL('../../../bin/tatflow', import.meta.url));
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
const QUEUE = 'cli-schedules';
const dir = mkdtempSync(join(tmpdir(), 'tatflow-cli-schedule-'));
const dbFile = join(dir, 'temporal.sqlite');
let server: TemporalDevServer;
let connection: Connection;
let e: Engine;

before(async () => {
  server = await startTemporalDevServer({ headless: true, dbFile });
  connection = await Connection.connect({ address: server.address });
  e = await startEngine({
    taskQueue: QUEUE,
    agents: 2,
    temporal: { address: server.address, connection },
    // tatd's invokers run on the same Temporal (their Schedules are tatd-…, never listed by tatflow).
    tatdConfig: { temporalAddress: server.address },
  });
});
after(async () => {
  await e?.stop();
  await connection?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** `bin/tatflow <args>` with the engine's settings in the environment, away from any `.tatflow/dev`. */
function tatflow(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        TATFLOW_TASK_QUEUE: QUEUE,
        TATFLOW_TAT_ENDPOINT: e.tatd.url,
        TATFLOW_REGION: REGION,
        TENCENTCLOUD_SECRET_ID: ACCOUNT.secretId,
        TENCENTCLOUD_SECRET_KEY: ACCOUNT.secretKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await tatflow(args);
  assert.equal(r.code, 0, `tatflow ${args.join(' ')}: ${r.err}`);
  return r.out;
}

// The JSON shapes of docs/schedules.md.
const fireTime = z.strictObject({ at: z.string(), local: z.string() });
const when = z.union([
  z.strictObject({ cron: z.string() }),
  z.strictObject({ calendars: z.array(z.object({})) }),
]);
const mirroredFrom = z.strictObject({
  invokerId: z.string(),
  region: z.string(),
  endpoint: z.string().optional(),
});
const listShape = z.array(
  z.strictObject({
    name: z.string(),
    id: z.string(),
    runbook: z.string(),
    when,
    timezone: z.string(),
    dst: z.enum(['vixie', 'literal']),
    overlap: z.string(),
    paused: z.boolean(),
    note: z.string().optional(),
    mirroredFrom: mirroredFrom.optional(),
    nextFireTime: fireTime.optional(),
    lastRun: z.strictObject({ runId: z.string(), scheduledAt: z.string() }).optional(),
  }),
);
const runShape = z.strictObject({
  runId: z.string(),
  scheduledAt: z.string(),
  local: z.string(),
  startedAt: z.string().optional(),
  closedAt: z.string().optional(),
  status: z.enum([
    'running',
    'succeeded',
    'failed',
    'skipped',
    'window closed',
    'cancelled',
    'terminated',
    'timed out',
    'unknown',
  ]),
  reason: z.string().optional(),
  note: z.string().optional(),
  targets: z
    .strictObject({
      total: z.number(),
      succeeded: z.number(),
      unsuccessful: z.number(),
      notStarted: z.number(),
    })
    .optional(),
});
const describeShape = z.strictObject({
  name: z.string(),
  id: z.string(),
  runbook: z.string(),
  taskQueue: z.string(),
  when,
  timezone: z.string(),
  dst: z.strictObject({
    rule: z.enum(['vixie', 'literal']),
    gapFires: z.array(z.string()),
    until: z.string().optional(),
    repeats: z.array(z.strictObject({ at: z.string(), first: z.string() })),
  }),
  overlap: z.string(),
  catchupWindowSeconds: z.number(),
  jitterSeconds: z.number().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  paused: z.boolean(),
  note: z.string().optional(),
  mirroredFrom: mirroredFrom.optional(),
  input: z.strictObject({
    params: z.record(z.string(), z.unknown()),
    rollout: z.object({ region: z.string() }).loose(),
  }),
  nextFireTimes: z.array(fireTime),
  counts: z.strictObject({
    actionsTaken: z.number(),
    skippedOverlap: z.number(),
    missedCatchupWindow: z.number(),
    buffered: z.number(),
    running: z.number(),
  }),
  recentRuns: z.array(runShape),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
});

const list = async () => listShape.parse(JSON.parse(await ok(['schedule', 'list', '--json'])));
const describeJson = async (name: string) =>
  describeShape.parse(JSON.parse(await ok(['schedule', 'describe', name, '--json'])));

/** The schedule's newest run, once it has ended. */
const lastRun = (name: string) =>
  waitFor(
    async () => {
      const r = (await describeJson(name)).recentRuns[0];
      return r?.closedAt ? r : undefined;
    },
    { what: `a run of ${name} ended`, timeoutMs: 60_000, intervalMs: 500 },
  );

describe('the schedule commands', () => {
  test('create, list, describe, pause and unpause with notes, trigger, update, delete', async () => {
    const created = await ok([
      'schedule',
      'create',
      'nightly',
      'rollingCommand',
      '--targets',
      e.ids.join(','),
      '--command',
      'echo nightly on $TEST_INSTANCE',
      '--cron',
      '30 2 * * *',
      '--timezone',
      'Europe/Berlin',
      '--batches',
      '1,50%',
      '--max-errors',
      '1',
      '--overlap',
      'buffer-one',
      '--catchup-window',
      '10m',
      '--jitter',
      '30s',
      '--maintenance-window',
      '2h',
      '--maintenance-cutoff',
      '15m',
      '--poll-interval',
      '200',
    ]);
    assert.match(
      created,
      /schedule nightly created \(tatflow-nightly\): rollingCommand, cron "30 2 \* \* \*" in Europe\/Berlin/,
    );
    const v = await describeJson('nightly');
    assert.equal(v.id, 'tatflow-nightly');
    assert.deepEqual(
      [v.overlap, v.catchupWindowSeconds, v.jitterSeconds, v.dst.rule],
      ['buffer-one', 600, 30, 'vixie'],
    );
    assert.equal(v.nextFireTimes.length, 10);
    const cron = parseCrontab('30 2 * * *');
    let t = Date.now();
    for (const f of v.nextFireTimes) {
      // Each fire as cron has it in Berlin, up to 30 s later (the jitter).
      t = nextFireTime(cron, 'Europe/Berlin', t);
      const late = Date.parse(f.at) - t;
      assert.ok(
        late >= 0 && late < 30_000,
        `${f.at}: cron says ${new Date(t).toISOString()}, plus up to 30 s`,
      );
      assert.match(f.local, / 02:30:\d\d GMT\+[12]$/);
    }
    assert.deepEqual(v.input.rollout.maintenanceWindow, { durationSeconds: 7200, cutoffSeconds: 900 });
    assert.ok(
      v.dst.gapFires.some((g) => g.startsWith(`${new Date().getUTCFullYear() + 1}-03-`)),
      'next spring’s gap fire',
    );
    const text = await ok(['schedule', 'describe', 'nightly']);
    assert.match(text, /fires\s+cron "30 2 \* \* \*" in Europe\/Berlin/);
    assert.match(text, /window\s+2h from each fire, no batch in its last 15m/);
    assert.match(text, /next fires \(Europe\/Berlin\)/);

    assert.match(
      await ok(['schedule', 'pause', 'nightly', '--note', 'change freeze']),
      /schedule nightly paused/,
    );
    const paused = await waitFor(async () => (await list()).find((s) => s.name === 'nightly'), {
      what: 'nightly listed',
    });
    assert.deepEqual([paused.paused, paused.note], [true, 'change freeze']);
    assert.match(await ok(['schedule', 'list']), /nightly .* paused: change freeze/);

    // A trigger runs even while paused, as a fire would (buffer-one: nothing runs, so it starts).
    assert.match(await ok(['schedule', 'trigger', 'nightly']), /triggered \(overlap buffer-one\)/);
    const run = await lastRun('nightly');
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.targets, { total: 2, succeeded: 2, unsuccessful: 0, notStarted: 0 });
    const status = await ok(['status', run.runId]);
    assert.match(
      status,
      /│ schedule\s+│ tatflow-nightly: the fire of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\+[12]/,
    );
    assert.match(status, /│ window\s+│ .* no batch starts after /);

    await ok(['schedule', 'unpause', 'nightly', '--note', 'freeze over']);
    const updated = await ok([
      'schedule',
      'update',
      'nightly',
      '--cron',
      '0 4 * * 1-5',
      '--batches',
      '2',
      '--overlap',
      'skip',
    ]);
    assert.match(updated, /schedule nightly updated: cron "0 4 \* \* 1-5" in Europe\/Berlin/);
    const u = await describeJson('nightly');
    assert.deepEqual([u.paused, u.note, u.overlap], [false, 'freeze over', 'skip']);
    assert.deepEqual(u.input.rollout.shape, { kind: 'batches', batches: [2] });
    assert.deepEqual(u.input.params, v.input.params, 'the parameters stay');
    assert.equal(u.input.rollout.maxErrors, 1, 'the budget stays');
    for (const f of u.nextFireTimes) assert.match(f.local, / 04:00:\d\d GMT\+[12]$/, '04:00 plus the jitter');

    assert.match(await ok(['schedule', 'delete', 'nightly']), /schedule nightly deleted/);
    const gone = await tatflow(['schedule', 'describe', 'nightly']);
    assert.equal(gone.code, 1);
    assert.match(
      gone.err,
      /no schedule named "nightly" in namespace default \(see them with: tatflow schedule list\)/,
    );
  });

  test('flag errors are clear: the cron field, the zone, the runbook, the policy …', async () => {
    const create = (...more: string[]) => [
      'schedule',
      'create',
      'bad',
      'rollingCommand',
      '--online',
      '--command',
      'true',
      ...more,
    ];
    // Each mistake's wording is checked without processes (schedule-options.test.ts); here, that the CLI says it.
    const cases: [string[], RegExp][] = [
      [create('--cron', '30 2 * * 8'), /--cron: the day-of-week field "8" is not valid/],
      [
        create('--cron', '0 2 * * *', '--timezone', 'Europe/Berln'),
        /--timezone: "Europe\/Berln" is not an IANA time zone .*did you mean Europe\/Berlin\?/,
      ],
      [
        ['schedule', 'create', 'bad', 'rollingComand', '--online', '--cron', '0 2 * * *'],
        /unknown runbook "rollingComand": the runbooks are patchFleet, rollingAppUpdate, rollingCommand/,
      ],
      [create('--calendar', '{"hour":25}'), /--calendar: hour: 25 is out of range 0-23/],
      [['schedule', 'trigger', 'no-such'], /no schedule named "no-such"/],
      [
        ['schedule', 'mirror-invokers', '--targets', 'ins-a'],
        /--targets: mirror-invokers takes each invoker's own/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => tatflow(args)));
    runs.forEach((r, i) => {
      assert.equal(r.code, 1, cases[i]![0].join(' '));
      assert.match(r.err, cases[i]![1], cases[i]![0].join(' '));
    });
  });

  test("the README's schedule example creates what it says", async () => {
    const readme = readFileSync(README, 'utf8');
    const section = readme.slice(readme.indexOf('## Recurring maintenance'));
    const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;
    const command = block
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .find((l) => l.startsWith('bin/tatflow schedule create'))!;
    assert.ok(command, 'the README creates a schedule');
    const args = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
    assert.match(await ok(args), /schedule weekly-patch created/);
    const v = await describeJson('weekly-patch');
    assert.equal(v.runbook, 'patchFleet');
    for (const f of v.nextFireTimes) {
      assert.match(f.local, / 02:00:00 GMT\+[12]$/);
      assert.equal(new Date(Date.parse(f.at) + 3600_000).getUTCDay(), 6, 'Saturdays in Berlin');
    }
    assert.deepEqual(v.input.rollout.maintenanceWindow, { durationSeconds: 4 * 3600, cutoffSeconds: 1800 });
    await ok(['schedule', 'delete', 'weekly-patch']);
  });
});

describe('mirror-invokers', () => {
  test('dry run; then each invoker a schedule in Asia/Shanghai; a second run changes nothing; a changed invoker is updated; originals disabled once mirrored', async () => {
    const marks = join(e.work, 'mirror');
    const content = `mkdir -p ${marks} && echo "{{greeting}} from $TEST_INSTANCE" >> ${marks}/$TEST_INSTANCE`;
    const cmd = (
      await e.tat.CreateCommand({
        CommandName: 'mirror-me',
        Content: Buffer.from(content).toString('base64'),
        EnableParameter: true,
        DefaultParameters: JSON.stringify({ greeting: 'hello' }),
      })
    ).CommandId!;
    const invoker = async (
      Name: string,
      ScheduleSettings: { Policy: string; Recurrence?: string; InvokeTime?: string },
    ) =>
      (
        await e.tat.CreateInvoker({
          Name,
          Type: 'SCHEDULE',
          CommandId: cmd,
          InstanceIds: e.ids,
          Parameters: JSON.stringify({ greeting: 'hi' }),
          ScheduleSettings,
        })
      ).InvokerId!;
    const nightly = await invoker('nightly', { Policy: 'RECURRENCE', Recurrence: '0 3 * * *' });
    const invokeAt = new Date(Math.ceil((Date.now() + 2 * 86400_000) / 1000) * 1000);
    const once = await invoker('once', {
      Policy: 'ONCE',
      InvokeTime: invokeAt.toISOString().replace('.000Z', 'Z'),
    });
    const off = await invoker('weekly, off', { Policy: 'RECURRENCE', Recurrence: '0 5 * * 0' });
    await e.tat.DisableInvoker({ InvokerId: off });
    const mirror = (...more: string[]) =>
      ok([
        'schedule',
        'mirror-invokers',
        '--batches',
        '1',
        '--max-errors',
        '0',
        '--health-check',
        'true',
        '--poll-interval',
        '200',
        ...more,
      ]);

    const dry = await mirror('--dry-run');
    assert.match(dry, /dry run, nothing changed: 3 to create, 0 to update, 0 unchanged, 0 skipped/);
    // --credentials-file comes before the environment's key pair (good here): a wrong key in it fails.
    const wrong = join(dir, 'wrong-credentials.json');
    writeFileSync(wrong, JSON.stringify({ secretId: ACCOUNT.secretId, secretKey: 'not-the-key' }), {
      mode: 0o600,
    });
    const refused = await tatflow(['schedule', 'mirror-invokers', '--dry-run', '--credentials-file', wrong]);
    assert.notEqual(refused.code, 0, refused.out);
    assert.match(refused.err, /AuthFailure|signature/i);
    for (const id of [nightly, once, off]) {
      const r = await tatflow(['schedule', 'describe', id]);
      assert.match(r.err, /no schedule named/, 'a dry run creates nothing');
    }

    assert.match(await mirror(), /3 created, 0 updated, 0 unchanged, 0 skipped/);
    // Temporal lists schedules eventually: wait until the three are listed.
    const listed = await waitFor(
      async () => {
        const l = await list();
        return l.filter((s) => s.mirroredFrom).length === 3 ? l : undefined;
      },
      { what: 'the mirrored schedules listed' },
    );
    const mirrored = listed.filter((s) => s.mirroredFrom);
    assert.deepEqual(mirrored.map((s) => s.name).sort(), [nightly, once, off].sort());
    // tatd's own invoker Schedules are on this Temporal too, and not listed as runbook schedules.
    await waitFor(
      async () => {
        for await (const s of e.client.schedule.list())
          if (s.scheduleId.startsWith('tatd-') && s.scheduleId.endsWith(nightly)) return true;
        return false;
      },
      { what: "tatd's own Schedule of the invoker" },
    );
    assert.ok(!listed.some((s) => s.id.startsWith('tatd-')));

    const n = await describeJson(nightly);
    assert.deepEqual(
      [n.runbook, n.timezone, n.when],
      ['rollingCommand', 'Asia/Shanghai', { cron: '0 3 * * *' }],
    );
    let t = Date.now();
    for (const f of n.nextFireTimes) {
      t = nextFireTime(parseCrontab('0 3 * * *'), 'Asia/Shanghai', t);
      assert.deepEqual(f, { at: new Date(t).toISOString(), local: `${f.local.slice(0, 10)} 03:00:00 GMT+8` });
    }
    const c = n.input.params.command as Record<string, unknown>;
    assert.equal(c.content, content);
    assert.deepEqual(c.defaultParameters, { greeting: 'hello' });
    const [described] = (await e.tat.DescribeInvokers({ InvokerIds: [nightly] })).InvokerSet!;
    const [command] = (await e.tat.DescribeCommands({ CommandIds: [cmd] })).CommandSet!;
    assert.equal(
      c.username,
      described!.Username || command!.Username,
      "the invoker's user, else its command's",
    );
    assert.deepEqual(n.input.params.parameters, { greeting: 'hi' });
    assert.deepEqual(n.input.params.healthCheck, { command: { content: 'true' } }, 'from the mirror flags');
    assert.deepEqual(n.input.rollout.targets, { instanceIds: e.ids });
    assert.deepEqual(n.mirroredFrom, { invokerId: nightly, region: REGION, endpoint: e.tatd.url });
    const o = await describeJson(once);
    assert.deepEqual(
      o.nextFireTimes.map((f) => f.at),
      [invokeAt.toISOString()],
      'a ONCE invoker fires once',
    );
    const f = await describeJson(off);
    assert.deepEqual([f.paused, f.note], [true, `mirrored from TAT invoker ${off}, which was disabled`]);

    // What the mirrored schedule runs is the invoker's command, with its parameters, on its instances.
    await ok(['schedule', 'trigger', nightly]);
    const run = await lastRun(nightly);
    assert.equal(run.status, 'succeeded', run.reason);
    for (const id of e.ids) assert.deepEqual(lines(join(marks, id)), [`hi from ${id}`]);

    assert.match(await mirror(), /0 created, 0 updated, 3 unchanged, 0 skipped/);
    await e.tat.ModifyInvoker({
      InvokerId: nightly,
      ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '30 4 * * *' },
    });
    const changed = await mirror('--json');
    const items = (JSON.parse(changed) as { items: { invokerId: string; action: string; reason?: string }[] })
      .items;
    assert.deepEqual(
      items.find((i) => i.invokerId === nightly),
      { ...items.find((i) => i.invokerId === nightly), action: 'update', reason: 'differs in when it fires' },
    );
    assert.deepEqual((await describeJson(nightly)).when, { cron: '30 4 * * *' });

    assert.match(
      await mirror('--disable-originals'),
      /0 created, 0 updated, 3 unchanged, 0 skipped; 2 invoker\(s\) disabled/,
    );
    const invokers = (await e.tat.DescribeInvokers({ InvokerIds: [nightly, once, off] })).InvokerSet!;
    assert.deepEqual(
      invokers.map((i) => i.Enable),
      [false, false, false],
    );
    assert.match(await mirror('--disable-originals'), /0 created, 0 updated, 3 unchanged, 0 skipped$/m);
    for (const id of [nightly, once, off]) await ok(['schedule', 'delete', id]);
  });
});

test("tatflow dev's demo schedule: created paused, left alone when there, and its run works", async () => {
  const o = { region: REGION, taskQueue: QUEUE, dataDir: e.work, timezone: 'Asia/Shanghai' };
  assert.equal(await ensureDemoSchedule(e.client, o), 'created');
  assert.equal(await ensureDemoSchedule(e.client, o), 'exists');
  const v = await describeJson(DEMO_SCHEDULE);
  assert.deepEqual([v.paused, v.when], [true, { cron: '30 3 * * *' }]);
  assert.match(v.note!, /unpause it with `tatflow schedule unpause demo-log-rotation`/);
  await ok(['schedule', 'trigger', DEMO_SCHEDULE]);
  const run = await lastRun(DEMO_SCHEDULE);
  assert.equal(run.status, 'succeeded', run.reason);
  await ok(['schedule', 'delete', DEMO_SCHEDULE]);
});

test('schedules survive a restart of the Temporal server on its SQLite file', async () => {
  await ok([
    'schedule',
    'create',
    'survivor',
    'rollingCommand',
    '--targets',
    e.ids[0]!,
    '--command',
    'true',
    '--cron',
    '15 1 * * 0',
    '--timezone',
    'America/New_York',
    '--paused',
    '--note',
    'kept across restarts',
    '--poll-interval',
    '200',
  ]);
  const before = await describeJson('survivor');
  const port = Number(server.address.split(':')[1]);
  process.kill(-server.pid, 'SIGKILL');
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
  const after = await describeJson('survivor');
  for (const k of [
    'when',
    'timezone',
    'dst',
    'paused',
    'note',
    'input',
    'nextFireTimes',
    'createdAt',
  ] as const)
    assert.deepEqual(after[k], before[k], k);
  // It still starts runs, on the worker that reconnected.
  await ok(['schedule', 'trigger', 'survivor']);
  const run = await lastRun('survivor');
  assert.equal(run.status, 'succeeded', run.reason);
});
