// A runbook's definition as data, and the checks it must pass before a run starts: built from the
// run's parameters once (when the run starts, by a local activity that reads the worker's registry,
// see DefinitionActivities), kept in the run's history and carried through continue-as-new, so a
// run keeps the definition it started with whatever the runbook files say later. Pure: the CLI
// (`run`, `preview`), the worker's local activity and the old in-workflow path share it.

import { findPlaceholders } from '../../tat/params.js';
import { LIMITS } from '../../tat/limits.js';
import type { CommandSpec, RunbookDefinition } from './types.js';

/** What the worker does for the workflow when a run starts (a local activity: worker/definitions.ts). */
export interface DefinitionActivities {
  /**
   * The definition `runbook` builds from `params`, checked; fails (non-retryable) with type
   * `BadParams`, `BadRunbook` or `UnknownRunbook` and a message that says what is wrong.
   */
  buildDefinition(input: { runbook: string; params: unknown }): Promise<RunbookDefinition>;
}

/** Step names go into saved-command names (at most 60 bytes in all). */
const STEP_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const PARAMETER_NAME = /^[A-Za-z0-9_-]+$/;

export type MachineOs = 'Linux' | 'Windows';

/** The OS a script's command type runs on: SHELL on Linux, POWERSHELL and BAT on Windows. */
export const osOf = (c: CommandSpec): MachineOs =>
  (c.commandType ?? 'SHELL') === 'SHELL' ? 'Linux' : 'Windows';

/** Every script of a definition with what it is, whether it takes custom parameters, and their values. */
interface Script {
  what: string;
  command: CommandSpec | undefined;
  /** Values the engine passes at each invocation (names only matter), or undefined: parameters off. */
  passes?: string[];
  /** Runs on the targets (the health check with `onInstance` runs elsewhere). */
  onTargets: boolean;
}

function scriptsOf(def: RunbookDefinition): Script[] {
  const out: Script[] = def.steps.map((s, i) => ({
    what: `step ${i + 1}${typeof s?.name === 'string' ? ` "${s.name}"` : ''}`,
    command: s?.command,
    ...(s?.kind === 'command' && s.parameters ? { passes: Object.keys(s.parameters) } : {}),
    onTargets: true,
  }));
  if (def.probe) out.push({ what: 'the probe', command: def.probe, onTargets: true });
  if (def.healthCheck)
    out.push({
      what: 'the health check',
      command: def.healthCheck.command,
      onTargets: !def.healthCheck.onInstance,
    });
  if (def.rollback)
    out.push({
      what: 'the rollback',
      command: def.rollback.command,
      ...(def.rollback.versionParameter ? { passes: [def.rollback.versionParameter] } : {}),
      onTargets: true,
    });
  return out;
}

/** The OS the definition's target scripts need (Linux unless they are POWERSHELL or BAT). */
export function definitionOs(def: RunbookDefinition): MachineOs {
  const first = scriptsOf(def).find((s) => s.onTargets && s.command);
  return first?.command ? osOf(first.command) : 'Linux';
}

function scriptProblems(s: Script, presenceOnly = false): string[] {
  const c = s.command;
  if (!c || typeof c.content !== 'string') return [`${s.what}: no script (command.content)`];
  if (c.content.trim() === '') return [`${s.what}: the script is empty`];
  if (presenceOnly) return [];
  const defaults = c.defaultParameters;
  if (s.passes === undefined && defaults === undefined) return []; // runs as written, {{…}} included
  // Custom parameters are on: TAT fills every {{name}}, and refuses one it has no value for.
  const problems: string[] = [];
  const names = new Set([...(s.passes ?? []), ...Object.keys(defaults ?? {})]);
  const bad = [...names].filter((n) => n.length > LIMITS.parameterNameChars || !PARAMETER_NAME.test(n));
  if (bad.length)
    problems.push(
      `${s.what}: parameter names are 1-${LIMITS.parameterNameChars} letters, digits, "_" or "-": ${bad.join(', ')}`,
    );
  if (names.size > LIMITS.parameters)
    problems.push(`${s.what}: ${names.size} custom parameters; TAT takes at most ${LIMITS.parameters}`);
  for (const [k, v] of Object.entries(defaults ?? {}))
    if (typeof v !== 'string') problems.push(`${s.what}: the default of {{${k}}} must be text`);
  const unfilled = findPlaceholders(c.content)
    .map((p) => p.name)
    .filter((n) => !names.has(n));
  if (unfilled.length)
    problems.push(
      `${s.what}: ${unfilled.map((n) => `{{${n}}}`).join(', ')} ${unfilled.length > 1 ? 'have' : 'has'} no value ` +
        `(the script uses custom parameters${names.size ? ` and gets only ${[...names].map((n) => `{{${n}}}`).join(', ')}` : ''}): ` +
        'give a value or a default (defaultParameters), or write it differently',
    );
  return problems;
}

/** Where a definition holds something other than data (a function): it must survive JSON. */
function notData(v: unknown, path: string, out: string[]): void {
  if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') out.push(path);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) notData(x, path ? `${path}.${k}` : k, out);
}

/**
 * What is wrong with a definition, in words; empty when nothing is. `legacy`: only the checks of
 * runs begun before the `definition-once` patch (names and empty scripts), which they replay.
 */
export function definitionProblems(def: RunbookDefinition, o: { legacy?: boolean } = {}): string[] {
  if (!Array.isArray(def?.steps) || def.steps.length === 0) return ['it has no steps'];
  const problems: string[] = [];
  const seen = new Set<string>();
  def.steps.forEach((s, i) => {
    const what = `step ${i + 1}${typeof s?.name === 'string' ? ` "${s.name}"` : ''}`;
    if (s?.kind !== 'command' && s?.kind !== 'reboot')
      problems.push(`${what}: kind must be "command" or "reboot"`);
    if (typeof s?.name !== 'string' || !STEP_NAME.test(s.name))
      problems.push(`${what}: a name is 1-32 letters, digits, "_" or "-"`);
    else if (seen.has(s.name)) problems.push(`${what}: another step has this name`);
    else seen.add(s.name);
  });
  const scripts = scriptsOf(def);
  if (o.legacy) {
    for (const s of scripts) problems.push(...scriptProblems({ ...s, passes: undefined }, true));
    return problems;
  }
  for (const s of scripts) problems.push(...scriptProblems(s));
  const oses = new Set(scripts.filter((s) => s.onTargets && s.command).map((s) => osOf(s.command!)));
  if (oses.size > 1)
    problems.push('it has scripts for Linux (SHELL) and for Windows (POWERSHELL, BAT): no machine runs both');
  const done = def.alreadyDone as unknown;
  if (
    done !== undefined &&
    (typeof done !== 'object' || typeof (done as { probeReads?: unknown }).probeReads !== 'string')
  )
    problems.push('alreadyDone: give { probeReads: "<version>" } (data, not a function)');
  else {
    const fns: string[] = [];
    notData(def, '', fns);
    if (fns.length)
      problems.push(
        `it holds functions (${fns.join(', ')}): a definition is data, kept in the run's history`,
      );
  }
  return problems;
}
