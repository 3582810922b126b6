// A bounded fuzz run (bench/fuzz-run.ts; `npm run bench:fuzz` sends 12000): malformed and hostile
// requests of every kind against a real tatd. Every answer is well formed (API and agent HTTP:
// HTTP 200, an envelope with a RequestId, an Error with a Code or a result, never InternalError;
// WebSocket upgrades refused with a 4xx; the object store a 4xx COS XML error), nothing is 5xx,
// tatd logs no error, answers a correct call afterwards, and its memory stays bounded.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KINDS, runFuzz } from '../../bench/fuzz-run.js';

test('2000 malformed and hostile requests: every answer well formed, tatd up, memory bounded', async () => {
  const r = await runFuzz({ count: 2000, seconds: 90, seed: 7 });
  assert.equal(r.sent, 2000, `only ${r.sent} sent within 90 s`);
  for (const k of KINDS) assert.ok(r.byKind[k] > 50, `${k}: ${r.byKind[k]} requests`);
  assert.deepEqual(r.violations, [], `${r.violationCount} violations`);
  assert.deepEqual(r.errorLogs, []);
  assert.equal(r.alive, true, 'tatd answers a correct call afterwards');
  // 2000 requests of up to a few MB each: tatd's resident memory grows by tens of MiB at most
  // (npm run bench:fuzz: 139 → 260 MiB over 12000, 289 MiB over 60000).
  assert.ok(r.rss.maxMiB - r.rss.startMiB < 256, JSON.stringify(r.rss));
});
