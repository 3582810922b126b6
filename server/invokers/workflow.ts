// The workflow each invoker fire starts (Schedule action, task queue `tatd-invokers`). It hands
// the fire to its activity, which runs inside tatd next to the store. Workflow code: it imports
// only the Temporal workflow SDK and pure names, no Node built-ins.

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { FireActivities } from './fire.js';
import type { FireInput, FireOutcome } from './names.js';

const { fireInvoker } = proxyActivities<FireActivities>({
  startToCloseTimeout: '1 minute',
  // The activity refuses a fire more than the catch-up window late, so retries end by themselves;
  // this bounds a fire whose tatd never comes back.
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * The time the Schedule meant this run for (not when it started): Temporal's
 * TemporalScheduledStartTime, else the time it appends to the workflow id, else the start time.
 */
function scheduledAt(): number {
  const info = workflowInfo();
  const fromAttribute = info.typedSearchAttributes.get(SCHEDULED_START);
  if (fromAttribute) return fromAttribute.getTime();
  const suffix = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/.exec(info.workflowId)?.[1];
  return suffix ? Date.parse(suffix) : info.startTime.getTime();
}

export async function tatdInvoker(input: FireInput): Promise<FireOutcome> {
  return fireInvoker({ ...input, scheduledAt: scheduledAt() });
}
