// The activities as the engine sees them, with their timeouts and retries. Short calls retry
// forever with back-off (the TAT API may be down for a while; nothing is lost by waiting); polls
// heartbeat, so a dead worker is noticed within the heartbeat timeout and the poll resumes elsewhere.

import * as wf from '@temporalio/workflow';
import type { createActivities } from '../../activities/index.js';

type All = ReturnType<typeof createActivities>;

const retry = { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 };

export interface Activities {
  calls: All;
  polling: All;
}

export function engineActivities(): Activities {
  return {
    // Every API call heartbeats (activities/errors.ts): a worker that died mid-call is noticed in 15 s.
    calls: wf.proxyActivities<All>({
      startToCloseTimeout: '5 minutes',
      heartbeatTimeout: '15 seconds',
      retry,
    }),
    polling: wf.proxyActivities<All>({
      startToCloseTimeout: '24 hours',
      heartbeatTimeout: '15 seconds',
      retry,
    }),
  };
}
