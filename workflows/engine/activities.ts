// The activities as the engine sees them, with their timeouts and retries (docs/runbooks.md,
// "Durability"). No activity retries forever: each has a schedule-to-close bound, after which the
// run stops like a breach and cleans up.
//   calls     remote activities, each attempt ≤ 5 min, heartbeat 15 s (every API call heartbeats, so
//             a worker that died mid-call is noticed in 15 s), retried with back-off for 30 min in
//             all (a TAT outage up to that long is waited out; refusals fail at once)
//   short     the short calls (saved commands, agent status, targets, deleting commands, open
//             invocations, what the worker says for the run's search attributes) as local activities: no task queue round trip, no workflow task of their
//             own; each attempt ≤ 2 min, retried for 30 min in all. They are safe to run again from
//             the start (a worker that died mid-call leaves nothing they would do twice).
//   polling   waits on remote tasks: each attempt ≤ 25 h (a task may run 24 h), heartbeat 15 s,
//             retried for 26 h in all
//   building  the run's definition, built once from the worker's registry (a local activity; a
//             failure is a refusal: bad parameters or definition)

import * as wf from '@temporalio/workflow';
import type { createActivities } from '../../activities/index.js';
import type { DefinitionActivities } from './definition.js';

type All = ReturnType<typeof createActivities>;

const retry = { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 };

export interface Activities {
  calls: All;
  short: All;
  polling: All;
  building: DefinitionActivities;
}

export function engineActivities(): Activities {
  return {
    calls: wf.proxyActivities<All>({
      startToCloseTimeout: '5 minutes',
      heartbeatTimeout: '15 seconds',
      scheduleToCloseTimeout: '30 minutes',
      retry,
    }),
    short: wf.proxyLocalActivities<All>({
      startToCloseTimeout: '2 minutes',
      scheduleToCloseTimeout: '30 minutes',
      retry,
    }),
    polling: wf.proxyActivities<All>({
      startToCloseTimeout: '25 hours',
      heartbeatTimeout: '15 seconds',
      scheduleToCloseTimeout: '26 hours',
      retry,
    }),
    building: wf.proxyLocalActivities<DefinitionActivities>({
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: '5 minutes',
      retry,
    }),
  };
}
