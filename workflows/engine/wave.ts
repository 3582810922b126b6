// One batch (or, in window shapes, one wave of admitted targets) through the runbook's pipeline:
// the probe, the steps in order (a target that does not succeed a step stops there), a reboot's
// wait for the agent, the bake time, the health check with its retries; then the batch's verdict.

import type { TaskResult } from '../../activities/types.js';
import { now, seconds, type RunContext } from './context.js';
import type { Dispatcher } from './dispatch.js';
import type { Gates } from './gates.js';
import { isUnsuccessful } from './outcome.js';
import type { RunnableStep, RunnableSteps } from './steps.js';
import type { BatchState, RunbookDefinition, TargetStep } from './types.js';

/**
 * The probe read `version`: does the target need nothing? The definition says so as data
 * (`{ probeReads }`); runs begun before definitions were data may hold a function.
 */
function alreadyDone(def: RunbookDefinition, version: string): boolean {
  const a = def.alreadyDone as unknown;
  if (typeof a === 'function') return (a as (v: string) => boolean)(version) === true;
  return !!a && (a as { probeReads?: unknown }).probeReads === version;
}

export class WaveRunner {
  constructor(
    private readonly run: RunContext,
    private readonly steps: RunnableSteps,
    private readonly dispatcher: Dispatcher,
    private readonly gates: Gates,
  ) {}

  async runWave(batch: BatchState): Promise<void> {
    const { state, ledger, opts } = this.run;
    batch.status = 'running';
    batch.startedAt = now();
    let alive = batch.targets;
    ledger.begin(alive);
    if (this.steps.probe) alive = await this.probe(batch, this.steps.probe, alive);
    for (const { declared, step } of this.steps.steps) {
      if (alive.length === 0) break;
      alive = await this.runTargetStep(batch, declared, step, alive);
    }
    if (this.run.truthful && alive.length > 0 && this.run.stopped()) {
      // Stopped before the health check (a breach, an abort): the targets are not verified.
      if (this.steps.health) alive = this.notChecked(alive, alive);
    } else if (alive.length > 0 && !state.aborted) {
      if (opts.bakeSeconds) await this.run.wait(opts.bakeSeconds * 1000);
      if (this.steps.health) alive = await this.healthCheck(batch, this.steps.health, alive);
    }
    ledger.endWave(batch, alive);
    const results = batch.targets.map((id) => state.targets[id]!);
    const tried = results.filter((t) => t.outcome);
    if (tried.length > 0 && tried.every((t) => isUnsuccessful(t.outcome!)))
      ledger.breach(`every target of batch ${batch.index + 1} failed (${tried.length} of ${tried.length})`);
    const healthy =
      !state.reason &&
      !state.aborted &&
      results.every((t) => t.phase === 'done' && t.outcome === 'succeeded');
    // A label only (no decision reads it): a batch whose started targets all ended cancelled was
    // not a failure.
    batch.status = healthy
      ? 'healthy'
      : tried.length === 0
        ? 'skipped'
        : tried.every((t) => t.outcome === 'cancelled')
          ? 'cancelled'
          : 'failed';
    batch.endedAt = now();
    if (healthy) this.gates.resetProgressDeadline();
    this.run.changed();
  }

  private async runTargetStep(
    batch: BatchState,
    declared: TargetStep,
    step: RunnableStep,
    targets: string[],
  ): Promise<string[]> {
    const results = await this.dispatcher.runStep(
      batch,
      step,
      targets,
      declared.kind === 'command' ? declared.parameters : undefined,
    );
    let ok = targets.filter((id) => results.get(id)?.outcome === 'succeeded');
    if (declared.kind === 'reboot' && ok.length > 0) ok = await this.waitReboot(declared, ok, results);
    return ok;
  }

