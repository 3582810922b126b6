// The rollout engine every runbook runs on (docs/runbooks.md): plan, then batches or a window, then
// on breach or abort the clean-up and rollback, then the saved commands deleted; or continue as new
// when the history grew long. This file only orchestrates; the parts are beside it:
//   planning.ts   the plan (pure; `tatflow preview` shows the same)
//   shapes.ts     batches, window and ramp-up
//   wave.ts       one batch through probe, steps, bake and health check
//   dispatch.ts   one step over targets: saved command, chunked invocations, the budget
//   ledger.ts     the one writer of per-target state, the error count, the breach, output excerpts
//   gates.ts      approval gates, pause, progress deadline
//   abort.ts      cancelling invocations on abort and after a workflow cancellation
//   rollback.ts   rollback of the changed targets, in reverse batch order
//   steps.ts      step roles (step, probe, health, rollback) and their saved-command keys
//   scheduled.ts  runs a schedule started: the fire they are, a repeated DST fire skipped, the memo
//   window.ts     the maintenance window the shapes ask at each batch boundary
//   visibility.ts the run's search attributes (runbook, status, progress) for `tatflow runs`

import * as wf from '@temporalio/workflow';
import { Canceller } from './abort.js';
import { now, RunContext } from './context.js';
import { attachHandlers } from './control.js';
import { definitionOs } from './definition.js';
import { Dispatcher } from './dispatch.js';
import { Gates } from './gates.js';
import { noTargets, planRun, checkOptions, PlanRefusal } from './planning.js';
import type { RunPaths } from './paths.js';
import { rollBack } from './rollback.js';
import { ScheduledRun } from './scheduled.js';
import { runBatches, runWindow } from './shapes.js';
import { initialState, resumedState } from './state.js';
import { stepsOf, type RunnableSteps } from './steps.js';
import type { RolloutState, RunbookDefinition, RunbookInput } from './types.js';
import { RunVisibility } from './visibility.js';
import { WaveRunner } from './wave.js';
import { openWindow, settledStatus, WindowGuard } from './window.js';

export class Rollout {
  readonly state: RolloutState;
  private readonly ctx: RunContext;
  private readonly steps: RunnableSteps;
  private readonly dispatcher: Dispatcher;
  private readonly canceller: Canceller;
  private readonly gates: Gates;
  private readonly waves: WaveRunner;
  private readonly scheduled: ScheduledRun;
  private readonly window: WindowGuard;
  private readonly visibility: RunVisibility;

  constructor(
    def: RunbookDefinition,
    private readonly input: RunbookInput,
    paths: RunPaths,
  ) {
    // Runs begun before step roles became types keep keying saved commands by bare step name.
    const byRole = paths.stepRoles;
    this.state = input.resume ? resumedState(input.resume, byRole) : initialState(input, byRole, now());
    this.ctx = new RunContext(def, input, this.state, paths);
    this.steps = stepsOf(def, !byRole);
    this.dispatcher = new Dispatcher(this.ctx);
    this.canceller = new Canceller(this.ctx, this.dispatcher);
    this.gates = new Gates(
      this.ctx,
      attachHandlers(this.state, () => this.ctx.changed()),
    );
    this.waves = new WaveRunner(this.ctx, this.steps, this.dispatcher, this.gates);
    this.scheduled = new ScheduledRun(input, this.state, paths);
    openWindow(this.state, input, paths);
    this.window = new WindowGuard(this.ctx);
    this.visibility = new RunVisibility(input, this.state, this.ctx.short, paths.runVisibility);
  }

