// TAT allows 20 requests per second per action (RequestLimitExceeded beyond). A run of 2,000
// targets (one agent process serving 2,000 identities, each task a real shell) in a window of 200,
// polling every 20 ms so that the engine wants far more than the limit, must keep every action
// under it. Counted from tatd's own log: each `api call` line has the action, the time it was
// logged and how long the call took, so its arrival is `time - ms`; per action and per second of
// arrival, at most 20. (This does not depend on tatd limiting anything itself.)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RolloutState } from '../../workflows/engine/types.js';
import { startEngine, type Engine } from '../helpers/engine.js';
import { stopSharedTemporal } from '../../testkit/temporal.js';

let e: Engine;

before(async () => {
  e = await startEngine({ taskQueue: 'rate-limit', agents: 2000, fleet: true });
});
after(async () => {
  await e?.stop();
  await stopSharedTemporal();
});

/** Requests per action and second of arrival at tatd, from its log lines since `from`. */
function perSecond(from: number, to: number): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const l of e.tatd.logs()) {
    if (typeof l.msg !== 'string' || !l.msg.startsWith('api call') || typeof l.action !== 'string') continue;
    const arrived = Number(l.time) - Number(l.ms ?? 0);
    if (!(arrived >= from && arrived <= to)) continue;
    const byAction = out.get(l.action) ?? new Map<number, number>();
    const second = Math.floor(arrived / 1000);
    byAction.set(second, (byAction.get(second) ?? 0) + 1);
    out.set(l.action, byAction);
  }
  return out;
}

test('2,000 targets in a window of 200 keep every TAT action within 20 requests per second', async () => {
  const from = Date.now();
  const h = await e.start(
    'rollingCommand',
    { command: { content: 'true' } },
    { shape: { kind: 'window', maxConcurrency: 200 }, pollIntervalMs: 20 },
  );
  const s: RolloutState = await h.result();
  const to = Date.now();
  assert.equal(s.status, 'succeeded');
  const targets = Object.values(s.targets);
  assert.equal(targets.length, 2000);
  assert.ok(
    targets.every((t) => t.outcome === 'succeeded'),
    'every target succeeded',
  );
  const counts = perSecond(from, to);
  const peaks = [...counts].map(([action, secs]) => [action, Math.max(...secs.values())] as const);
  const total = [...counts].map(([action, secs]) => [action, [...secs.values()].reduce((a, b) => a + b, 0)]);
  const report = `peaks per second: ${JSON.stringify(Object.fromEntries(peaks))}; totals: ${JSON.stringify(Object.fromEntries(total))}`;
  for (const [action, peak] of peaks)
    assert.ok(peak <= 20, `${action}: ${peak} requests in one second (${report})`);
  // The engine wanted more than the limit (20 ms polls), so the lanes did hold it back.
  const polls = counts.get('DescribeInvocations');
  assert.ok(polls && Math.max(...polls.values()) >= 15, `the poll ran near the limit: ${report}`);
  process.stdout.write(`# ${report}; run took ${Math.round((to - from) / 1000)} s\n`);
});
