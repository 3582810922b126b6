// `tatflow schedule` flags into a schedule (client/schedules/*), without a server: the crontab or
// calendars, the zone, times and durations, the DST fires it compiles to, what `update` keeps and
// replaces, the maintenance-window flags of `run`, the next fire times with the DST rule, and how an
// invoker becomes a schedule (mirror-invokers). Every bad flag gets an error naming it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDuration } from '../../client/durations.js';
import { rolloutOptions, type RunFlags } from '../../client/run-options.js';
import { scheduleOptions, type ScheduleParts } from '../../client/schedules/definition.js';
import { applyDstRule } from '../../client/schedules/describe.js';
import { whenText } from '../../client/schedules/render.js';
import { partsFromFlags, updatedParts, type ScheduleFlags } from '../../client/schedules/flags.js';
import { scheduleName } from '../../client/schedules/ids.js';
import { mirroredParts, type MirrorOptions } from '../../client/schedules/mirror.js';
import { checkTimezone, compileTiming, parseCalendars, parseTime } from '../../client/schedules/spec.js';
import type { Invoker } from '../../tat/schemas/types.js';
import { builtInRunbooks } from '../../workflows/registry.js';

const ctx = { registry: builtInRunbooks, region: 'ap-guangzhou', taskQueue: 'tatflow' };
const create = (f: ScheduleFlags & RunFlags, runbook = 'rollingCommand') =>
  partsFromFlags('nightly', runbook, { targets: 'ins-a', command: 'echo hi', ...f }, ctx);

function throwsNaming(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, 'an Error');
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" names ${p}`);
    return true;
  });
}

