// Crontabs (tat/cron.ts) and TAT's ScheduleSettings (tat/schedule.ts): which expressions are
// accepted and how a bad one is named, the Temporal calendars they become (classic meaning: both
// day fields restricted = either matches), fire times in a zone, and InvokeTime parsing. That the
// calendars fire when cron-parser says is checked on a real Temporal server in
// test/server/invoker-reconciler.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CronError,
  crontabCalendars,
  fireTimesBetween,
  instantCalendar,
  isFireTime,
  nextFireTime,
  parseCrontab,
  toRanges,
} from '../../tat/cron.js';
import { TatError } from '../../tat/errors.js';
import { checkScheduleSettings, nextInvokeTime, parseInvokeTime, TAT_CRON_ZONE } from '../../tat/schedule.js';

const SH = 'Asia/Shanghai';
const at = (iso: string) => Date.parse(iso);
const one = (n: number) => [{ start: n, end: n, step: 1 }];

describe('parseCrontab and crontabCalendars', () => {
  test('0 0 1 * 1: both day fields restricted, so two calendars (the 1st, or a Monday)', () => {
    const c = parseCrontab('0 0 1 * 1');
    assert.equal(c.dayOfMonthRestricted && c.dayOfWeekRestricted, true);
    const [dom, dow, ...rest] = crontabCalendars(c, SH);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...dom, comment: undefined },
      {
        second: one(0),
        minute: one(0),
        hour: one(0),
        month: '*',
        dayOfMonth: one(1),
        dayOfWeek: '*',
        comment: undefined,
      },
    );
    assert.deepEqual(dow!.dayOfMonth, '*');
    assert.deepEqual(dow!.dayOfWeek, [{ start: 'MONDAY', end: 'MONDAY', step: 1 }]);
    assert.match(dom!.comment, /crontab "0 0 1 \* 1" in Asia\/Shanghai/);
    // Classic meaning, in Beijing time: Monday 2026-06-01 (both), then Mondays, then July 1st (a Wednesday).
    const { times } = fireTimesBetween(c, SH, at('2026-05-31T16:00:00Z') - 1, at('2026-07-01T16:00:00Z'), 10);
    assert.deepEqual(
      times.map((t) => new Date(t).toISOString()),
      [
        '2026-05-31T16:00:00.000Z', // 2026-06-01 00:00 +08:00, a Monday and the 1st
        '2026-06-07T16:00:00.000Z',
        '2026-06-14T16:00:00.000Z',
        '2026-06-21T16:00:00.000Z',
        '2026-06-28T16:00:00.000Z',
        '2026-06-30T16:00:00.000Z', // 2026-07-01, a Wednesday
      ],
    );
  });

  test('*/15 9-18 * * 1-5: one calendar, steps and ranges kept as ranges', () => {
    const c = parseCrontab('*/15 9-18 * * 1-5');
    assert.equal(c.dayOfMonthRestricted, false);
    assert.deepEqual(crontabCalendars(c, SH), [
      {
        second: one(0),
        minute: [{ start: 0, end: 45, step: 15 }],
        hour: [{ start: 9, end: 18, step: 1 }],
        month: '*',
        dayOfMonth: '*',
        dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
        comment: 'crontab "*/15 9-18 * * 1-5" in Asia/Shanghai',
      },
    ]);
    // Friday 2026-06-05 18:45 Beijing, then Monday 09:00.
    const fri = at('2026-06-05T10:45:00Z');
    assert.ok(isFireTime(c, SH, fri));
    assert.equal(new Date(nextFireTime(c, SH, fri)).toISOString(), '2026-06-08T01:00:00.000Z');
  });

  test('a 6-field expression is refused, whatever its 6th field would mean', () => {
    for (const e of ['0 0 1 * * *', '0 0 0 1 1 * 2030', '* *'])
      assert.throws(
        () => parseCrontab(e),
        (err: CronError) => {
          assert.ok(err instanceof CronError);
          assert.match(err.message, /it has \d+ fields?; a crontab has 5 fields: minute hour/);
          return true;
        },
      );
    assert.throws(() => parseCrontab('0 0 1 * * *'), /6th field would be seconds to some tools/);
  });

  test('ranges, steps, lists and names', () => {
    const c = parseCrontab('5-10/2 1,3,7 * JAN-MAR mon,Wed,FRI');
    assert.deepEqual(c.minute, [5, 7, 9]);
    assert.deepEqual(c.hour, [1, 3, 7]);
    assert.deepEqual(c.month, [1, 2, 3]);
    assert.deepEqual(c.dayOfWeek, [1, 3, 5]);
    assert.deepEqual(crontabCalendars(c, SH), [
      {
        second: one(0),
        minute: [{ start: 5, end: 9, step: 2 }],
        hour: [...one(1), ...one(3), ...one(7)],
        month: [{ start: 'JANUARY', end: 'MARCH', step: 1 }],
        dayOfMonth: '*',
        dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 2 }],
        comment: 'crontab "5-10/2 1,3,7 * JAN-MAR mon,Wed,FRI" in Asia/Shanghai',
      },
    ]);
    assert.deepEqual(parseCrontab('0 0 1-31 JAN *').dayOfMonth.length, 31);
    assert.deepEqual(crontabCalendars(parseCrontab('0 0 * jan sun'), SH)[0]!.dayOfWeek, [
      { start: 'SUNDAY', end: 'SUNDAY', step: 1 },
    ]);
    assert.equal(parseCrontab('  0   3 * *  * ').expression, '0 3 * * *');
  });

  test('7 is Sunday, as 0 is', () => {
    assert.deepEqual(parseCrontab('0 0 * * 7').dayOfWeek, [0]);
    assert.deepEqual(parseCrontab('0 0 * * 5-7').dayOfWeek, [0, 5, 6]);
    assert.deepEqual(crontabCalendars(parseCrontab('0 0 * * 5-7'), SH)[0]!.dayOfWeek, [
      { start: 'SUNDAY', end: 'SUNDAY', step: 1 },
      { start: 'FRIDAY', end: 'SATURDAY', step: 1 },
    ]);
    // Every day of the week restricts nothing in effect, but still ORs with day-of-month.
    const all = parseCrontab('0 0 13 * 0-7');
    assert.equal(crontabCalendars(all, SH).length, 2);
    assert.equal(crontabCalendars(all, SH)[1]!.dayOfWeek, '*');
  });

  test('a bad expression names its field', () => {
    const cases: [string, string, RegExp][] = [
      ['60 0 * * *', 'minute', /the minute field "60" is not valid: .*0-59/],
      ['0 24 * * *', 'hour', /the hour field "24" is not valid/],
      ['0 0 32 * *', 'day-of-month', /the day-of-month field "32" is not valid/],
      ['0 0 * 13 *', 'month', /the month field "13" is not valid/],
      ['0 0 * * 8', 'day-of-week', /the day-of-week field "8" is not valid/],
      ['0 0 * FOO *', 'month', /uses "FOO", which is not one of JAN FEB/],
      ['0 0 * * MONDAY', 'day-of-week', /uses "MONDAY", which is not one of SUN MON/],
      ['0 MON * * *', 'hour', /uses "MON"; this field takes numbers only/],
      ['0 0 L * *', 'day-of-month', /uses "L"; this field takes numbers only/],
      ['0 0 ? * 1', 'day-of-month', /uses "\?", which classic crontab does not have/],
      ['0 0 * * 5#3', 'day-of-week', /uses "#"/],
      ['H * * * *', 'minute', /uses "H"/],
      ['0 0 * * 1.5', 'day-of-week', /may only hold numbers, names/],
      ['5-1 * * * *', 'minute', /the minute field "5-1" is not valid/],
    ];
    for (const [expr, field, message] of cases)
      assert.throws(
        () => parseCrontab(expr),
        (err: CronError) => err instanceof CronError && err.field === field && message.test(err.message),
        expr,
      );
    assert.throws(() => parseCrontab('@daily'), /macros like "@daily" are not accepted/);
    assert.throws(() => parseCrontab('   '), /the expression is empty/);
  });
});

