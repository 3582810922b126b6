// The rollout engine every runbook runs on (runbooks.md): plan, batches or a window, the error
// budget, health checks, gates, pause/resume/abort, rollback, clean-up, continue-as-new.

import * as wf from '@temporalio/workflow';
import type { OutputCapture, TaskResult } from '../../activities/types.js';
import { admissible, isBreached, resolveMaxErrors } from './budget.js';
import { engineActivities, type Activities } from './activities.js';
import { attachHandlers, type Control } from './control.js';
import { countsAsError, isUnsuccessful, type OutcomeClass } from './outcome.js';
import {
  chunk,
  DEFAULT_SHAPE,
  parseSize,
  planBatches,
  rampUpLimit,
  resolveConcurrency,
  type Shape,
} from './plan.js';
import { TaskTracker } from './tracker.js';
import type {
  BatchState,
  CommandSpec,
  RolloutOptions,
  RolloutState,
  RunbookDefinition,
  RunbookInput,
  TargetState,
  TargetStep,
} from './types.js';

/** InvokeCommand refusals about some instances of the call (the agent is not there). */
const UNREACHABLE_CODES = new Set([
  'ResourceUnavailable.AgentStatusNotOnline',
  'ResourceUnavailable.AgentNotInstalled',
  'ResourceUnavailable.InstanceStateNotRunning',
]);
/** Output excerpts kept in the run's state, in total (Temporal refuses payloads over ~2 MB). */
const OUTPUT_BUDGET_BYTES = 256 * 1024;

const now = () => new Date().toISOString();
const seconds = (s: number | undefined, dflt: number) => (s ?? dflt) * 1000;

/** A step as the engine runs it: a runbook step, the probe, the health check or the rollback. */
interface RunnableStep {
  key: string;
  command: CommandSpec;
  changes: boolean;
  output: OutputCapture;
  /** Count the targets' errors against the budget as results arrive. */
  counts: boolean;
  /** Dispatch even after a breach or an abort (rollback). */
  always: boolean;
}

export class Rollout {
  readonly state: RolloutState;
  private readonly acts: Activities = engineActivities();
  private readonly tracker: TaskTracker;
  private readonly control: Control;
  private outputBytes = 0;
  /** Stable across continue-as-new, unique per run: names the run's saved commands. */
  private readonly runId = wf.workflowInfo().firstExecutionRunId;
  /** Invocations CancelInvocation was sent for, and the rollback's (never cancelled). */
  private readonly cancelSent = new Set<string>();
  private readonly rollbackInvocations = new Set<string>();
  private ended = false;
  /** Cancellations under way (the abort watcher's and the clean-up's). */
  private readonly cancels: Promise<void>[] = [];
  /** Bumped on every change that may let a waiting dispatcher go on. */
  private tick = 0;
  /** Targets with a counted task in flight (strict budget). */
  private readonly busy = new Set<string>();

  constructor(
    private readonly def: RunbookDefinition,
    private readonly input: RunbookInput,
  ) {
    this.state = input.resume ?? {
      status: 'planning',
      shapeKind: (input.rollout.shape ?? DEFAULT_SHAPE).kind,
      batches: [],
      targets: {},
      currentBatch: 0,
      errors: 0,
      maxErrors: 0,
      decisions: [],
      commands: {},
      startedAt: now(),
      generation: 0,
      nextWave: 0,
    };
    this.tracker = new TaskTracker(
      this.acts,
      this.opts.region,
      this.opts.pollIntervalMs ?? 1000,
      () => this.tick++,
    );
    this.control = attachHandlers(this.state, () => this.tick++);
  }

  private get opts(): RolloutOptions {
    return this.input.rollout;
  }