describe('when a schedule fires', () => {
  test('--cron becomes calendars with the classic meaning, in the zone given (default UTC)', () => {
    const p = create({ cron: '0 2 * * 6' });
    assert.deepEqual(p.def.timing, { when: { cron: '0 2 * * 6' }, timezone: 'UTC' });
    const o = scheduleOptions(p, Date.parse('2026-12-06T00:00:00Z'));
    assert.equal(o.spec.timezone, 'UTC');
    assert.equal(o.spec.cronExpressions, undefined, 'never a cron string');
    assert.equal(o.spec.calendars!.length, 1);
    // Day of month and day of week both restricted: either matches (two calendars).
    const either = scheduleOptions(create({ cron: '0 0 1 * 1' }), Date.now());
    assert.equal(either.spec.calendars!.length, 2);
  });

  test('a fixed-time crontab in a DST zone gets a fire after each gap for ten years; a wildcard none', () => {
    const now = Date.parse('2026-12-06T00:00:00Z');
    const c = compileTiming({ when: { cron: '30 2 * * *' }, timezone: 'America/New_York' }, 'tatflow-x', now);
    assert.equal(c.fixed, true);
    assert.equal(c.gapFires.length, 11, 'March 2026 (the year before) to 2036');
    assert.equal(c.folds.length, 0, '02:30 is not in New York’s repeated hour');
    assert.equal(c.gapFiresUntil?.slice(0, 4), '2036');
    assert.match(c.gapFires[0]!.comment, /DST gap in America\/New_York on 2026-03-08/);
    const wild = compileTiming(
      { when: { cron: '*/30 2 * * *' }, timezone: 'America/New_York' },
      'tatflow-x',
      now,
    );
    assert.equal(wild.fixed, false);
    assert.deepEqual([wild.gapFires.length, wild.folds.length], [0, 0]);
    const fold = compileTiming(
      { when: { cron: '30 1 * * *' }, timezone: 'America/New_York' },
      'tatflow-x',
      now,
    );
    assert.equal(fold.folds.length, 11);
    const utc = compileTiming({ when: { cron: '30 2 * * *' }, timezone: 'UTC' }, 'tatflow-x', now);
    assert.deepEqual([utc.gapFires.length, utc.folds.length], [0, 0]);
  });

  test('the DST horizon starts a year before the schedule starts, when that is later', () => {
    const now = Date.parse('2026-12-06T00:00:00Z');
    const c = compileTiming(
      { when: { cron: '30 2 * * *' }, timezone: 'Europe/Berlin', start: '2030-06-01T00:00:00.000Z' },
      'tatflow-x',
      now,
    );
    assert.equal(c.gapFiresUntil?.slice(0, 4), '2040');
    assert.equal(c.spec.startAt?.toISOString(), '2030-06-01T00:00:00.000Z');
  });

  test('--calendar: JSON in Temporal’s form or crontab-like strings, names in any case, defaults of 0', () => {
    const [c] = parseCalendars('{"dayOfWeek":"sat","hour":2,"minute":"*/15"}');
    assert.deepEqual(c!.dayOfWeek, [{ start: 'SATURDAY', end: 'SATURDAY', step: 1 }]);
    assert.deepEqual(c!.minute, [{ start: 0, end: 59, step: 15 }]);
    assert.deepEqual(c!.second, [{ start: 0, end: 0, step: 1 }]);
    assert.equal(c!.dayOfMonth, '*');
    const two = parseCalendars(
      '[{"month":"JAN-MAR","dayOfMonth":[1,15],"hour":{"start":8,"end":18,"step":2}},{"dayOfWeek":7}]',
    );
    assert.deepEqual(two[0]!.month, [{ start: 'JANUARY', end: 'MARCH', step: 1 }]);
    assert.deepEqual(two[0]!.dayOfMonth, [
      { start: 1, end: 1, step: 1 },
      { start: 15, end: 15, step: 1 },
    ]);
    assert.deepEqual(two[1]!.dayOfWeek, [{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }], '7 is Sunday');
    const p = create({ calendar: ['{"dayOfWeek":"SAT","hour":2,"minute":30}'], timezone: 'Europe/Berlin' });
    assert.match(
      whenText(p.def.timing.when),
      /calendar \{"minute":\[30\],"hour":\[2\],"dayOfWeek":\["SATURDAY"\]\}/,
    );
    assert.equal(compileTiming(p.def.timing, 'x', Date.now()).fixed, true);
  });

  test('times: a date or wall time in the zone, or an instant', () => {
    assert.equal(parseTime('start', '2027-01-04', 'Europe/Berlin'), '2027-01-03T23:00:00.000Z');
    assert.equal(parseTime('start', '2027-07-04T02:00', 'America/New_York'), '2027-07-04T06:00:00.000Z');
    assert.equal(parseTime('end', '2027-01-04T02:00:00Z', 'Asia/Shanghai'), '2027-01-04T02:00:00.000Z');
    assert.equal(parseTime('end', '2027-01-04T10:00:00+08:00', 'UTC'), '2027-01-04T02:00:00.000Z');
  });

  test('zones: canonical IANA names; a near miss is suggested', () => {
    assert.equal(checkTimezone('timezone', 'europe/berlin'), 'Europe/Berlin');
    assert.equal(checkTimezone('timezone', 'UTC'), 'UTC');
    throwsNaming(
      () => checkTimezone('timezone', 'America/NewYork'),
      '--timezone',
      'did you mean America/New_York',
    );
    throwsNaming(() => checkTimezone('timezone', '+08:00'), '--timezone', 'not an IANA time zone');
    throwsNaming(() => checkTimezone('timezone', 'CST'), '--timezone');
  });

  test('durations', () => {
    assert.deepEqual(
      ['90', '90s', '15m', '2h', '1h30m', '1d'].map((d) => parseDuration('x', d)),
      [90, 90, 900, 7200, 5400, 86400],
    );
    assert.deepEqual([5400, 900, 45, 0].map(formatDuration), ['1h30m', '15m', '45s', '0s']);
    throwsNaming(() => parseDuration('jitter', '2 hours'), '--jitter', 'not a duration');
    throwsNaming(() => parseDuration('jitter', '1h1h'), '--jitter');
    throwsNaming(() => parseDuration('maintenance-window', '0'), '--maintenance-window', 'shorter than 1s');
  });
});