describe('toRanges', () => {
  test('full span, runs of one step, and loose values', () => {
    assert.equal(toRanges([...Array(60).keys()], 0, 59), '*');
    assert.deepEqual(toRanges([0, 15, 30, 45], 0, 59), [{ start: 0, end: 45, step: 15 }]);
    assert.deepEqual(toRanges([1, 2], 0, 59), [{ start: 1, end: 2, step: 1 }]);
    assert.deepEqual(toRanges([1, 3, 7], 0, 59), [...one(1), ...one(3), ...one(7)]);
    assert.deepEqual(toRanges([1, 5, 6, 7, 8, 20], 0, 59), [
      ...one(1),
      { start: 5, end: 8, step: 1 },
      ...one(20),
    ]);
  });
});

describe('fire times', () => {
  test('read in the zone given: 30 8 * * * is 00:30 UTC in Beijing', () => {
    const c = parseCrontab('30 8 * * *');
    assert.equal(
      new Date(nextFireTime(c, SH, at('2026-01-01T00:00:00Z'))).toISOString(),
      '2026-01-01T00:30:00.000Z',
    );
    assert.equal(
      new Date(nextFireTime(c, 'UTC', at('2026-01-01T00:00:00Z'))).toISOString(),
      '2026-01-01T08:30:00.000Z',
    );
    assert.ok(isFireTime(c, SH, at('2026-01-01T00:30:00Z')));
    assert.equal(isFireTime(c, SH, at('2026-01-01T00:30:01Z')), false);
    assert.equal(isFireTime(c, SH, at('2026-01-01T08:30:00Z')), false);
  });

  test('fireTimesBetween keeps the latest when there are too many', () => {
    const c = parseCrontab('* * * * *');
    const from = at('2026-01-01T00:00:00Z');
    assert.deepEqual(fireTimesBetween(c, SH, from, from + 3 * 60_000, 10), {
      times: [from + 60_000, from + 120_000, from + 180_000],
      more: false,
    });
    const r = fireTimesBetween(c, SH, from, from + 60 * 60_000, 5);
    assert.equal(r.more, true);
    assert.deepEqual(
      r.times,
      [56, 57, 58, 59, 60].map((m) => from + m * 60_000),
    );
    assert.deepEqual(fireTimesBetween(c, SH, from, from, 5), { times: [], more: false });
  });

  test('instantCalendar pins one UTC second, year included', () => {
    assert.deepEqual(instantCalendar(at('2027-03-04T05:06:07Z'), 'once'), {
      second: one(7),
      minute: one(6),
      hour: one(5),
      dayOfMonth: one(4),
      month: [{ start: 'MARCH', end: 'MARCH', step: 1 }],
      dayOfWeek: '*',
      year: one(2027),
      comment: 'once',
    });
  });
});

