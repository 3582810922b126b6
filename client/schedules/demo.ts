// The schedule `tatflow dev` makes on its local fleet, so a new user sees one in `tatflow schedule
// list` and in the Temporal UI: a nightly log rotation of the demo app's directory, in the
// machine's own time zone, created paused (nothing runs until someone unpauses it), and left
// alone when it exists already.

import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import { join } from 'node:path';
import type { ScheduleParts } from './definition.js';
import { createSchedule } from './install.js';

export const DEMO_SCHEDULE = 'demo-log-rotation';

export function demoScheduleParts(o: {
  region: string;
  taskQueue: string;
  dataDir: string;
  timezone: string;
}): ScheduleParts {
  const dir = join(o.dataDir, 'demo-app');
  // Each *.log over 1 KiB becomes NAME.<date>.gz; the directory is the demo app's, nothing else.
  const script = [
    `mkdir -p '${dir}' && cd '${dir}' || exit 1`,
    'for f in *.log; do',
    '  [ -f "$f" ] && [ "$(wc -c < "$f")" -gt 1024 ] || continue',
    '  cp "$f" "$f.$(date +%Y%m%d)" && : > "$f" && gzip -f "$f.$(date +%Y%m%d)" && echo "rotated $f"',
    'done',
    'echo "logs in $PWD rotated"',
  ].join('\n');
  return {
    def: {
      version: 1,
      name: DEMO_SCHEDULE,
      runbook: 'rollingCommand',
      timing: { when: { cron: '30 3 * * *' }, timezone: o.timezone },
      overlap: 'skip',
      catchupWindowSeconds: 15 * 60,
    },
    taskQueue: o.taskQueue,
    input: {
      params: { command: { content: script } },
      rollout: {
        region: o.region,
        targets: { online: true },
        shape: { kind: 'batches', batches: [1, '50%'] },
        maintenanceWindow: { durationSeconds: 3600, cutoffSeconds: 600 },
      },
    },
  };
}

/** Creates the demo schedule, paused, unless it exists; says which. */
export async function ensureDemoSchedule(
  client: Client,
  o: { region: string; taskQueue: string; dataDir: string; timezone: string },
): Promise<'created' | 'exists'> {
  try {
    await createSchedule(client, demoScheduleParts(o), Date.now(), {
      paused: true,
      note: `a demo from tatflow dev: unpause it with \`tatflow schedule unpause ${DEMO_SCHEDULE}\``,
    });
    return 'created';
  } catch (e) {
    if (e instanceof ScheduleAlreadyRunning) return 'exists';
    throw e;
  }
}
