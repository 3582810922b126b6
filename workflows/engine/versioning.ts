// The one place the engine asks whether a run takes a patch's new path (docs/engine.md, "Changing
// workflow code"): every `patched(ID)` of the engine goes through here, with ID from patches.ts.
// A worker of an older engine is this module answering false for the patches it did not have
// (test/workflows/upgrade.test.ts builds one that way to upgrade a worker under a running run).

import * as wf from '@temporalio/workflow';

/** Whether this run takes the new path of patch `id` (recorded in its history when it does). */
export function patched(id: string): boolean {
  return wf.patched(id);
}
