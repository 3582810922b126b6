// tat/dst.ts: zone transitions found with Intl, the gaps and folds they make, the extra calendar a
// fixed-time crontab gets for a gap, and the second pass of a repeated wall time. Checked against
// the known 2026 transitions of New York, Berlin and Lord Howe Island (a 30-minute change), and
// Shanghai (none).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crontabCalendars, parseCrontab } from '../../tat/cron.js';
import {
  calendarMatches,
  folds,
  foldsHit,
  gapCalendars,
  gaps,
  instantOf,
  isFixedTimeCalendars,
  isFixedTimeCrontab,
  offsetMinutes,
  transitions,
  wallTime,
} from '../../tat/dst.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const Y2026 = [at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z')] as const;
const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';

describe('transitions', () => {
  test('New York and Berlin in 2026: the instants, and the offsets either side', () => {
    assert.deepEqual(
      transitions(NY, ...Y2026).map((t) => [iso(t.at), t.before, t.after]),
      [
        ['2026-03-08T07:00:00.000Z', -300, -240],
        ['2026-11-01T06:00:00.000Z', -240, -300],
      ],
    );
    assert.deepEqual(
      transitions(BERLIN, ...Y2026).map((t) => [iso(t.at), t.before, t.after]),
      [
        ['2026-03-29T01:00:00.000Z', 60, 120],
        ['2026-10-25T01:00:00.000Z', 120, 60],
      ],
    );
  });

  test('Shanghai and UTC have none; Lord Howe changes by 30 minutes', () => {
    assert.deepEqual(transitions('Asia/Shanghai', ...Y2026), []);
    assert.deepEqual(transitions('UTC', ...Y2026), []);
    const lh = transitions('Australia/Lord_Howe', ...Y2026);
    assert.equal(lh.length, 2);
    assert.deepEqual(
      lh.map((t) => t.after - t.before),
      [-30, 30],
    );
  });

  test('gaps and folds, as wall times', () => {
    const [gap] = gaps(NY, ...Y2026);
    assert.deepEqual(
      [gap!.from.hour, gap!.from.minute, gap!.to.hour, gap!.to.minute, gap!.to.day],
      [2, 0, 3, 0, 8],
    );
    const [fold] = folds(BERLIN, ...Y2026);
    assert.deepEqual([fold!.from.hour, fold!.to.hour, fold!.to.day, fold!.ms], [2, 3, 25, 3_600_000]);
  });

  test('offsets and wall times', () => {
    assert.equal(offsetMinutes(NY, at('2026-07-01T12:00:00Z')), -240);
    assert.equal(offsetMinutes('Asia/Shanghai', at('2026-07-01T12:00:00Z')), 480);
    const w = wallTime(BERLIN, at('2026-10-25T00:30:00Z'));
    assert.deepEqual([w.year, w.month, w.day, w.hour, w.minute, w.dayOfWeek], [2026, 10, 25, 2, 30, 0]);
  });
});

describe('wall times to instants', () => {
  test('an ordinary time, a repeated one (either pass), a skipped one (lands after the gap)', () => {
    const w = (month: number, day: number, hour: number, minute: number) => ({
      year: 2026,
      month,
      day,
      hour,
      minute,
      second: 0,
    });
    assert.equal(iso(instantOf(NY, w(7, 1, 9, 0))), '2026-07-01T13:00:00.000Z');
    assert.equal(iso(instantOf(NY, w(11, 1, 1, 30))), '2026-11-01T05:30:00.000Z');
    assert.equal(iso(instantOf(NY, w(11, 1, 1, 30), 'later')), '2026-11-01T06:30:00.000Z');
    assert.equal(iso(instantOf(NY, w(3, 8, 2, 30))), '2026-03-08T07:30:00.000Z'); // 03:30 EDT
  });
});