  /** Runs the rollout to its end; throws a non-retryable failure naming the reason when it fails. */
  async run(): Promise<RolloutState> {
    const polling = this.tracker.run();
    const aborting = this.cancelOnAbort();
    let cancelled: unknown;
    let continued = false;
    let failed = false;
    try {
      if (this.state.status === 'planning') await this.plan();
      if (!this.stopped()) {
        this.state.status = this.state.paused ? 'paused' : 'running';
        continued = await (this.state.shapeKind === 'batches' ? this.runBatches() : this.runWindow());
      }
    } catch (e) {
      if (wf.isCancellation(e)) {
        cancelled = e;
        this.state.aborted ??= { by: 'workflow cancellation', at: now() };
      } else if (e instanceof wf.ActivityFailure || e instanceof wf.ApplicationFailure) {
        // A call the TAT API refuses for good (quota, a conflict): stop like a breach, clean up.
        failed = true;
        this.breach(`${e.cause?.message ?? e.message}`);
      } else throw e; // a bug: fail the workflow task, so a fixed worker can resume the run
    }
    try {
      await wf.CancellationScope.nonCancellable(async () => {
        if (continued) return;
        if (cancelled || failed) await this.cancelAbandoned(cancelled ? 'aborted' : 'stopped by a failure');
        if ((this.state.aborted || this.state.reason) && this.def.rollback) await this.rollback();
        await this.cleanUp();
      });
    } finally {
      this.ended = true;
      this.tracker.stop();
      await Promise.all([polling, aborting]);
    }
    if (continued) {
      await wf.condition(wf.allHandlersFinished);
      const next: RunbookInput = {
        ...this.input,
        resume: { ...this.state, generation: this.state.generation + 1 },
      };
      await wf.continueAsNew<(i: RunbookInput) => Promise<RolloutState>>(next);
    }
    return this.finish(cancelled);
  }

  // ---- plan ----

  private async plan(): Promise<void> {
    const o = this.opts;
    checkOptions(o);
    const ids = await this.acts.calls.resolveTargets({ region: o.region, selector: o.targets });
    if (ids.length === 0)
      throw wf.ApplicationFailure.nonRetryable('no targets: the selector matched no instance', 'NoTargets');
    const status = await this.acts.calls.agentStatus({ region: o.region, instanceIds: ids });
    const away = new Set([...status.offline, ...status.unknown]);
    if (away.size > 0 && o.offline === 'refuse')
      throw wf.ApplicationFailure.nonRetryable(
        `agents offline or unknown: ${[...away].join(', ')} (run with offline targets skipped, or bring them online)`,
        'TargetsOffline',
      );
    const live = ids.filter((id) => !away.has(id));
    for (const id of ids)
      this.state.targets[id] = away.has(id)
        ? {
            id,
            batch: -1,
            phase: 'skipped',
            reason: status.unknown.includes(id) ? 'unknown instance' : 'agent offline',
          }
        : { id, batch: -1, phase: 'pending' };
    this.state.maxErrors = resolveMaxErrors(o.maxErrors ?? 0, ids.length);
    const shape = o.shape ?? DEFAULT_SHAPE;
    if (shape.kind === 'batches') {
      this.state.batches = planBatches(live, shape.batches, ids.length).map((targets, index) => {
        for (const t of targets) this.state.targets[t]!.batch = index;
        return { index, targets, status: 'pending' };
      });
    } else if (o.approval?.everyBatch) {
      throw wf.ApplicationFailure.nonRetryable(
        'approval before every batch needs the batches shape',
        'BadOptions',
      );
    }
    if (o.progressDeadlineSeconds) this.resetProgressDeadline();
  }

  // ---- batches ----