describe('bad flags, each named', () => {
  const cases: [ScheduleFlags & RunFlags, string[], string?][] = [
    [{}, ['--cron', '--calendar']],
    [{ cron: '30 25 * * *' }, ['--cron', 'hour field "25"']],
    [{ cron: '0 2 * * * 2027' }, ['--cron', '6 fields']],
    [{ cron: '@daily' }, ['--cron', 'macros']],
    [{ cron: '0 2 * * MOX' }, ['--cron', 'day-of-week', 'MOX']],
    [{ cron: '0 2 * * *', calendar: ['{}'] }, ['--cron or --calendar']],
    [{ calendar: ['{"hour":24}'] }, ['--calendar', 'hour', '24 is out of range 0-23']],
    [{ calendar: ['{"hours":2}'] }, ['--calendar', 'unknown field hours']],
    [{ calendar: ['not json'] }, ['--calendar', 'not JSON']],
    [{ calendar: ['{"dayOfWeek":"FUNDAY"}'] }, ['--calendar', 'dayOfWeek', 'not a day of the week']],
    [{ cron: '0 2 * * *', timezone: 'Mars/Olympus' }, ['--timezone', 'Mars/Olympus']],
    [{ cron: '0 2 * * *', overlap: 'queue' }, ['--overlap', 'skip, buffer-one', 'queue']],
    [{ cron: '0 2 * * *', catchupWindow: '5s' }, ['--catchup-window', 'minimum of 10s']],
    [{ cron: '0 2 * * *', jitter: 'soon' }, ['--jitter', 'not a duration']],
    [{ cron: '0 2 * * *', start: '2027-02-30' }, ['--start', 'not a time']],
    [{ cron: '0 2 * * *', start: '2027-03-01', end: '2027-02-01' }, ['--end', 'is not after --start']],
    [{ cron: '0 2 * * *', note: 'why' }, ['--note', '--paused']],
    [
      { cron: '0 2 * * *', maintenanceWindow: '1h', maintenanceCutoff: '2h' },
      ['--maintenance-cutoff', 'shorter cutoff'],
    ],
    [{ cron: '0 2 * * *', maintenanceCutoff: '10m' }, ['--maintenance-cutoff', 'needs --maintenance-window']],
    [{ cron: '0 2 * * *', probe: 'x' }, ['--probe', 'rollingCommand does not take it']],
    [{ cron: '0 2 * * *', command: undefined }, ['rollingCommand needs --command']],
  ];
  for (const [f, named] of cases)
    test(`${JSON.stringify(f)} → ${named.join(' … ')}`, () => throwsNaming(() => create(f), ...named));

  test('an unknown runbook names the known ones; a bad schedule name says what a name is', () => {
    throwsNaming(
      () => create({ cron: '0 2 * * *' }, 'rollingComand'),
      'unknown runbook "rollingComand"',
      'rollingCommand',
    );
    throwsNaming(() => scheduleName('Nightly Patch'), 'schedule name "Nightly Patch"', 'lower-case');
    assert.equal(scheduleName('tatflow-nightly'), 'nightly', 'the id works too');
  });
});

describe('update', () => {
  const prev: ScheduleParts = create({
    cron: '30 2 * * 6',
    timezone: 'Europe/Berlin',
    online: true,
    targets: undefined,
    batches: '1,50%',
    maxErrors: '2',
    approveAfterCanary: true,
    maintenanceWindow: '4h',
    maintenanceCutoff: '30m',
    healthCheck: 'true',
    jitter: '1m',
  });

  test('with no flags, everything stays', () => {
    assert.deepEqual(updatedParts(prev, {}, builtInRunbooks), prev);
  });

  test('each flag given replaces what it sets; the rest stays', () => {
    const next = updatedParts(
      prev,
      { cron: '0 4 * * 0', batches: '2', command: 'echo new', jitter: 'none' },
      builtInRunbooks,
    );
    assert.deepEqual(next.def.timing, { when: { cron: '0 4 * * 0' }, timezone: 'Europe/Berlin' });
    assert.deepEqual(next.input.rollout.shape, { kind: 'batches', batches: [2] });
    assert.deepEqual(next.input.rollout.targets, { online: true }, 'targets kept');
    assert.equal(next.input.rollout.maxErrors, 2);
    assert.deepEqual(next.input.rollout.approval, { afterCanary: true });
    assert.deepEqual((next.input.params as { command: unknown }).command, { content: 'echo new' });
    assert.deepEqual((next.input.params as { healthCheck: unknown }).healthCheck, {
      command: { content: 'true' },
    });
  });

  test('a new cutoff alone keeps the window; new targets replace the old; a bad value is refused', () => {
    const next = updatedParts(prev, { maintenanceCutoff: '1h', targets: 'ins-b,ins-c' }, builtInRunbooks);
    assert.deepEqual(next.input.rollout.maintenanceWindow, { durationSeconds: 14400, cutoffSeconds: 3600 });
    assert.deepEqual(next.input.rollout.targets, { instanceIds: ['ins-b', 'ins-c'] });
    throwsNaming(
      () => updatedParts(prev, { timezone: 'Berlin' }, builtInRunbooks),
      '--timezone',
      'Europe/Berlin',
    );
    throwsNaming(() => updatedParts(prev, { deploy: 'x' }, builtInRunbooks), '--deploy', 'does not take it');
  });
});

test('run: --maintenance-window and --maintenance-cutoff', () => {
  assert.deepEqual(rolloutOptions({ online: true, maintenanceWindow: '2h' }, 'r').maintenanceWindow, {
    durationSeconds: 7200,
  });
  assert.deepEqual(
    rolloutOptions({ online: true, maintenanceWindow: '2h', maintenanceCutoff: '15m' }, 'r')
      .maintenanceWindow,
    { durationSeconds: 7200, cutoffSeconds: 900 },
  );
});

