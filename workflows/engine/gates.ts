// Holding a run: approval gates (with their timeout and on-timeout action), pause, and the
// progress deadline that breaches when no batch turned healthy for too long (Nomad's rule: each
// healthy batch moves it on).

import * as wf from '@temporalio/workflow';
import { now, seconds, type RunContext } from './context.js';
import type { Control } from './control.js';

export class Gates {
  constructor(
    private readonly run: RunContext,
    private readonly control: Control,
  ) {}

  async gate(name: string): Promise<void> {
    const { state, opts } = this.run;
    const a = opts.approval ?? {};
    const timeoutMs = seconds(a.timeoutSeconds, 24 * 3600);
    state.gate = { name, since: now(), timeoutAt: new Date(Date.now() + timeoutMs).toISOString() };
    const before = state.status;
    state.status = 'waiting for approval';
    const decided = await this.control.awaitDecision(timeoutMs);
    state.gate = undefined;
    state.status = before;
    if (decided) return;
    if (state.aborted) return;
    if (a.onTimeout === 'continue') {
      state.decisions.push({
        gate: name,
        approved: true,
        by: 'timeout',
        comment: 'gate timed out; on-timeout is continue',
        at: now(),
      });
      return;
    }
    this.run.ledger.breach(`approval timed out at gate "${name}"`);
  }

  async holdWhilePaused(): Promise<void> {
    const { state } = this.run;
    if (!state.paused) return;
    state.status = 'paused';
    await wf.condition(() => !state.paused || !!state.aborted);
    state.status = 'running';
  }

  resetProgressDeadline(): void {
    const s = this.run.opts.progressDeadlineSeconds;
    if (s) this.run.state.progressDeadlineAt = new Date(Date.now() + s * 1000).toISOString();
  }

  /** Breaches when no batch turned healthy before the deadline; the deadline moves on each healthy batch. */
  watchProgressDeadline(): wf.CancellationScope {
    const scope = new wf.CancellationScope();
    const { state, opts } = this.run;
    const s = opts.progressDeadlineSeconds;
    if (!s) return scope;
    scope
      .run(async () => {
        for (;;) {
          const at = state.progressDeadlineAt!;
          const moved = await wf.condition(
            () => state.progressDeadlineAt !== at || this.run.stopped(),
            Math.max(1, Date.parse(at) - Date.now()),
          );
          if (this.run.stopped()) return;
          if (!moved) {
            this.run.ledger.breach(`progress deadline of ${s} s passed without a healthy batch`);
            return;
          }
        }
      })
      .catch((e: unknown) => {
        if (!wf.isCancellation(e)) throw e;
      });
    return scope;
  }
}