  /** Returns true when the run should continue as new (history too long). */
  private async runBatches(): Promise<boolean> {
    const approval = this.opts.approval ?? {};
    const deadline = this.watchProgressDeadline();
    try {
      for (; this.state.currentBatch < this.state.batches.length; this.state.currentBatch++) {
        const batch = this.state.batches[this.state.currentBatch]!;
        if (batch.status !== 'pending') continue;
        const k = batch.index;
        if (this.historyTooLong()) return true;
        if ((k === 0 && approval.beforeStart) || approval.everyBatch || (k === 1 && approval.afterCanary))
          await this.gate(
            k === 0
              ? 'before start'
              : k === 1 && approval.afterCanary
                ? 'after canary'
                : `before batch ${k + 1}`,
          );
        await this.holdWhilePaused();
        if (this.stopped()) break;
        await this.runWave(batch);
        if (this.stopped()) break;
      }
    } finally {
      deadline.cancel();
    }
    this.skipUndispatched();
    return false;
  }

  // ---- window and ramp-up ----

  private async runWindow(): Promise<boolean> {
    const shape = (this.opts.shape ?? DEFAULT_SHAPE) as Extract<Shape, { kind: 'window' | 'rampUp' }>;
    const all = Object.values(this.state.targets);
    const ceiling = resolveConcurrency(shape.maxConcurrency, all.length);
    const approval = this.opts.approval ?? {};
    const limit = () => {
      if (shape.kind === 'window') return ceiling;
      const ok = all.filter((t) => t.outcome === 'succeeded').length;
      return rampUpLimit(Math.floor(Math.log2(ok + 1)), ceiling);
    };
    const running = () => all.filter((t) => t.phase === 'running').length;
    const deadline = this.watchProgressDeadline();
    const waves: Promise<void>[] = [];
    let continueAsNew = false;
    try {
      if (approval.beforeStart && this.state.nextWave === 0) await this.gate('before start');
      for (;;) {
        const queue = all.filter((t) => t.phase === 'pending');
        if (queue.length === 0 || this.stopped()) break;
        if (this.historyTooLong()) {
          continueAsNew = true;
          break;
        }
        const seen = this.tick;
        const want = Math.min(queue.length, limit() - running());
        const n = this.admit(want);
        if (n <= 0 || this.state.paused) {
          await wf.condition(() => this.tick !== seen);
          continue;
        }
        const index = this.state.nextWave++;
        const batch: BatchState = { index, targets: queue.slice(0, n).map((t) => t.id), status: 'pending' };
        for (const id of batch.targets) {
          this.state.targets[id]!.batch = index;
          this.busy.add(id); // admitted now: counts as in flight before its invocation exists
        }
        this.state.batches.push(batch);
        this.state.currentBatch = index;
        const wave = this.runWave(batch);
        waves.push(wave);
        if (index === 0 && approval.afterCanary) {
          await wave;
          if (!this.stopped()) await this.gate('after canary');
        }
      }
      await Promise.all(waves);
    } finally {
      deadline.cancel();
    }
    if (!continueAsNew) this.skipUndispatched();
    return continueAsNew;
  }

  // ---- one batch (or wave): probe, steps, bake, health check ----

  private async runWave(batch: BatchState): Promise<void> {
    batch.status = 'running';
    batch.startedAt = now();
    let alive = batch.targets;
    for (const id of alive) this.state.targets[id]!.phase = 'running';
    if (this.def.probe) alive = await this.probe(batch, alive);
    for (const step of this.def.steps) {
      if (alive.length === 0) break;
      alive = await this.runTargetStep(batch, step, alive);
    }
    if (alive.length > 0 && !this.state.aborted) {
      if (this.opts.bakeSeconds) await wf.sleep(this.opts.bakeSeconds * 1000);
      if (this.def.healthCheck) alive = await this.healthCheck(batch, alive);
    }
    for (const id of alive) {
      const t = this.state.targets[id]!;
      if (t.phase === 'running') Object.assign(t, { phase: 'done', outcome: 'succeeded', step: undefined });
    }
    for (const id of batch.targets) {
      const t = this.state.targets[id]!;
      if (t.phase === 'running') t.phase = t.outcome ? 'done' : 'pending';
    }
    const results = batch.targets.map((id) => this.state.targets[id]!);
    const tried = results.filter((t) => t.outcome);
    if (tried.length > 0 && tried.every((t) => isUnsuccessful(t.outcome!)))
      this.breach(`every target of batch ${batch.index + 1} failed (${tried.length} of ${tried.length})`);
    const healthy =
      !this.state.reason &&
      !this.state.aborted &&
      results.every((t) => t.phase === 'done' && t.outcome === 'succeeded');
    batch.status = healthy ? 'healthy' : results.some((t) => t.outcome) ? 'failed' : 'skipped';
    batch.endedAt = now();
    if (healthy) this.resetProgressDeadline();
    this.tick++;
  }

