// A run's search attributes: what `tatflow runs` lists and filters by, read from Temporal's
// visibility store, so a listing needs no worker (a query would). The CLI sets the runbook, who
// started the run and `planning` when it starts a run; the run itself (under the `run-visibility`
// patch) sets its runbook, its account (the TAT key id the worker acts with, asked once), who
// started it when a schedule did, and keeps its status and progress current: one upsert whenever
// its status, gate or pause changes or a batch (or wave) ends, and one at its end. Progress is
// thus as fresh as the last finished batch; `tatflow status` has the live counts.

import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { Activities } from './activities.js';
import type { RolloutState, RunbookInput } from './types.js';

/** The custom search attributes of a run, by what they hold. */
export const RUN_ATTRIBUTES = {
  runbook: defineSearchAttributeKey('TatflowRunbook', SearchAttributeType.KEYWORD),
  /** The run's status (`RolloutState['status']`). */
  status: defineSearchAttributeKey('TatflowStatus', SearchAttributeType.KEYWORD),
  /** A login name (`tatflow run`), or `schedule <id>`. */
  startedBy: defineSearchAttributeKey('TatflowStartedBy', SearchAttributeType.KEYWORD),
  /** The TAT key id (SecretId) the worker calls the TAT API with. */
  account: defineSearchAttributeKey('TatflowAccount', SearchAttributeType.KEYWORD),
  /** Targets of the run, and those done (ended in any outcome) and failed so far. */
  targets: defineSearchAttributeKey('TatflowTargets', SearchAttributeType.INT),
  done: defineSearchAttributeKey('TatflowDone', SearchAttributeType.INT),
  failed: defineSearchAttributeKey('TatflowFailed', SearchAttributeType.INT),
} as const;

/** Name and type of each, for registering them (temporal/search-attributes.ts). */
export const RUN_ATTRIBUTE_DEFINITIONS: { name: string; type: 'Keyword' | 'Int' }[] = Object.values(
  RUN_ATTRIBUTES,
).map((k) => ({ name: k.name, type: k.type === SearchAttributeType.INT ? 'Int' : 'Keyword' }));

/** Progress counts of a state, as the search attributes and `tatflow runs` show them. */
export function progressOf(s: RolloutState): { targets: number; done: number; failed: number } {
  const all = Object.values(s.targets);
  return {
    targets: all.length,
    done: all.filter((t) => t.phase === 'done' || t.phase === 'skipped').length,
    failed: all.filter((t) => t.phase === 'done' && t.outcome !== 'succeeded' && t.outcome !== 'cancelled')
      .length,
  };
}

/** What changes the published attributes: status, gate, pause, batches ended. */
function changeKey(s: RolloutState): string {
  const ended = s.batches.filter((b) => b.endedAt).length;
  return `${s.status}|${s.gate?.name ?? ''}|${s.paused ? 'p' : ''}|${ended}|${Object.keys(s.targets).length}`;
}

export class RunVisibility {
  private last = '';
  private stopped = false;
  /** The worker said the namespace has the attributes. */
  private publishing = false;

  constructor(
    private readonly input: RunbookInput,
    private readonly state: RolloutState,
    /** The run's short calls (local activities under `local-calls`). */
    private readonly short: Activities['short'],
    /** The run takes the `run-visibility` path (engine/paths.ts). */
    private readonly on: boolean,
  ) {}

  /**
   * Asks the worker whether its namespace has the attributes (a run that set one the namespace
   * lacks would fail each workflow task) and which account it acts as; then sets what the run is,
   * and keeps status and progress current until `stop()`.
   */
  watch(): Promise<void> {
    // Not cancelled with the workflow: it publishes until the run's clean-up ends, then `stop()`.
    return wf.CancellationScope.nonCancellable(() => this.keepCurrent());
  }

  private async keepCurrent(): Promise<void> {
    if (!this.on) return;
    const { account, searchAttributes } = await this.short.runVisibility();
    if (!searchAttributes) return;
    this.publishing = true;
    const info = wf.workflowInfo();
    const start: SearchAttributePair[] = [{ key: RUN_ATTRIBUTES.runbook, value: info.workflowType }];
    if (account) start.push({ key: RUN_ATTRIBUTES.account, value: account });
    if (!info.typedSearchAttributes.get(RUN_ATTRIBUTES.startedBy) && this.input.schedule)
      start.push({ key: RUN_ATTRIBUTES.startedBy, value: `schedule ${this.input.schedule.id}` });
    wf.upsertSearchAttributes(start);
    for (;;) {
      this.publish();
      await wf.condition(() => this.stopped || changeKey(this.state) !== this.last);
      if (this.stopped) return;
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Publishes the status and progress when they changed (and at the end, whatever happened). */
  publish(): void {
    if (!this.publishing) return;
    const key = changeKey(this.state);
    if (key === this.last) return;
    this.last = key;
    const p = progressOf(this.state);
    wf.upsertSearchAttributes([
      { key: RUN_ATTRIBUTES.status, value: this.state.status },
      { key: RUN_ATTRIBUTES.targets, value: p.targets },
      { key: RUN_ATTRIBUTES.done, value: p.done },
      { key: RUN_ATTRIBUTES.failed, value: p.failed },
    ]);
  }
}
