// The run's accounting, and the one writer of per-target state: every change of a target's phase,
// outcome, task, rollback result or output excerpt goes through here, as do the error count, the
// budget held by targets in flight (strict budget) and the breach. Output excerpts are capped per
// run; the count lives in the state, so a chain of continued runs keeps to the same cap.

import type { TaskResult } from '../../activities/types.js';
import { admissible, isBreached } from './budget.js';
import { countsAsError, type OutcomeClass } from './outcome.js';
import { always, counts, type RunnableStep } from './steps.js';
import type { BatchState, RolloutOptions, RolloutState, TargetState } from './types.js';

/** Output excerpts kept in the run's state, in total (Temporal refuses payloads over ~2 MB). */
export const OUTPUT_BUDGET_BYTES = 256 * 1024;
const NOT_KEPT = '[output not kept: the run keeps 256 KiB of excerpts]';

export class Ledger {
  /** Targets with a counted task in flight, or admitted to one (strict budget). */
  private readonly busy = new Set<string>();

  constructor(
    private readonly state: RolloutState,
    private readonly opts: RolloutOptions,
    /** Called on every change that may let a waiting dispatcher go on. */
    private readonly changed: () => void,
  ) {}

  private t(id: string): TargetState {
    return this.state.targets[id]!;
  }

  // ---- the plan and the waves ----

  /** The planned targets and batches become the run's. */
  adopt(targets: Record<string, TargetState>): void {
    this.state.targets = targets;
  }

  /** Targets join a wave (window and ramp-up shapes) and hold budget before their invocation exists. */
  admitToWave(ids: string[], index: number): void {
    for (const id of ids) {
      this.t(id).batch = index;
      this.busy.add(id);
    }
  }

  begin(ids: string[]): void {
    for (const id of ids) this.t(id).phase = 'running';
  }

  /** The probe read the target's version; when the runbook says it needs nothing, it is done. */
  probed(id: string, version: string, alreadyDone: boolean): void {
    const t = this.t(id);
    t.version = version;
    if (alreadyDone)
      Object.assign(t, { phase: 'done', outcome: 'succeeded', reason: `already at ${version}` });
  }

  /** The end of a wave: targets that went through every step succeed; the rest wait or are done. */
  endWave(batch: BatchState, alive: string[]): void {
    for (const id of alive) {
      const t = this.t(id);
      if (t.phase === 'running') Object.assign(t, { phase: 'done', outcome: 'succeeded', step: undefined });
    }
    for (const id of batch.targets) {
      const t = this.t(id);
      if (t.phase === 'running') t.phase = t.outcome ? 'done' : 'pending';
    }
  }

  /** Targets never dispatched because the run stopped (or its maintenance window closed). */
  skipUndispatched(reason = 'not started: the run stopped before its batch'): void {
    for (const t of Object.values(this.state.targets))
      if (t.phase === 'pending') Object.assign(t, { phase: 'skipped', reason });
    for (const b of this.state.batches) if (b.status === 'pending') b.status = 'skipped';
  }

  // ---- dispatch and results ----

  /** A step is being dispatched to these targets. */
  entering(step: RunnableStep, ids: string[]): void {
    if (step.booksAs !== 'rollback') for (const id of ids) this.t(id).step = step.name;
  }

  /** An invocation of a step now runs on these targets. */
  invoked(step: RunnableStep, ids: string[], invocationId: string): void {
    if (counts(step)) for (const id of ids) this.busy.add(id);
    if (step.booksAs !== 'rollback' && step.booksAs !== 'health')
      for (const id of ids) this.t(id).invocationId = invocationId;
  }

  /** A task of a step ended. */
  result(batch: BatchState, step: RunnableStep, r: TaskResult): void {
    if (counts(step)) this.busy.delete(r.instanceId);
    const t = this.state.targets[r.instanceId];
    if (!t || step.booksAs === 'health') return;
    if (step.booksAs === 'rollback') {
      t.rollback = { status: r.status, outcome: r.outcome, exitCode: r.exitCode, ...this.keepOutput(r) };
      return;
    }
    if (step.changes && r.started) t.changed = true;
    this.taskOf(t, r);
    if (r.outcome === 'succeeded') return;
    this.fail(
      r.instanceId,
      r.outcome,
      r.error ?? `${step.name}: ${r.status}${r.exitCode !== null ? `, exit code ${r.exitCode}` : ''}`,
      step.name,
      r.output,
    );
    this.countError(batch, step, r.outcome);
  }