test('next fire times: the fires that repeat a wall time are dropped', () => {
  const times = ['2027-11-07T05:30:00Z', '2027-11-07T06:30:00Z', '2027-11-14T06:30:00Z'].map(
    (t) => new Date(t),
  );
  const kept = applyDstRule(times, [{ at: '2027-11-07T06:30:00.000Z', first: '2027-11-07T05:30:00.000Z' }]);
  assert.deepEqual(
    kept.map((t) => t.toISOString()),
    ['2027-11-07T05:30:00.000Z', '2027-11-14T06:30:00.000Z'],
  );
  // Temporal's next times carry the jitter; a time within it after a repeat is that repeat.
  const jittered = ['2027-11-07T05:30:12Z', '2027-11-07T06:30:25Z'].map((t) => new Date(t));
  const repeat = [{ at: '2027-11-07T06:30:00.000Z', first: '2027-11-07T05:30:00.000Z' }];
  assert.deepEqual(applyDstRule(jittered, repeat, 30_000), [jittered[0]]);
});

describe('mirror-invokers: an invoker as a schedule', () => {
  const o: MirrorOptions = {
    region: 'ap-guangzhou',
    endpoint: 'http://127.0.0.1:9000',
    taskQueue: 'tatflow',
    rollout: { shape: { kind: 'batches', batches: [1, '25%'] }, maxErrors: '10%' },
    params: { healthCheck: { command: { content: 'true' } } },
    overlap: 'skip',
    catchupWindowSeconds: 900,
    nowMs: Date.parse('2026-12-06T00:00:00Z'),
  };
  const invoker = (s: Partial<Invoker['ScheduleSettings']>, more: Partial<Invoker> = {}): Invoker => ({
    InvokerId: 'ivk-abc123',
    Name: 'nightly cleanup',
    Type: 'SCHEDULE',
    CommandId: 'cmd-1',
    Username: 'ops',
    Parameters: '{"days":"7"}',
    InstanceIds: ['ins-a', 'ins-b'],
    Enable: true,
    ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '30 3 * * *', InvokeTime: '', ...s },
    CreatedTime: '',
    UpdatedTime: '',
    Tags: [],
    ...more,
  });
  const command = {
    CommandId: 'cmd-1',
    Content: Buffer.from('find /tmp -mtime +{{days}} -delete').toString('base64'),
    CommandType: 'SHELL',
    WorkingDirectory: '/tmp',
    Timeout: 120,
    EnableParameter: true,
    DefaultParameters: '{"days":"3"}',
  };

  test('rollingCommand with its command, parameters, user and instances, the crontab in Asia/Shanghai', () => {
    const p = mirroredParts(invoker({}), command, o) as ScheduleParts;
    assert.equal(p.def.name, 'ivk-abc123');
    assert.equal(p.def.runbook, 'rollingCommand');
    assert.deepEqual(p.def.timing, { when: { cron: '30 3 * * *' }, timezone: 'Asia/Shanghai' });
    assert.deepEqual(p.def.mirroredFrom, {
      invokerId: 'ivk-abc123',
      region: 'ap-guangzhou',
      endpoint: 'http://127.0.0.1:9000',
    });
    assert.deepEqual(p.input.params, {
      command: {
        content: 'find /tmp -mtime +{{days}} -delete',
        workingDirectory: '/tmp',
        timeout: 120,
        username: 'ops',
        defaultParameters: { days: '3' },
      },
      parameters: { days: '7' },
      healthCheck: { command: { content: 'true' } },
    });
    assert.deepEqual(p.input.rollout, {
      ...o.rollout,
      region: 'ap-guangzhou',
      targets: { instanceIds: ['ins-a', 'ins-b'] },
    });
  });

  test('ONCE: a one-off schedule at its time while it is ahead; skipped, saying so, once it has passed', () => {
    const ahead = mirroredParts(
      invoker({ Policy: 'ONCE', Recurrence: '', InvokeTime: '2026-12-24T20:00:00+08:00' }),
      command,
      o,
    ) as ScheduleParts;
    assert.equal(ahead.def.timing.timezone, 'UTC');
    const spec = scheduleOptions(ahead, o.nowMs).spec;
    assert.deepEqual(spec.calendars![0]!.year, [{ start: 2026, end: 2026, step: 1 }]);
    assert.deepEqual(spec.calendars![0]!.hour, [{ start: 12, end: 12, step: 1 }]);
    const past = mirroredParts(
      invoker({ Policy: 'ONCE', Recurrence: '', InvokeTime: '2026-12-01T20:00:00+08:00' }),
      command,
      o,
    );
    assert.match(past as string, /a ONCE invoker whose time \(2026-12-01T20:00:00\+08:00\) has passed/);
  });

  test('an invoker whose command is gone is skipped, saying so', () => {
    assert.match(mirroredParts(invoker({}), undefined, o) as string, /its command cmd-1 was not found/);
  });
});