  private async runTargetStep(batch: BatchState, step: TargetStep, targets: string[]): Promise<string[]> {
    const results = await this.runStep(
      batch,
      {
        key: step.name,
        command: step.command,
        changes: step.kind === 'reboot' || step.changes !== false,
        output: step.kind === 'reboot' ? 'all' : 'failures',
        counts: true,
        always: false,
      },
      targets,
      step.kind === 'command' ? step.parameters : undefined,
    );
    let ok = targets.filter((id) => results.get(id)?.outcome === 'succeeded');
    if (step.kind === 'reboot' && ok.length > 0) ok = await this.waitReboot(step, ok, results);
    return ok;
  }

  /** Runs the probe; its trimmed standard output becomes each target's `version`. */
  private async probe(batch: BatchState, targets: string[]): Promise<string[]> {
    const results = await this.runStep(
      batch,
      { key: 'probe', command: this.def.probe!, changes: false, output: 'all', counts: true, always: false },
      targets,
    );
    const ok: string[] = [];
    for (const id of targets) {
      const r = results.get(id);
      if (r?.outcome !== 'succeeded') continue;
      const t = this.state.targets[id]!;
      t.version = (r.output ?? '').trim();
      if (this.def.alreadyDone?.(t.version))
        Object.assign(t, { phase: 'done', outcome: 'succeeded', reason: `already at ${t.version}` });
      else ok.push(id);
    }
    return ok;
  }

  private async waitReboot(
    step: Extract<TargetStep, { kind: 'reboot' }>,
    targets: string[],
    results: Map<string, TaskResult>,
  ): Promise<string[]> {
    // A reboot command may decide a reboot is not needed and say so on its output.
    const rebooting = targets.filter((id) => !(results.get(id)?.output ?? '').includes('tatflow:no-reboot'));
    if (rebooting.length === 0) return targets;
    const r = await this.acts.polling.waitReboot({
      region: this.opts.region,
      instanceIds: rebooting,
      offlineWithinMs: seconds(step.offlineWithinSeconds, 120),
      onlineWithinMs: seconds(step.onlineWithinSeconds, 600),
      pollIntervalMs: Math.min(this.opts.pollIntervalMs ?? 1000, 1000),
    });
    const bad = new Map<string, string>([
      ...r.notRebooted.map((id) => [id, 'the agent never went offline: no reboot seen'] as const),
      ...r.notBack.map((id) => [id, 'the agent did not come back online after the reboot'] as const),
    ]);
    for (const [id, reason] of bad) this.fail(id, 'agent lost', reason, step.name);
    return targets.filter((id) => !bad.has(id));
  }

