// Rollback on breach or abort: every target that changed (a changing step's task started on it),
// batch by batch in reverse order, grouped by the version the probe read when the rollback takes
// it as a parameter (parameters apply per invocation). It is dispatched even though the run has
// stopped, and never cancelled; its results are recorded per target.

import type { RunContext } from './context.js';
import type { Dispatcher } from './dispatch.js';
import type { RunnableStep } from './steps.js';
import type { TargetState } from './types.js';

export async function rollBack(run: RunContext, dispatcher: Dispatcher, step: RunnableStep): Promise<void> {
  const { state } = run;
  const rb = run.def.rollback!;
  const changed = Object.values(state.targets).filter((t) => t.changed);
  if (changed.length === 0) return;
  state.status = 'rolling back';
  const byBatch = new Map<number, TargetState[]>();
  for (const t of changed) byBatch.set(t.batch, [...(byBatch.get(t.batch) ?? []), t]);
  for (const index of [...byBatch.keys()].sort((a, b) => b - a)) {
    const targets = byBatch.get(index)!;
    const batch = state.batches.find((b) => b.index === index) ?? {
      index,
      targets: [],
      status: 'failed' as const,
    };
    // One invocation per version, since parameters apply per invocation.
    const groups = new Map<string, string[]>();
    for (const t of targets) {
      const v = rb.versionParameter ? (t.version ?? '') : '';
      groups.set(v, [...(groups.get(v) ?? []), t.id]);
    }
    for (const [version, ids] of groups)
      await dispatcher.runStep(
        batch,
        step,
        ids,
        rb.versionParameter ? { [rb.versionParameter]: version } : undefined,
      );
  }
}
