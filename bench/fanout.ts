// Fan-out benchmark (issue: "bench fan-out"): InvokeCommand `true` on 50 local agents, several
// rounds. Prints, per round set, the time from InvokeCommand to every task final and the
// p50/p99 of "InvokeCommand accepted → ReportTaskStart" per task, both read from tatd's own
// millisecond timestamps in its database, plus the client-observed time to final.
//
//   npm run bench                 (defaults: 50 agents, 10 rounds)
//   node dist/bench/fanout.js --agents 100 --rounds 20

import { mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { renderTable } from '../client/table.js';
import { derivedInstanceId } from '../server/gateway/identity.js';
import { isFinalInvocationStatus, type InvocationStatus } from '../tat/status.js';
import { startAgent, waitAgents } from '../testkit/agents.js';
import { client, startTatd } from '../testkit/tatd.js';

const { values: args } = parseArgs({
  options: { agents: { type: 'string', default: '50' }, rounds: { type: 'string', default: '10' } },
});
const AGENTS = Number(args.agents);
const ROUNDS = Number(args.rounds);
const ACCOUNT = { secretId: 'AKIDbench', secretKey: 'bench-secret', appId: '1500000001' };
/**
 * tatd settings of this benchmark besides the defaults: the rate limits off (it polls
 * DescribeInvocations every 20 ms, beyond TAT's 20 calls per second per action), open enrollment
 * (one --fleet agent process serves every identity), tasks as this user in /tmp.
 */
const BENCH_CONFIG = {
  rateLimit: { enabled: false },
  defaults: { username: userInfo().username, workingDirectory: '/tmp' },
};

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const median = (xs: number[]) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

interface RoundSet {
  label: string;
  username: string;
  allFinalServer: number[];
  allFinalClient: number[];
  dispatch: number[];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tatflow-bench-'));
  const tatd = await startTatd({
    accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
    openEnrollment: true,
    config: BENCH_CONFIG,
  });
  const fleet = startAgent(tatd.url, { machineId: 'bench', account: ACCOUNT.appId, fleet: AGENTS });
  try {
    const tat = client(tatd, ACCOUNT);
    const ids = Array.from({ length: AGENTS }, (_, i) =>
      derivedInstanceId(ACCOUNT.appId, 'ap-guangzhou', `bench-${i}`),
    );
    await waitAgents(tat, ids, 'Online', 60_000);
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'bench-true',
      Content: Buffer.from('true').toString('base64'),
    });
    const db = new SQLite(join(tatd.dataDir, 'tatd.sqlite'), { readonly: true });
    const timing = db.prepare(
      `SELECT i.created_at AS created, t.start_at AS started, t.end_at AS ended
         FROM tasks t JOIN invocations i ON i.id = t.invocation_id WHERE i.id = ?`,
    );

    // Root's login files on this machine run `pyenv init` (~100 ms of CPU per shell); a user with
    // a plain profile shows the system's own cost. Both are measured when running as root.
    const users = userInfo().uid === 0 ? ['nobody', 'root'] : [userInfo().username];
    const sets: RoundSet[] = [];
    for (const username of users) {
      const set: RoundSet = {
        label: `tasks as ${username}`,
        username,
        allFinalServer: [],
        allFinalClient: [],
        dispatch: [],
      };
      for (let round = -1; round < ROUNDS; round++) {
        const t0 = performance.now();
        const { InvocationId } = await tat.InvokeCommand({
          CommandId: CommandId!,
          InstanceIds: ids,
          Username: username,
          WorkingDirectory: work.startsWith('/tmp') ? '/tmp' : work,
          // A round takes less than a second: the same call again within that second would carry
          // the same TC3 signature, which tatd refuses as a replay. The Timeout makes each unique.
          Timeout: 60 + round + 1,
        });
        for (;;) {
          const r = await tat.DescribeInvocations({ InvocationIds: [InvocationId!] });
          const s = r.InvocationSet![0]!.InvocationStatus as InvocationStatus;
          if (isFinalInvocationStatus(s)) {
            if (s !== 'SUCCESS') throw new Error(`round ended ${s}`);
            break;
          }
          await new Promise((res) => setTimeout(res, 20));
        }
        const clientMs = performance.now() - t0;
        if (round < 0) continue; // warm-up
        const rows = timing.all(InvocationId) as { created: number; started: number; ended: number }[];
        set.allFinalServer.push(Math.max(...rows.map((r) => r.ended)) - rows[0]!.created);
        set.allFinalClient.push(clientMs);
        for (const r of rows) set.dispatch.push(r.started - r.created);
      }
      sets.push(set);
    }
    db.close();

    console.log(
      `\nfan-out: InvokeCommand \`true\` on ${AGENTS} agents (one --fleet process), ${ROUNDS} rounds each; tatd settings: open enrollment, ${JSON.stringify(BENCH_CONFIG)}\n`,
    );
    console.log(
      renderTable(
        [
          '',
          'all final, server (median / max)',
          'all final, client (median)',
          'dispatch p50',
          'dispatch p99',
          'target',
        ],
        sets.map((s) => {
          const d = [...s.dispatch].sort((a, b) => a - b);
          return [
            s.label,
            `${median(s.allFinalServer)} / ${Math.max(...s.allFinalServer)} ms`,
            `${Math.round(median(s.allFinalClient))} ms`,
            `${pct(d, 50)} ms`,
            `${pct(d, 99)} ms`,
            `final ≤ 1000 ms: ${(median(s.allFinalServer) / 1000).toFixed(2)}×, p99 ≤ 100 ms: ${(pct(d, 99) / 100).toFixed(2)}×`,
          ];
        }),
      ),
    );
    console.log(
      'dispatch = InvokeCommand accepted → ReportTaskStart, per task; ratios are figure / target (≤ 1 meets it).',
    );
  } finally {
    await fleet.stop();
    await tatd.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
