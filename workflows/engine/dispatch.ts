// Dispatching one step over targets: its saved command (made once per run and step), then
// invocations of at most 100 targets of one kind within the error budget. A retried invokeChunk
// finds the invocation an earlier attempt made from what TAT records (activities/invoke.ts); the
// dispatcher tells it which invocations of the same chunk the run already holds (a health check's
// earlier attempts). Each invocation watches its tasks for one poll interval, so a quick step's
// results come back with it; the rest come from the run's one poller.

import * as wf from '@temporalio/workflow';
import type { TaskResult } from '../../activities/types.js';
import { isAgentUnreachableCode } from '../../tat/agent-reachability.js';
import { seconds, type RunContext } from './context.js';
import { chunk, chunkByKind } from './plan.js';
import { always, counts, type RunnableStep } from './steps.js';
import type { BatchState } from './types.js';

/** How many recent health-check chunks (and their invocations) a run carries across continue-as-new. */
const CARRIED_HEALTH_CHUNKS = 5;
/** The longest an invocation watches its tasks before the poller takes over. */
const WATCH_CAP_MS = 5000;

export class Dispatcher {
  /** Invocations of the rollback: never cancelled. */
  readonly rollbackInvocations = new Set<string>();
  /** Invocations this run made, by step key and exact instance set. */
  private readonly made = new Map<string, string[]>();

  constructor(private readonly run: RunContext) {
    // A health check with `onInstance` runs on the same instance batch after batch, across
    // continue-as-new too: its recent invocations come along.
    for (const [k, ids] of run.state.recentHealth ?? []) this.made.set(k, [...ids]);
  }

  private static chunkKey(step: RunnableStep, ids: string[]): string {
    return `${step.key}\u0000${[...ids].sort().join(',')}`;
  }

  private remember(step: RunnableStep, ids: string[], invocationId: string): void {
    const k = Dispatcher.chunkKey(step, ids);
    this.made.set(k, [...(this.made.get(k) ?? []), invocationId]);
    if (step.role !== 'health') return;
    const state = this.run.state;
    const recent = (state.recentHealth ?? []).filter(([key]) => key !== k);
    recent.push([k, this.made.get(k)!.slice(-3)]);
    state.recentHealth = recent.slice(-CARRIED_HEALTH_CHUNKS);
  }

  /** Runs `step` on `targets`; resolves with each target's result once every invocation is settled. */
  async runStep(
    batch: BatchState,
    step: RunnableStep,
    targets: string[],
    parameters?: Record<string, string>,
  ): Promise<Map<string, TaskResult>> {
    const { ledger, tracker } = this.run;
    const commandId = await this.command(step);
    const queue = [...targets];
    const mine: string[] = [];
    const out = new Map<string, TaskResult>();
    /** Takes in the results that arrived for this step's invocations since the last look. */
    const collect = () => {
      for (const inv of mine)
        for (const r of tracker.results(inv)) {
          if (out.has(r.instanceId)) continue;
          out.set(r.instanceId, r);
          ledger.result(batch, step, r);
        }
    };
    for (;;) {
      const blocked = !always(step) && this.run.stopped();
      if (blocked) queue.length = 0;
      // Targets the window already admitted (and reserved) go at once; the rest wait for the budget.
      const reserved = queue.filter((id) => ledger.holdsBudget(id)).length;
      const n =
        always(step) || !counts(step) ? queue.length : reserved + ledger.admit(queue.length - reserved);
      const taking = queue.splice(0, Math.max(0, n));
      for (const planned of this.run.kindSplit ? chunkByKind(taking) : chunk(taking)) {
        ledger.entering(step, planned);
        const invoked = await this.invoke(batch, step, commandId, planned, parameters);
        if (!invoked) continue;
        const { invocationId, ids, finished } = invoked;
        ledger.invoked(step, ids, invocationId);
        if (always(step)) this.rollbackInvocations.add(invocationId);
        this.remember(step, ids, invocationId);
        mine.push(invocationId);
        tracker.watch(invocationId, ids.length, step.output, finished);
      }
      const open = mine.filter((id) => !tracker.settled(id));
      if (open.length === 0 && queue.length === 0) break;
      const seen = this.run.tick;
      await wf.condition(() => this.run.tick !== seen);
      collect();
    }
    collect();
    return out;
  }

  /** The run's saved command for a step: made once per (run, step), found again after a retry. */
  private async command(step: RunnableStep): Promise<string> {
    const { state, opts } = this.run;
    const known = state.commands[step.key];
    if (known) return known;
    const { commandId } = await this.run.short.prepareStep({
      region: opts.region,
      runId: this.run.runId,
      step: step.key,
      command: step.command,
      ...(step.parameters ? { parameters: true } : {}),
    });
    state.commands[step.key] = commandId;
    return commandId;
  }

  /**
   * invokeChunk; when TAT refuses the call because some agents are offline (real TAT checks at the
   * call), those targets end undeliverable and the rest are invoked.
   */
  private async invoke(
    batch: BatchState,
    step: RunnableStep,
    commandId: string,
    planned: string[],
    parameters?: Record<string, string>,
  ): Promise<{ invocationId: string; ids: string[]; finished?: TaskResult[] } | undefined> {
    let ids = planned;
    const poll = this.run.opts.pollIntervalMs ?? 1000;
    while (ids.length > 0) {
      try {
        const known = this.made.get(Dispatcher.chunkKey(step, ids));
        const { invocationId, finished } = await this.run.acts.calls.invokeChunk({
          region: this.run.opts.region,
          commandId,
          instanceIds: ids,
          ...(parameters ? { parameters } : {}),
          ...(known ? { known } : {}),
          watch: { waitMs: Math.min(poll, WATCH_CAP_MS), pollIntervalMs: poll, output: step.output },
        });
        return { invocationId, ids, ...(finished ? { finished } : {}) };
      } catch (e) {
        const code =
          e instanceof wf.ActivityFailure && e.cause instanceof wf.ApplicationFailure
            ? e.cause.type
            : undefined;
        if (!code || !isAgentUnreachableCode(code)) throw e;
        const away = await this.waitAgentsBack(ids);
        if (away === undefined) throw e;
        for (const id of away) this.run.ledger.undeliverable(batch, step, id, code);
        ids = ids.filter((id) => !away.has(id));
      }
    }
    return undefined;
  }

  /**
   * Agents of `ids` that stay offline through the grace period (a tatd restart or a network blip
   * takes agents away for seconds); undefined when none was offline in the first place.
   */
  private async waitAgentsBack(ids: string[]): Promise<Set<string> | undefined> {
    const { opts } = this.run;
    const deadline = Date.now() + seconds(opts.offlineGraceSeconds, this.run.offlineGraceDefault);
    let first = true;
    for (;;) {
      const status = await this.run.short.agentStatus({ region: opts.region, instanceIds: ids });
      const away = new Set([...status.offline, ...status.unknown]);
      if (first && away.size === 0) return undefined;
      first = false;
      if (away.size === 0 || Date.now() >= deadline) return away;
      await wf.sleep(Math.min(2000, Math.max(1, deadline - Date.now())));
    }
  }
}