  /** Runs the rollout to its end; throws a non-retryable failure naming the reason when it fails. */
  async run(): Promise<RolloutState> {
    const { state, ctx: run } = this;
    if (this.scheduled.skipsRepeatedFire()) return this.finish(undefined);
    const visible = this.visibility.watch();
    const polling = run.tracker.run();
    const aborting = this.canceller.watchAbort();
    let cancelled: unknown;
    let continued = false;
    let failed = false;
    try {
      if (state.status === 'planning') await this.plan();
      if (!run.stopped()) {
        state.status = state.paused ? 'paused' : 'running';
        continued = await (state.shapeKind === 'batches'
          ? runBatches(run, this.gates, this.waves, this.window)
          : runWindow(run, this.gates, this.waves, this.window));
      }
    } catch (e) {
      if (wf.isCancellation(e)) {
        cancelled = e;
        state.aborted ??= { by: 'workflow cancellation', at: now() };
      } else if (e instanceof wf.ActivityFailure || e instanceof wf.ApplicationFailure) {
        // A call the TAT API refuses for good (quota, a conflict), or one that kept failing past
        // its activity's schedule-to-close bound: stop like a breach, clean up.
        failed = true;
        run.ledger.breach(`${e.cause?.message ?? e.message}`);
      } else {
        // An error of the workflow code (a bug, or input it did not expect): a workflow task that
        // fails would be retried forever with the run shown as running; stop like a breach, clean
        // up, and fail the run with the reason.
        failed = true;
        run.ledger.breach(`engine error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
    }
    try {
      await wf.CancellationScope.nonCancellable(async () => {
        if (continued) return;
        if (cancelled || failed)
          await this.canceller.cancelAbandoned(cancelled ? 'aborted' : 'stopped by a failure');
        if ((state.aborted || state.reason) && this.steps.rollback)
          await rollBack(run, this.dispatcher, this.steps.rollback);
        await this.cleanUp();
      });
    } catch (e) {
      // The clean-up's own calls failed for good (the TAT API refusing them, or down past their
      // bound): the run still ends with its reason, and says what was left behind.
      if (!(e instanceof wf.ActivityFailure)) throw e;
      const why = e.cause?.message ?? e.message;
      state.cleanupError = `clean-up failed (${why}): invocations may still run and the saved commands stay`;
      if (state.reason) state.reason += `; ${state.cleanupError}`;
    } finally {
      this.canceller.stop();
      run.tracker.stop();
      this.visibility.stop();
      await Promise.all([polling, aborting, visible]);
    }
    if (continued) {
      await wf.condition(wf.allHandlersFinished);
      const next: RunbookInput = { ...this.input, resume: { ...state, generation: state.generation + 1 } };
      await wf.continueAsNew<(i: RunbookInput) => Promise<RolloutState>>(next);
    }
    return this.finish(cancelled);
  }

  private async plan(): Promise<void> {
    const { opts, ledger, short } = this.ctx;
    try {
      checkOptions(opts);
      const sel = opts.targets;
      // Explicit ids need no lookup (runs begun before local calls asked an activity).
      const ids =
        this.ctx.localCalls && 'instanceIds' in sel
          ? [...new Set(sel.instanceIds)]
          : await short.resolveTargets({ region: opts.region, selector: sel });
      if (ids.length === 0) throw noTargets();
      const status = await short.agentStatus({ region: opts.region, instanceIds: ids });
      const plan = planRun(
        opts,
        { ids, offline: status.offline, unknown: status.unknown, windows: status.windows ?? [] },
        definitionOs(this.ctx.def),
        { refuseUnknown: this.ctx.truthful },
      );
      ledger.adopt(plan.targets);
      this.state.maxErrors = plan.maxErrors;
      this.state.batches = plan.batches;
    } catch (e) {
      if (e instanceof PlanRefusal) throw wf.ApplicationFailure.nonRetryable(e.message, e.type);
      throw e;
    }
    if (opts.progressDeadlineSeconds) this.gates.resetProgressDeadline();
  }

  private async cleanUp(): Promise<void> {
    const ids = Object.values(this.state.commands);
    if (ids.length > 0)
      await this.ctx.short.deleteCommands({ region: this.ctx.opts.region, commandIds: ids });
  }

  private finish(cancelled: unknown): RolloutState {
    const { state } = this;
    state.endedAt = now();
    const a = state.aborted;
    let reason = a ? `aborted by ${a.by}${a.comment ? `: ${a.comment}` : ''}` : state.reason;
    const badRollback = Object.values(state.targets).filter(
      (t) => t.rollback && t.rollback.outcome !== 'succeeded',
    );
    if (reason && badRollback.length > 0)
      reason += `; rollback failed on ${badRollback.length} target(s): ${badRollback.map((t) => t.id).join(', ')}`;
    // Runs under `truthful-status` end `aborted` when someone (or a cancellation) aborted them.
    const aborted = !!a && this.ctx.truthful;
    state.status = reason ? (aborted ? 'aborted' : 'failed') : settledStatus(state);
    if (reason) state.reason = reason;
    this.scheduled.record();
    this.visibility.publish();
    if (cancelled) throw cancelled;
    if (reason)
      throw wf.ApplicationFailure.create({
        message: reason,
        type: aborted ? 'RunAborted' : 'RunFailed',
        nonRetryable: true,
        details: [summarize(state)],
      });
    return state;
  }
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
export function runRollout(
  def: RunbookDefinition,
  input: RunbookInput,
  paths: RunPaths,
): Promise<RolloutState> {
  return new Rollout(def, input, paths).run();
}