  /** The agent of a target stayed offline through the grace period when its step was invoked. */
  undeliverable(batch: BatchState, step: RunnableStep, id: string, code: string): void {
    if (always(step)) {
      this.t(id).rollback = {
        status: 'DELIVER_FAILED',
        outcome: 'undeliverable',
        exitCode: null,
        output: `agent offline: ${code}`,
      };
      return;
    }
    this.busy.delete(id);
    this.fail(id, 'undeliverable', `agent offline at dispatch (${code})`, step.name);
    this.countError(batch, step, 'undeliverable');
  }

  /** A target ended another way than its task (a reboot not seen, an agent that did not come back). */
  fail(id: string, outcome: OutcomeClass, reason: string, step: string, output?: string): void {
    const t = this.t(id);
    Object.assign(t, { phase: 'done', outcome, reason, step });
    if (output) Object.assign(t, this.keepOutput({ output }));
    this.changed();
  }

  /** The health check failed on these targets after its last retry: each counts as an error. */
  unhealthy(batch: BatchState, failing: string[], last: Map<string, TaskResult>): void {
    for (const id of failing) {
      const r = last.get(id);
      this.t(id).unhealthy = true;
      this.fail(
        id,
        'failed',
        `health check failed${r ? ` (${r.status}, exit ${r.exitCode})` : ''}`,
        'health',
        r?.output,
      );
      this.state.errors++;
    }
    if (isBreached(this.state.errors, this.state.maxErrors))
      this.breach(
        `health check failed on ${failing.join(', ')}: ${this.state.errors} failed > maxErrors ${this.state.maxErrors} in batch ${batch.index + 1}`,
      );
  }

  /**
   * Targets whose health check was never dispatched because the run stopped: not verified, so
   * neither succeeded nor failed; they end `cancelled` and count against nothing.
   */
  notChecked(ids: string[], why: string): void {
    for (const id of ids) this.fail(id, 'cancelled', `not health-checked: ${why}`, 'health');
  }

  /**
   * After the workflow was cancelled: what the cancelled invocations' tasks ended as, for the targets
   * still running; the rest of those still running end cancelled.
   */
  abandoned(results: TaskResult[], why: string): void {
    for (const res of results) {
      const t = this.state.targets[res.instanceId];
      if (!t || t.phase !== 'running') continue;
      if (res.started) t.changed = true;
      this.taskOf(t, res);
      this.fail(res.instanceId, res.outcome, `${why}: ${res.status}`, t.step ?? '', res.output);
    }
    for (const t of Object.values(this.state.targets))
      if (t.phase === 'running') Object.assign(t, { phase: 'done', outcome: 'cancelled', reason: why });
  }

  private taskOf(t: TargetState, r: TaskResult): void {
    Object.assign(t, {
      status: r.status,
      exitCode: r.exitCode,
      taskId: r.taskId,
      invocationId: r.invocationId,
    });
  }

  // ---- the budget ----

  private countError(batch: BatchState, step: RunnableStep, outcome: OutcomeClass): void {
    if (!counts(step) || !countsAsError(outcome, { countUndeliverable: this.opts.countUndeliverable }))
      return;
    this.state.errors++;
    if (isBreached(this.state.errors, this.state.maxErrors))
      this.breach(
        `error budget exceeded: ${this.state.errors} failed > maxErrors ${this.state.maxErrors} in batch ${batch.index + 1}`,
      );
  }

  /** How many more targets may start now (the strict budget counts those in flight). */
  admit(want: number): number {
    return admissible({
      want,
      inFlight: this.busy.size,
      errors: this.state.errors,
      maxErrors: this.state.maxErrors,
      strict: this.opts.strictBudget === true,
    });
  }

  /** Targets already admitted (and holding budget) go at once. */
  holdsBudget(id: string): boolean {
    return this.busy.has(id);
  }

  /** The first reason wins. */
  breach(reason: string): void {
    if (this.state.reason) return;
    this.state.reason = reason;
    this.changed();
  }

  /** Output excerpts up to the run's total budget. */
  private keepOutput(r: { output?: string }): { output?: string } {
    if (!r.output) return {};
    const used = this.state.outputBytes ?? 0;
    if (used + r.output.length > OUTPUT_BUDGET_BYTES) return { output: NOT_KEPT };
    this.state.outputBytes = used + r.output.length;
    return { output: r.output };
  }
}
