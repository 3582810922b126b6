// Dispatching one step over targets: its saved command (made once per run and step), then
// invocations of at most 100 targets within the error budget, each under a key that makes a
// retried activity find the invocation it already made; results come from the run's one poller.

import * as wf from '@temporalio/workflow';
import type { TaskResult } from '../../activities/types.js';
import { isAgentUnreachableCode } from '../../tat/agent-reachability.js';
import { seconds, type RunContext } from './context.js';
import { chunk } from './plan.js';
import { always, counts, type RunnableStep } from './steps.js';
import type { BatchState } from './types.js';

export class Dispatcher {
  /** Invocations of the rollback: never cancelled. */
  readonly rollbackInvocations = new Set<string>();

  constructor(private readonly run: RunContext) {}

  /** Runs `step` on `targets`; resolves with each target's result once every invocation is settled. */
  async runStep(
    batch: BatchState,
    step: RunnableStep,
    targets: string[],
    parameters?: Record<string, string>,
    attempt = 0,
  ): Promise<Map<string, TaskResult>> {
    const { ledger, tracker, state } = this.run;
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
    let chunkNo = 0;
    const prefix = `${state.shapeKind === 'batches' ? 'b' : 'w'}${batch.index}`;
    for (;;) {
      const blocked = !always(step) && this.run.stopped();
      if (blocked) queue.length = 0;
      // Targets the window already admitted (and reserved) go at once; the rest wait for the budget.
      const reserved = queue.filter((id) => ledger.holdsBudget(id)).length;
      const n =
        always(step) || !counts(step) ? queue.length : reserved + ledger.admit(queue.length - reserved);
      for (const planned of chunk(queue.splice(0, Math.max(0, n)))) {
        const key = `${prefix}.${step.key}.c${chunkNo++}.a${attempt}`;
        ledger.entering(step, planned);
        const invoked = await this.invoke(batch, step, commandId, planned, key, parameters);
        if (!invoked) continue;
        const { invocationId, ids } = invoked;
        ledger.invoked(step, ids, invocationId);
        if (always(step)) this.rollbackInvocations.add(invocationId);
        mine.push(invocationId);
        tracker.watch(invocationId, ids.length, step.output);
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
    const { commandId } = await this.run.acts.calls.prepareStep({
      region: opts.region,
      runId: this.run.runId,
      step: step.key,
      command: step.command,
    });
    state.commands[step.key] = commandId;
    return commandId;
  }

  /**
   * invokeChunk; when TAT refuses the call because some agents are offline (real TAT checks at the
   * call), those targets end undeliverable and the rest are invoked under a derived key.
   */
  private async invoke(
    batch: BatchState,
    step: RunnableStep,
    commandId: string,
    planned: string[],
    key: string,
    parameters?: Record<string, string>,
  ): Promise<{ invocationId: string; ids: string[] } | undefined> {
    let ids = planned;
    for (let retry = 0; ids.length > 0; retry++) {
      try {
        const { invocationId } = await this.run.acts.calls.invokeChunk({
          region: this.run.opts.region,
          commandId,
          instanceIds: ids,
          key: retry === 0 ? key : `${key}.r${retry}`,
          ...(parameters ? { parameters } : {}),
        });
        return { invocationId, ids };
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
    const { acts, opts } = this.run;
    const deadline = Date.now() + seconds(opts.offlineGraceSeconds, this.run.offlineGraceDefault);
    let first = true;
    for (;;) {
      const status = await acts.calls.agentStatus({ region: opts.region, instanceIds: ids });
      const away = new Set([...status.offline, ...status.unknown]);
      if (first && away.size === 0) return undefined;
      first = false;
      if (away.size === 0 || Date.now() >= deadline) return away;
      await wf.sleep(Math.min(2000, Math.max(1, deadline - Date.now())));
    }
  }
}