  /** Runs the probe; its trimmed standard output becomes each target's `version`. */
  private async probe(batch: BatchState, step: RunnableStep, targets: string[]): Promise<string[]> {
    const results = await this.dispatcher.runStep(batch, step, targets);
    const ok: string[] = [];
    for (const id of targets) {
      const r = results.get(id);
      if (r?.outcome !== 'succeeded') continue;
      const version = (r.output ?? '').trim();
      const done = alreadyDone(this.run.def, version);
      this.run.ledger.probed(id, version, done);
      if (!done) ok.push(id);
    }
    return ok;
  }

  private async waitReboot(
    step: Extract<TargetStep, { kind: 'reboot' }>,
    targets: string[],
    results: Map<string, TaskResult>,
  ): Promise<string[]> {
    const { acts, opts, ledger } = this.run;
    // A reboot command may decide a reboot is not needed and say so on its output.
    const rebooting = targets.filter((id) => !(results.get(id)?.output ?? '').includes('tatflow:no-reboot'));
    if (rebooting.length === 0) return targets;
    const r = await acts.polling.waitReboot({
      region: opts.region,
      instanceIds: rebooting,
      offlineWithinMs: seconds(step.offlineWithinSeconds, 120),
      onlineWithinMs: seconds(step.onlineWithinSeconds, 600),
      pollIntervalMs: Math.min(opts.pollIntervalMs ?? 1000, 1000),
    });
    const bad = new Map<string, string>([
      ...r.notRebooted.map((id) => [id, 'the agent never went offline: no reboot seen'] as const),
      ...r.notBack.map((id) => [id, 'the agent did not come back online after the reboot'] as const),
    ]);
    for (const [id, reason] of bad) ledger.fail(id, 'agent lost', reason, step.name);
    return targets.filter((id) => !bad.has(id));
  }

  private async healthCheck(batch: BatchState, step: RunnableStep, targets: string[]): Promise<string[]> {
    const hc = this.run.def.healthCheck!;
    const on = hc.onInstance ? [hc.onInstance] : targets;
    const truthful = this.run.truthful;
    let failing = on;
    let last = new Map<string, TaskResult>();
    /** Every check's last result per target (truthful runs: a target never checked is not failed). */
    const seen = new Map<string, TaskResult>();
    for (let attempt = 0; attempt <= (hc.retries ?? 0) && failing.length > 0; attempt++) {
      if (truthful && this.run.stopped()) break;
      if (attempt > 0) await this.run.wait(seconds(hc.intervalSeconds, 10));
      if (truthful && this.run.stopped()) break;
      if (this.run.state.aborted) return targets; // not verified, like a target aborted before its check
      last = await this.dispatcher.runStep(batch, step, failing);
      for (const [id, r] of last) seen.set(id, r);
      failing = failing.filter((id) => last.get(id)?.outcome !== 'succeeded');
    }
    if (failing.length === 0) return targets;
    if (truthful) {
      // A stop (breach, abort) kept the check from running on some: those are not checked; a
      // target whose last check ran and failed is unhealthy.
      if (hc.onInstance && !seen.has(hc.onInstance)) return this.notChecked(targets, targets);
      const unchecked = failing.filter((id) => !seen.has(id));
      if (unchecked.length > 0) targets = this.notChecked(targets, unchecked);
      failing = failing.filter((id) => seen.has(id));
      last = new Map([...failing].map((id) => [id, seen.get(id)!]));
      if (failing.length === 0) return targets;
    }
    if (hc.onInstance) {
      const r = last.get(hc.onInstance);
      this.run.ledger.breach(
        `health check failed on ${hc.onInstance} after batch ${batch.index + 1}${r ? ` (${r.status})` : ''}`,
      );
      return [];
    }
    this.run.ledger.unhealthy(batch, failing, last);
    return targets.filter((id) => !failing.includes(id));
  }

  /** `unchecked` end `cancelled` (not health-checked: the run stopped); the rest of `targets` go on. */
  private notChecked(targets: string[], unchecked: string[]): string[] {
    const s = this.run.state;
    const why = s.aborted ? `aborted by ${s.aborted.by}` : `the run stopped (${s.reason ?? 'stopped'})`;
    this.run.ledger.notChecked(unchecked, why);
    return targets.filter((id) => !unchecked.includes(id));
  }
}
