// The shapes of a rollout: lock-step batches (each after the one before is finished, healthy and,
// if asked, approved), or a sliding window / ramp-up that admits targets as others finish. Both
// return true when the run should continue as new (its history grew too long) at a point where
// nothing is in flight.

import * as wf from '@temporalio/workflow';
import type { RunContext } from './context.js';
import type { Gates } from './gates.js';
import { DEFAULT_SHAPE, rampUpLimit, resolveConcurrency, type Shape } from './plan.js';
import type { BatchState } from './types.js';
import type { WaveRunner } from './wave.js';
import type { WindowGuard } from './window.js';

export async function runBatches(
  run: RunContext,
  gates: Gates,
  waves: WaveRunner,
  window?: WindowGuard,
): Promise<boolean> {
  const { state, opts } = run;
  const approval = opts.approval ?? {};
  const deadline = gates.watchProgressDeadline();
  try {
    for (; state.currentBatch < state.batches.length; state.currentBatch++) {
      const batch = state.batches[state.currentBatch]!;
      if (batch.status !== 'pending') continue;
      const k = batch.index;
      if (run.historyTooLong()) return true;
      // A batch the maintenance window refuses asks for no approval; one that waited is asked again.
      if (window && !window.admits()) break;
      if ((k === 0 && approval.beforeStart) || approval.everyBatch || (k === 1 && approval.afterCanary))
        await gates.gate(
          k === 0
            ? 'before start'
            : k === 1 && approval.afterCanary
              ? 'after canary'
              : `before batch ${k + 1}`,
        );
      await gates.holdWhilePaused();
      if (run.stopped()) break;
      if (window && !window.admits()) break;
      await waves.runWave(batch);
      if (run.stopped()) break;
    }
  } finally {
    deadline.cancel();
  }
  run.ledger.skipUndispatched(window?.skipReason());
  return false;
}

export async function runWindow(
  run: RunContext,
  gates: Gates,
  waves: WaveRunner,
  window?: WindowGuard,
): Promise<boolean> {
  const { state, opts, ledger } = run;
  const shape = (opts.shape ?? DEFAULT_SHAPE) as Extract<Shape, { kind: 'window' | 'rampUp' }>;
  const all = Object.values(state.targets);
  const ceiling = resolveConcurrency(shape.maxConcurrency, all.length);
  const approval = opts.approval ?? {};
  const limit = () => {
    if (shape.kind === 'window') return ceiling;
    const ok = all.filter((t) => t.outcome === 'succeeded').length;
    return rampUpLimit(Math.floor(Math.log2(ok + 1)), ceiling);
  };
  const running = () => all.filter((t) => t.phase === 'running').length;
  const deadline = gates.watchProgressDeadline();
  const inFlight: Promise<void>[] = [];
  let continueAsNew = false;
  try {
    if (approval.beforeStart && state.nextWave === 0) await gates.gate('before start');
    for (;;) {
      const queue = all.filter((t) => t.phase === 'pending');
      if (queue.length === 0 || run.stopped()) break;
      if (run.historyTooLong()) {
        continueAsNew = true;
        break;
      }
      if (window && !window.admits()) break;
      const seen = run.tick;
      const want = Math.min(queue.length, limit() - running());
      const n = ledger.admit(want);
      if (n <= 0 || state.paused) {
        await wf.condition(() => run.tick !== seen);
        continue;
      }
      const index = state.nextWave++;
      const batch: BatchState = { index, targets: queue.slice(0, n).map((t) => t.id), status: 'pending' };
      ledger.admitToWave(batch.targets, index);
      state.batches.push(batch);
      state.currentBatch = index;
      const wave = waves.runWave(batch);
      inFlight.push(wave);
      if (index === 0 && approval.afterCanary) {
        await wave;
        if (!run.stopped()) await gates.gate('after canary');
      }
    }
    await Promise.all(inFlight);
  } finally {
    deadline.cancel();
  }
  if (!continueAsNew) ledger.skipUndispatched(window?.skipReason());
  return continueAsNew;
}