describe('the DST rule for crontabs', () => {
  test('fixed-time jobs: neither minute nor hour is a wildcard', () => {
    assert.equal(isFixedTimeCrontab(parseCrontab('30 2 * * *')), true);
    assert.equal(isFixedTimeCrontab(parseCrontab('0,30 1-3 * * 0')), true);
    assert.equal(isFixedTimeCrontab(parseCrontab('*/15 2 * * *')), false);
    assert.equal(isFixedTimeCrontab(parseCrontab('30 * * * *')), false);
    assert.equal(isFixedTimeCrontab(parseCrontab('30 */2 * * *')), false);
    assert.equal(isFixedTimeCalendars(crontabCalendars(parseCrontab('30 2 * * *'), NY)), true);
    assert.equal(isFixedTimeCalendars(crontabCalendars(parseCrontab('30 * * * *'), NY)), false);
  });

  test('a 02:30 daily job gets one extra fire at 03:00 on each spring-forward day', () => {
    const cals = crontabCalendars(parseCrontab('30 2 * * *'), NY);
    const extra = gapCalendars(cals, NY, at('2025-12-01T00:00:00Z'), at('2028-12-01T00:00:00Z'));
    const first = (f: unknown) => (f as { start: number }[])[0]!.start;
    assert.deepEqual(
      extra.map((c) => `${first(c.year)}-03-${first(c.dayOfMonth)} ${first(c.hour)}:${first(c.minute)}`),
      ['2026-03-8 3:0', '2027-03-14 3:0', '2028-03-12 3:0'],
    );
    assert.match(
      extra[0]!.comment,
      /2026-03-08: 02:00-03:00 does not exist; the fire at 02:30 runs at 03:00/,
    );
    // The extra calendar fires at 03:00 that day and at no other time.
    const c = extra[0]!;
    assert.ok(calendarMatches(c, wallTime(NY, at('2026-03-08T07:00:00Z'))));
    assert.ok(!calendarMatches(c, wallTime(NY, at('2026-03-09T07:00:00Z'))));
  });

  test('only on the days the crontab runs: a Monday job has no gap fire on a Sunday change', () => {
    const monday = crontabCalendars(parseCrontab('30 2 * * 1'), NY);
    assert.deepEqual(gapCalendars(monday, NY, ...Y2026), []);
    const sunday = crontabCalendars(parseCrontab('30 2 * * 0'), BERLIN);
    assert.equal(gapCalendars(sunday, BERLIN, ...Y2026).length, 1);
    // Day-of-month OR day-of-week (two calendars): the 8th matches in New York.
    const either = crontabCalendars(parseCrontab('15 2 8 * 5'), NY);
    assert.equal(gapCalendars(either, NY, ...Y2026).length, 1);
  });

  test('times outside the gap, and zones without DST, get nothing; several fires in one gap make one', () => {
    assert.deepEqual(gapCalendars(crontabCalendars(parseCrontab('30 3 * * *'), NY), NY, ...Y2026), []);
    assert.deepEqual(
      gapCalendars(crontabCalendars(parseCrontab('30 2 * * *'), 'Asia/Shanghai'), 'Asia/Shanghai', ...Y2026),
      [],
    );
    assert.equal(gapCalendars(crontabCalendars(parseCrontab('0,20,40 2 * * *'), NY), NY, ...Y2026).length, 1);
  });

  test('the folds a fixed-time job fires in: 01:30 in New York, 02:30 in Berlin, not 03:30', () => {
    const at1 = (cron: string, zone: string) =>
      foldsHit(crontabCalendars(parseCrontab(cron), zone), zone, ...Y2026).map((f) => iso(f.at));
    assert.deepEqual(at1('30 1 * * *', NY), ['2026-11-01T06:00:00.000Z']);
    assert.deepEqual(at1('30 2 * * *', NY), []);
    assert.deepEqual(at1('30 2 * * *', BERLIN), ['2026-10-25T01:00:00.000Z']);
    assert.deepEqual(at1('30 3 * * *', BERLIN), []);
    assert.deepEqual(at1('30 2 * * 1', BERLIN), [], 'not on a Monday job (the change is on a Sunday)');
  });

  test('a 30-minute gap (Lord Howe: 02:00-02:30) moves a 02:15 job to 02:30', () => {
    const zone = 'Australia/Lord_Howe';
    const [g] = gapCalendars(crontabCalendars(parseCrontab('15 2 * * *'), zone), zone, ...Y2026);
    assert.ok(g);
    assert.match(g.comment, /02:00-02:30 does not exist; the fire at 02:15 runs at 02:30/);
  });

  test('eleven years of gaps for a daily job: one calendar a year', () => {
    const extra = gapCalendars(
      crontabCalendars(parseCrontab('30 2 * * *'), BERLIN),
      BERLIN,
      at('2025-12-06T00:00:00Z'),
      at('2036-12-06T00:00:00Z'),
    );
    assert.equal(extra.length, 11);
  });
});
