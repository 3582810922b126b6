// What every part of a run shares: its definition and options, its state, the activities, the one
// poller of its invocations, the ledger that writes its accounting, and a pulse that wakes whoever
// waits for something to change (a result, a decision, a breach).

import * as wf from '@temporalio/workflow';
import { engineActivities, type Activities } from './activities.js';
import { Ledger } from './ledger.js';
import type { RunPaths } from './paths.js';
import { TaskTracker } from './tracker.js';
import type { RolloutOptions, RolloutState, RunbookDefinition, RunbookInput } from './types.js';

export const now = (): string => new Date().toISOString();
export const seconds = (s: number | undefined, dflt: number): number => (s ?? dflt) * 1000;

export class RunContext {
  readonly acts: Activities = engineActivities();
  /** Stable across continue-as-new, unique per run: names the run's saved commands. */
  readonly runId = wf.workflowInfo().firstExecutionRunId;
  readonly tracker: TaskTracker;
  readonly ledger: Ledger;
  /** Bumped on every change that may let a waiting dispatcher go on. */
  tick = 0;
  /** Seconds an agent offline at dispatch gets to come back when the run does not say. */
  readonly offlineGraceDefault: number;
  /** Short calls as local activities (runs begun before: remote ones). */
  readonly localCalls: boolean;
  /** Invocations hold one kind of instance each (runs begun before: any mix). */
  readonly kindSplit: boolean;
  /** Aborted runs end `aborted`, unchecked targets `cancelled`, unknown ids refuse the run. */
  readonly truthful: boolean;
  /** A stop ends a bake or a wait between health-check attempts (runs begun before: waited out). */
  readonly stopEndsWaits: boolean;

  constructor(
    readonly def: RunbookDefinition,
    readonly input: RunbookInput,
    readonly state: RolloutState,
    paths: RunPaths,
  ) {
    this.offlineGraceDefault = paths.offlineGrace150 ? 150 : 60;
    this.localCalls = paths.localCalls;
    this.kindSplit = paths.kindSplit;
    this.truthful = paths.truthfulStatus;
    this.stopEndsWaits = paths.stopEndsWaits;
    this.tracker = new TaskTracker(
      this.acts,
      this.opts.region,
      this.opts.pollIntervalMs ?? 1000,
      () => this.tick++,
    );
    this.ledger = new Ledger(state, this.opts, () => this.tick++);
  }

  get opts(): RolloutOptions {
    return this.input.rollout;
  }

  /** The activities for short calls: local ones, or remote ones in runs begun before. */
  get short(): Activities['calls'] {
    return this.localCalls ? this.acts.short : this.acts.calls;
  }

  changed(): void {
    this.tick++;
  }

  stopped(): boolean {
    return !!this.state.reason || !!this.state.aborted;
  }

  /** Waits `ms` (a bake, a health check's retry interval), or until the run stops. */
  async wait(ms: number): Promise<void> {
    if (this.stopEndsWaits) await wf.condition(() => this.stopped(), ms);
    else await wf.sleep(ms);
  }

  historyTooLong(): boolean {
    const info = wf.workflowInfo();
    const limit = this.opts.historyEventLimit ?? 10_000;
    return info.continueAsNewSuggested || info.historyLength > limit;
  }
}
