// A user-written runbook: compress old logs, then make sure the disk has room, batch by batch.
// The worker loads it with `tatflow worker --runbooks examples/runbooks/rotate-logs.ts`; the CLI
// reads its parameters from the same file: `tatflow run rotateLogs --runbooks
// examples/runbooks/rotate-logs.ts --online --dir /var/log/myapp --param days=7` runs it.

import { defineRunbook, z } from 'tatflow/runbook';

const params = z.strictObject({
  dir: z.string().startsWith('/', 'an absolute path').describe('directory whose *.log files are rotated'),
  days: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('compress files not modified for this many days (default 7)'),
  deleteAfterDays: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('delete compressed files older than this many days (default: keep them)'),
  maxUsePercent: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .describe('the health check fails when the filesystem of dir is fuller than this (default 90)'),
});

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export const rotateLogs = defineRunbook({
  description: 'Compresses old *.log files (and deletes old archives), then checks the disk has room',
  params,
  flags: [{ name: 'dir', arg: '<path>', help: 'directory to rotate', param: 'dir', value: { kind: 'text' } }],
  build: (p) => {
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
  },
});
