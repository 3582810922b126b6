// Step roles as types. What a step does to the run's accounting depends on its role, and its role
// comes from where the runbook declares it (`steps`, `probe`, `healthCheck`, `rollback`), never
// from its name: a runbook step may be called `health`. Each role gets its own saved command.

import type { OutputCapture } from '../../activities/types.js';
import type { CommandSpec, RunbookDefinition, TargetStep } from './types.js';

export type StepRole = 'step' | 'probe' | 'health' | 'rollback';

/** A step as the engine runs it: a runbook step, the probe, the health check or the rollback. */
export interface RunnableStep {
  role: StepRole;
  /** Shown on targets (`step`) and in reasons: the runbook step's name, or the role. */
  name: string;
  /** Names the step's saved command (`state.commands`) and its invocations' keys. */
  key: string;
  /**
   * The role its results are booked under: its role. Runs begun before step roles became types
   * booked a runbook step named `health` or `rollback` as that role; replaying them must do the
   * same (see `commandKey`).
   */
  booksAs: StepRole;
  command: CommandSpec;
  /** The engine passes custom-parameter values at each invocation: its command takes them. */
  parameters: boolean;
  /** A target whose task of this step started has changed: rollback applies to it. */
  changes: boolean;
  output: OutputCapture;
}

/** Count the targets' errors against the budget as results arrive (and hold budget while in flight). */
export const counts = (s: RunnableStep): boolean => s.role === 'step' || s.role === 'probe';
/** Dispatched even after a breach or an abort, and never cancelled. */
export const always = (s: RunnableStep): boolean => s.role === 'rollback';

/**
 * The key of a step's saved command. By role: `step.<name>` for a runbook step, the role for the
 * others, so no step name can take the health check's command. `legacy` (runs begun before the
 * `step-roles` patch) keys every step by its bare name, as those runs did.
 */
export function commandKey(role: StepRole, name: string, legacy: boolean): string {
  if (legacy) return name;
  return role === 'step' ? `step.${name}` : role;
}

function runnable(
  role: StepRole,
  name: string,
  command: CommandSpec,
  changes: boolean,
  output: OutputCapture,
  legacy: boolean,
  parameters = false,
): RunnableStep {
  const booksAs = legacy && (name === 'health' || name === 'rollback') ? name : role;
  return { role, name, key: commandKey(role, name, legacy), booksAs, command, parameters, changes, output };
}

/** The runnable steps of a definition, each with its role. */
export function stepsOf(def: RunbookDefinition, legacy: boolean) {
  return {
    probe: def.probe ? runnable('probe', 'probe', def.probe, false, 'all', legacy) : undefined,
    steps: def.steps.map((declared: TargetStep) => ({
      declared,
      step: runnable(
        'step',
        declared.name,
        declared.command,
        declared.kind === 'reboot' || declared.changes !== false,
        declared.kind === 'reboot' ? 'all' : 'failures',
        legacy,
        declared.kind === 'command' && declared.parameters !== undefined,
      ),
    })),
    health: def.healthCheck
      ? runnable('health', 'health', def.healthCheck.command, false, 'failures', legacy)
      : undefined,
    rollback: def.rollback
      ? runnable(
          'rollback',
          'rollback',
          def.rollback.command,
          false,
          'failures',
          legacy,
          def.rollback.versionParameter !== undefined,
        )
      : undefined,
  };
}

export type RunnableSteps = ReturnType<typeof stepsOf>;

/** Re-keys a state's saved commands from bare step names (older runs) to keys by role. */
export function rekeyCommands(commands: Record<string, string>): Record<string, string> {
  const roles = new Set<string>(['probe', 'health', 'rollback']);
  const out: Record<string, string> = {};
  for (const [k, id] of Object.entries(commands)) out[roles.has(k) ? k : `step.${k}`] = id;
  return out;
}
