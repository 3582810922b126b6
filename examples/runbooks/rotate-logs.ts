// A user-written runbook: compress old logs, then make sure the disk has room, batch by batch.
// The worker loads it with `tatflow worker --runbooks examples/runbooks/rotate-logs.ts`, and
// `tatflow run rotateLogs --online --param dir=/var/log/myapp --param days=7` runs it.

import { defineRunbook } from 'tatflow/runbook';

export interface RotateLogsParams {
  /** Directory whose `*.log` files are rotated. */
  dir: string;
  /** Compress files not modified for this many days (default 7). */
  days?: number;
  /** Delete compressed files older than this many days (default: keep them). */
  deleteAfterDays?: number;
  /** The health check fails when the filesystem of `dir` is fuller than this (default 90%). */
  maxUsePercent?: number;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export const rotateLogs = defineRunbook<RotateLogsParams>((p) => {
  const dir = q(p.dir);
  const days = p.days ?? 7;
  return {
    steps: [
      {
        kind: 'command',
        name: 'compress',
        command: {
          content: `test -d ${dir} || { echo "no directory ${p.dir}"; exit 2; }
n=$(find ${dir} -name '*.log' -type f -mtime +${days} | wc -l)
find ${dir} -name '*.log' -type f -mtime +${days} -exec gzip -f {} +
echo "compressed $n file(s) older than ${days} days"`,
          timeout: 600,
        },
      },
      ...(p.deleteAfterDays !== undefined
        ? [
            {
              kind: 'command' as const,
              name: 'purge',
              command: {
                content: `find ${dir} -name '*.log.gz' -type f -mtime +${p.deleteAfterDays} -print -delete`,
              },
            },
          ]
        : []),
    ],
    healthCheck: {
      command: {
        content: `use=$(df -P ${dir} | awk 'NR==2 {sub("%","",$5); print $5}')
echo "$use% used"
[ "$use" -le ${p.maxUsePercent ?? 90} ]`,
      },
    },
  };
});
