// Fuzz run (issue: "tatd hardened", proof): malformed and hostile requests against the API, the
// agent endpoints (HTTP and WebSocket) and the object store of a real tatd, bounded in count and
// time; every answer must be well formed (bench/fuzz-run.ts has the rules), none 5xx, tatd up at
// the end. Prints the answers by kind and outcome, and tatd's resident memory.
//
//   npm run bench:fuzz                      (defaults: 12000 requests, at most 600 s, seed 20240601)
//   node dist/bench/fuzz.js --count 50000 --seconds 900 --seed 7
//
// tatd runs with FUZZ_CONFIG: open enrollment and rateLimit off, so hostile requests reach the
// code behind the limits (the limits are tested on their own in test/server/limits.test.ts).

import { parseArgs } from 'node:util';
import { renderTable } from '../client/table.js';
import { FUZZ_CONFIG, KINDS, runFuzz } from './fuzz-run.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '12000' },
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string', default: '20240601' },
    concurrency: { type: 'string', default: '8' },
  },
});

async function main(): Promise<void> {
  const count = Number(args.count);
  console.log(
    `fuzz: up to ${count} requests in at most ${args.seconds} s, ${args.concurrency} at once, seed ${args.seed}; tatd settings: ${JSON.stringify(FUZZ_CONFIG)}`,
  );
  const r = await runFuzz({
    count,
    seconds: Number(args.seconds),
    seed: Number(args.seed),
    concurrency: Number(args.concurrency),
  });
  const rows = Object.entries(r.outcomes)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => {
      const [kind, outcome] = k.split(': ');
      return [kind!, outcome!, String(n)];
    });
  console.log(renderTable(['kind', 'answer', 'count'], rows));
  console.log(
    renderTable(
      ['kind', 'requests'],
      KINDS.map((k) => [k, String(r.byKind[k])]),
    ),
  );
  console.log(
    `sent ${r.sent} requests in ${r.seconds} s; violations ${r.violationCount}; tatd RSS ${r.rss.startMiB} MiB at start, ${r.rss.maxMiB} MiB at most, ${r.rss.endMiB} MiB at the end; tatd ${r.alive ? 'answers' : 'DOES NOT answer'} a correct call afterwards; ${r.errorLogs.length} error log lines`,
  );
  for (const v of r.violations) console.log(`violation: ${v}`);
  for (const l of r.errorLogs) console.log(`tatd error: ${l}`);
  if (r.violationCount > 0 || !r.alive || r.errorLogs.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
