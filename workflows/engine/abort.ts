// Abort and cancellation: on abort, every invocation in flight is cancelled (and each one made
// later, by an invoke that was under way); after the workflow itself was cancelled, what it recorded
// and what it can look up by its saved commands. CancelInvocation is followed by a bounded wait until
// the remote processes are gone; the results go to the poller like polled ones.

import * as wf from '@temporalio/workflow';
import type { RunContext } from './context.js';
import type { Dispatcher } from './dispatch.js';

export class Canceller {
  /** Invocations CancelInvocation was sent for. */
  private readonly cancelSent = new Set<string>();
  /** Cancellations under way (the abort watcher's and the clean-up's). */
  private readonly cancels: Promise<void>[] = [];
  private ended = false;

  constructor(
    private readonly run: RunContext,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** Ends the abort watcher (the run is over). */
  stop(): void {
    this.ended = true;
  }

  /** On abort: cancel every invocation in flight, and each one made later (an invoke that was under way). */
  watchAbort(): Promise<void> {
    const { tracker, state } = this.run;
    const cancellable = () =>
      tracker.open().filter((id) => !this.cancelSent.has(id) && !this.dispatcher.rollbackInvocations.has(id));
    return wf.CancellationScope.nonCancellable(async () => {
      for (;;) {
        await wf.condition(() => this.ended || (!!state.aborted && cancellable().length > 0));
        if (this.ended) return;
        await this.cancelInvocations(cancellable());
      }
    });
  }

  /** CancelInvocation, then wait (bounded) until their processes are gone; results go to the tracker. */
  private cancelInvocations(ids: string[]): Promise<void> {
    const p = this.sendCancel(ids);
    this.cancels.push(p);
    return p;
  }

  private async sendCancel(ids: string[]): Promise<void> {
    const { acts, opts, tracker, state } = this.run;
    for (const id of ids) this.cancelSent.add(id);
    const r = await acts.polling.cancelInvocations({
      region: opts.region,
      invocationIds: ids,
      waitMs: 5 * 60_000,
      pollIntervalMs: opts.pollIntervalMs ?? 1000,
    });
    tracker.absorb(r.results);
    if (!r.settled) state.reason ??= 'aborted, but some remote processes did not stop within 5 minutes';
  }

  /**
   * After the workflow was cancelled: its batches were abandoned mid-way, so cancel what it recorded
   * and what it can look up (an invocation whose answer never came back), and record the ends.
   */
  async cancelAbandoned(why: string): Promise<void> {
    const { opts, tracker, state } = this.run;
    const found = await this.run.short.openInvocations({
      region: opts.region,
      commandIds: Object.values(state.commands),
    });
    const ids = [...new Set([...tracker.open(), ...found])].filter((id) => !this.cancelSent.has(id));
    if (ids.length > 0) {
      for (const id of found) if (!tracker.results(id).length) tracker.watch(id, 0, 'failures');
      await this.cancelInvocations(ids);
    }
    await Promise.all(this.cancels);
    const results = [...this.cancelSent].flatMap((id) => tracker.results(id));
    this.run.ledger.abandoned(results, why);
  }
}