  private async healthCheck(batch: BatchState, targets: string[]): Promise<string[]> {
    const hc = this.def.healthCheck!;
    const on = hc.onInstance ? [hc.onInstance] : targets;
    let failing = on;
    const step: RunnableStep = {
      key: 'health',
      command: hc.command,
      changes: false,
      output: 'failures',
      counts: false,
      always: false,
    };
    let last = new Map<string, TaskResult>();
    for (let attempt = 0; attempt <= (hc.retries ?? 0) && failing.length > 0; attempt++) {
      if (attempt > 0) await wf.sleep(seconds(hc.intervalSeconds, 10));
      if (this.state.aborted) return targets; // not verified, like a target aborted before its check
      last = await this.runStep(batch, step, failing, undefined, attempt);
      failing = failing.filter((id) => last.get(id)?.outcome !== 'succeeded');
    }
    if (failing.length === 0) return targets;
    if (hc.onInstance) {
      const r = last.get(hc.onInstance);
      this.breach(
        `health check failed on ${hc.onInstance} after batch ${batch.index + 1}${r ? ` (${r.status})` : ''}`,
      );
      return [];
    }
    for (const id of failing) {
      const r = last.get(id);
      const t = this.state.targets[id]!;
      t.unhealthy = true;
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
    return targets.filter((id) => !failing.includes(id));
  }

  // ---- dispatching one step over targets, in chunks, within the budget ----

  private async runStep(
    batch: BatchState,
    step: RunnableStep,
    targets: string[],
    parameters?: Record<string, string>,
    attempt = 0,
  ): Promise<Map<string, TaskResult>> {
    const commandId = await this.command(step.key, step.command);
    const queue = [...targets];
    const mine: string[] = [];
    const out = new Map<string, TaskResult>();
    /** Takes in the results that arrived for this step's invocations since the last look. */
    const collect = () => {
      for (const inv of mine)
        for (const r of this.tracker.results(inv)) {
          if (out.has(r.instanceId)) continue;
          out.set(r.instanceId, r);
          this.onStepResult(batch, step, r);
        }
    };
    let chunkNo = 0;
    const prefix = `${this.state.shapeKind === 'batches' ? 'b' : 'w'}${batch.index}`;
    for (;;) {
      const blocked = !step.always && this.stopped();
      if (blocked) queue.length = 0;
      // Targets the window already admitted (and reserved) go at once; the rest wait for the budget.
      const reserved = queue.filter((id) => this.busy.has(id)).length;
      const n = step.always || !step.counts ? queue.length : reserved + this.admit(queue.length - reserved);
      for (const planned of chunk(queue.splice(0, Math.max(0, n)))) {
        const key = `${prefix}.${step.key}.c${chunkNo++}.a${attempt}`;
        if (step.key !== 'rollback') for (const id of planned) this.state.targets[id]!.step = step.key;
        const invoked = await this.invoke(batch, step, commandId, planned, key, parameters);
        if (!invoked) continue;
        const { invocationId, ids } = invoked;
        if (step.counts) for (const id of ids) this.busy.add(id);
        if (step.always) this.rollbackInvocations.add(invocationId);
        mine.push(invocationId);
        this.tracker.watch(invocationId, ids.length, step.output);
        if (step.key !== 'rollback' && step.key !== 'health')
          for (const id of ids) this.state.targets[id]!.invocationId = invocationId;
      }
      const open = mine.filter((id) => !this.tracker.settled(id));
      if (open.length === 0 && queue.length === 0) break;
      const seen = this.tick;
      await wf.condition(() => this.tick !== seen);
      collect();
    }
    collect();
    return out;
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
        const { invocationId } = await this.acts.calls.invokeChunk({
          region: this.opts.region,
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
        if (!code || !UNREACHABLE_CODES.has(code)) throw e;
        const away = await this.waitAgentsBack(ids);
        if (away === undefined) throw e;
        for (const id of away) {
          if (step.always) {
            const t = this.state.targets[id]!;
            t.rollback = {
              status: 'DELIVER_FAILED',
              outcome: 'undeliverable',
              exitCode: null,
              output: `agent offline: ${code}`,
            };
            continue;
          }
          this.busy.delete(id);
          this.fail(id, 'undeliverable', `agent offline at dispatch (${code})`, step.key);
          this.countError(batch, step, 'undeliverable');
        }
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
    const deadline = Date.now() + seconds(this.opts.offlineGraceSeconds, 60);
    let first = true;
    for (;;) {
      const status = await this.acts.calls.agentStatus({ region: this.opts.region, instanceIds: ids });
      const away = new Set([...status.offline, ...status.unknown]);
      if (first && away.size === 0) return undefined;
      first = false;
      if (away.size === 0 || Date.now() >= deadline) return away;
      await wf.sleep(Math.min(2000, Math.max(1, deadline - Date.now())));
    }
  }

  private countError(batch: BatchState, step: RunnableStep, outcome: OutcomeClass): void {
    if (!step.counts || !countsAsError(outcome, { countUndeliverable: this.opts.countUndeliverable })) return;
    this.state.errors++;
    if (isBreached(this.state.errors, this.state.maxErrors))
      this.breach(
        `error budget exceeded: ${this.state.errors} failed > maxErrors ${this.state.maxErrors} in batch ${batch.index + 1}`,
      );
  }

  private onStepResult(batch: BatchState, step: RunnableStep, r: TaskResult): void {
    if (step.counts) this.busy.delete(r.instanceId);
    const t = this.state.targets[r.instanceId];
    if (!t || step.key === 'health') return;
    if (step.key === 'rollback') {
      t.rollback = { status: r.status, outcome: r.outcome, exitCode: r.exitCode, ...this.keepOutput(r) };
      return;
    }
    if (step.changes && r.started) t.changed = true;
    Object.assign(t, {
      status: r.status,
      exitCode: r.exitCode,
      taskId: r.taskId,
      invocationId: r.invocationId,
    });
    if (r.outcome === 'succeeded') return;
    this.fail(
      r.instanceId,
      r.outcome,
      r.error ?? `${step.key}: ${r.status}${r.exitCode !== null ? `, exit code ${r.exitCode}` : ''}`,
      step.key,
      r.output,
    );
    this.countError(batch, step, r.outcome);
  }

  private fail(id: string, outcome: OutcomeClass, reason: string, step: string, output?: string): void {
    const t = this.state.targets[id]!;
    Object.assign(t, { phase: 'done', outcome, reason, step });
    if (output) Object.assign(t, this.keepOutput({ output }));
    this.tick++;
  }

  /** Output excerpts up to the run's total budget. */
  private keepOutput(r: { output?: string }): { output?: string } {
    if (!r.output) return {};
    if (this.outputBytes + r.output.length > OUTPUT_BUDGET_BYTES)
      return { output: '[output not kept: the run keeps 256 KiB of excerpts]' };
    this.outputBytes += r.output.length;
    return { output: r.output };
  }

  private admit(want: number): number {
    return admissible({
      want,
      inFlight: this.busy.size,
      errors: this.state.errors,
      maxErrors: this.state.maxErrors,
      strict: this.opts.strictBudget === true,
    });
  }

  /** The run's saved command for a step: made once per (run, step), found again after a retry. */
  private async command(key: string, command: CommandSpec): Promise<string> {
    const known = this.state.commands[key];
    if (known) return known;
    const { commandId } = await this.acts.calls.prepareStep({
      region: this.opts.region,
      runId: this.runId,
      step: key,
      command,
    });
    this.state.commands[key] = commandId;
    return commandId;
  }

  // ---- gates, pause, breach, abort ----

  private async gate(name: string): Promise<void> {
    const a = this.opts.approval ?? {};
    const timeoutMs = seconds(a.timeoutSeconds, 24 * 3600);
    this.state.gate = { name, since: now(), timeoutAt: new Date(Date.now() + timeoutMs).toISOString() };
    const before = this.state.status;
    this.state.status = 'waiting for approval';
    const decided = await this.control.awaitDecision(timeoutMs);
    this.state.gate = undefined;
    this.state.status = before;
    if (decided) return;
    if (this.state.aborted) return;
    if (a.onTimeout === 'continue') {
      this.state.decisions.push({
        gate: name,
        approved: true,
        by: 'timeout',
        comment: 'gate timed out; on-timeout is continue',
        at: now(),
      });
      return;
    }
    this.breach(`approval timed out at gate "${name}"`);
  }

  private async holdWhilePaused(): Promise<void> {
    if (!this.state.paused) return;
    this.state.status = 'paused';
    await wf.condition(() => !this.state.paused || !!this.state.aborted);
    this.state.status = 'running';
  }

  private breach(reason: string): void {
    if (this.state.reason) return;
    this.state.reason = reason;
    this.tick++;
  }

  private stopped(): boolean {
    return !!this.state.reason || !!this.state.aborted;
  }

  private historyTooLong(): boolean {
    const info = wf.workflowInfo();
    const limit = this.opts.historyEventLimit ?? 10_000;
    return info.continueAsNewSuggested || info.historyLength > limit;
  }

  private resetProgressDeadline(): void {
    const s = this.opts.progressDeadlineSeconds;
    if (s) this.state.progressDeadlineAt = new Date(Date.now() + s * 1000).toISOString();
  }

  /** Breaches when no batch turned healthy before the deadline; the deadline moves on each healthy batch. */
  private watchProgressDeadline(): wf.CancellationScope {
    const scope = new wf.CancellationScope();
    const s = this.opts.progressDeadlineSeconds;
    if (!s) return scope;
    scope
      .run(async () => {
        for (;;) {
          const at = this.state.progressDeadlineAt!;
          const moved = await wf.condition(
            () => this.state.progressDeadlineAt !== at || this.stopped(),
            Math.max(1, Date.parse(at) - Date.now()),
          );
          if (this.stopped()) return;
          if (!moved) {
            this.breach(`progress deadline of ${s} s passed without a healthy batch`);
            return;
          }
        }
      })
      .catch((e: unknown) => {
        if (!wf.isCancellation(e)) throw e;
      });
    return scope;
  }

  /** Targets never dispatched because the run stopped. */
  private skipUndispatched(): void {
    for (const t of Object.values(this.state.targets))
      if (t.phase === 'pending')
        Object.assign(t, { phase: 'skipped', reason: 'not started: the run stopped before its batch' });
    for (const b of this.state.batches) if (b.status === 'pending') b.status = 'skipped';
  }

  /** On abort: cancel every invocation in flight, and each one made later (an invoke that was under way). */
  private cancelOnAbort(): Promise<void> {
    const cancellable = () =>
      this.tracker.open().filter((id) => !this.cancelSent.has(id) && !this.rollbackInvocations.has(id));
    return wf.CancellationScope.nonCancellable(async () => {
      for (;;) {
        await wf.condition(() => this.ended || (!!this.state.aborted && cancellable().length > 0));
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
    for (const id of ids) this.cancelSent.add(id);
    const r = await this.acts.polling.cancelInvocations({
      region: this.opts.region,
      invocationIds: ids,
      waitMs: 5 * 60_000,
      pollIntervalMs: this.opts.pollIntervalMs ?? 1000,
    });
    this.tracker.absorb(r.results);
    if (!r.settled) this.state.reason ??= 'aborted, but some remote processes did not stop within 5 minutes';
  }

  /**
   * After the workflow was cancelled: its batches were abandoned mid-way, so cancel what it recorded
   * and what it can look up (an invocation whose answer never came back), and record the ends here.
   */
  private async cancelAbandoned(why: string): Promise<void> {
    const found = await this.acts.calls.openInvocations({
      region: this.opts.region,
      commandIds: Object.values(this.state.commands),
    });
    const ids = [...new Set([...this.tracker.open(), ...found])].filter((id) => !this.cancelSent.has(id));
    if (ids.length > 0) {
      for (const id of found) if (!this.tracker.results(id).length) this.tracker.watch(id, 0, 'failures');
      await this.cancelInvocations(ids);
    }
    await Promise.all(this.cancels);
    const results = [...this.cancelSent].flatMap((id) => this.tracker.results(id));
    for (const res of results) {
      const t = this.state.targets[res.instanceId];
      if (!t || t.phase !== 'running') continue;
      if (res.started) t.changed = true;
      Object.assign(t, {
        status: res.status,
        exitCode: res.exitCode,
        taskId: res.taskId,
        invocationId: res.invocationId,
      });
      this.fail(res.instanceId, res.outcome, `${why}: ${res.status}`, t.step ?? '', res.output);
    }
    for (const t of Object.values(this.state.targets))
      if (t.phase === 'running') Object.assign(t, { phase: 'done', outcome: 'cancelled', reason: why });
  }

  // ---- rollback ----

  private async rollback(): Promise<void> {
    const rb = this.def.rollback!;
    const changed = Object.values(this.state.targets).filter((t) => t.changed);
    if (changed.length === 0) return;
    this.state.status = 'rolling back';
    const byBatch = new Map<number, TargetState[]>();
    for (const t of changed) byBatch.set(t.batch, [...(byBatch.get(t.batch) ?? []), t]);
    for (const index of [...byBatch.keys()].sort((a, b) => b - a)) {
      const targets = byBatch.get(index)!;
      const batch = this.state.batches.find((b) => b.index === index) ?? {
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
      let g = 0;
      for (const [version, ids] of groups) {
        const step: RunnableStep = {
          key: 'rollback',
          command: rb.command,
          changes: false,
          output: 'failures',
          counts: false,
          always: true,
        };
        await this.runStep(
          batch,
          step,
          ids,
          rb.versionParameter ? { [rb.versionParameter]: version } : undefined,
          g++,
        );
      }
    }
  }

  private async cleanUp(): Promise<void> {
    const ids = Object.values(this.state.commands);
    if (ids.length > 0) await this.acts.calls.deleteCommands({ region: this.opts.region, commandIds: ids });
  }

  private finish(cancelled: unknown): RolloutState {
    this.state.endedAt = now();
    const a = this.state.aborted;
    let reason = a ? `aborted by ${a.by}${a.comment ? `: ${a.comment}` : ''}` : this.state.reason;
    const badRollback = Object.values(this.state.targets).filter(
      (t) => t.rollback && t.rollback.outcome !== 'succeeded',
    );
    if (reason && badRollback.length > 0)
      reason += `; rollback failed on ${badRollback.length} target(s): ${badRollback.map((t) => t.id).join(', ')}`;
    this.state.status = reason ? 'failed' : 'succeeded';
    if (reason) this.state.reason = reason;
    if (cancelled) throw cancelled;
    if (reason)
      throw wf.ApplicationFailure.create({
        message: reason,
        type: 'RunFailed',
        nonRetryable: true,
        details: [summarize(this.state)],
      });
    return this.state;
  }
}

/** Options from a Temporal client never went through the CLI's checks: refuse bad ones clearly. */
function checkOptions(o: RolloutOptions): void {
  const bad = (why: string) =>
    wf.ApplicationFailure.nonRetryable(`invalid rollout options: ${why}`, 'BadOptions');
  const shape = o.shape ?? DEFAULT_SHAPE;
  try {
    if (shape.kind === 'batches') {
      if (!Array.isArray(shape.batches) || shape.batches.length === 0)
        throw new Error('batches: give at least one size');
      shape.batches.forEach((b) => parseSize(b));
    } else if (shape.kind === 'window' || shape.kind === 'rampUp') parseSize(shape.maxConcurrency);
    else throw new Error(`unknown shape "${(shape as { kind: string }).kind}"`);
    if (o.maxErrors !== undefined && o.maxErrors !== 0) parseSize(o.maxErrors);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!o.region) throw bad('region is required');
  if (!o.targets) throw bad('targets are required');
}

/** Counts by outcome, for the failure details (the full state stays available to the progress query). */
export function summarize(s: RolloutState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of Object.values(s.targets)) {
    const k = t.outcome ?? t.phase;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Runs a runbook definition on the engine: what every runbook workflow does. */
export function runRollout(def: RunbookDefinition, input: RunbookInput): Promise<RolloutState> {
  return new Rollout(def, input).run();
}