describe('ScheduleSettings', () => {
  const now = at('2026-06-01T00:00:00Z');
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof TatError, String(e));
      return e.code;
    }
    return 'no error';
  };

  test('InvokeTime: ISO 8601 with an offset, rounded up to a second', () => {
    assert.equal(parseInvokeTime('2021-09-01T00:00:00+08:00'), at('2021-08-31T16:00:00Z'));
    assert.equal(parseInvokeTime('2021-09-01T00:00:00+0800'), at('2021-08-31T16:00:00Z'));
    assert.equal(parseInvokeTime('2021-08-31T16:00:00Z'), at('2021-08-31T16:00:00Z'));
    assert.equal(parseInvokeTime('2021-08-31T16:00:00-01:30'), at('2021-08-31T17:30:00Z'));
    assert.equal(parseInvokeTime('2021-08-31T16:00:00.250Z'), at('2021-08-31T16:00:01Z'));
    for (const bad of [
      '2021-09-01 00:00:00',
      '2021-09-01T00:00:00', // no offset: which instant?
      '2021-02-30T00:00:00Z',
      '2021-13-01T00:00:00Z',
      '2021-09-01T24:00:00Z',
      '2021-09-01T00:00:00+25:00',
      '1630454400',
      'tomorrow',
      '',
    ])
      assert.equal(
        code(() => parseInvokeTime(bad)),
        'InvalidParameterValue.InvalidTimeFormat',
        bad,
      );
  });

  test('policies, and the code for each mistake', () => {
    assert.deepEqual(
      checkScheduleSettings({ Policy: 'ONCE', InvokeTime: '2026-06-01T08:00:05+08:00' }, now),
      {
        policy: 'ONCE',
        invokeAt: now + 5000,
      },
    );
    const r = checkScheduleSettings(
      { Policy: 'RECURRENCE', Recurrence: '0 3 * * *', InvokeTime: 'ignored' },
      now,
    );
    assert.equal(r.policy === 'RECURRENCE' && r.crontab.expression, '0 3 * * *');
    assert.equal(new Date(nextInvokeTime(r, now)!).toISOString(), '2026-06-01T19:00:00.000Z');
    assert.equal(nextInvokeTime({ policy: 'ONCE', invokeAt: now }, now), undefined);
    const cases: [object, string][] = [
      [
        { Policy: 'ONCE', InvokeTime: '2026-06-01T08:00:00+08:00' },
        'InvalidParameterValue.InvokeTimeExpired',
      ],
      [{ Policy: 'ONCE', InvokeTime: '2020-01-01T00:00:00Z' }, 'InvalidParameterValue.InvokeTimeExpired'],
      [{ Policy: 'ONCE', InvokeTime: 'soon' }, 'InvalidParameterValue.InvalidTimeFormat'],
      [{ Policy: 'ONCE' }, 'MissingParameter'],
      [{ Policy: 'RECURRENCE' }, 'MissingParameter'],
      [{ Policy: 'RECURRENCE', Recurrence: '0 0 1 * * *' }, 'InvalidParameterValue.InvalidCronExpression'],
      [{ Policy: 'RECURRENCE', Recurrence: '61 * * * *' }, 'InvalidParameterValue.InvalidCronExpression'],
      [{ Policy: 'SCHEDULE' }, 'InvalidParameterValue'],
    ];
    for (const [s, expected] of cases)
      assert.equal(
        code(() => checkScheduleSettings(s as { Policy: string }, now)),
        expected,
        JSON.stringify(s),
      );
  });

  test('an InvalidCronExpression message names the field and the time zone', () => {
    assert.throws(
      () => checkScheduleSettings({ Policy: 'RECURRENCE', Recurrence: '0 25 * * *' }, now),
      /Recurrence "0 25 \* \* \*": the hour field "25" is not valid.*Beijing time \(UTC\+8\)/,
    );
    assert.equal(TAT_CRON_ZONE, 'Asia/Shanghai');
  });
});
