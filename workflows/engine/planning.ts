// Planning a run from its options and what the TAT API says of its targets: which are skipped
// (agent offline or unknown) or refuse the run, the batches, the resolved error budget. Pure: the
// workflow plans with it, and `tatflow preview` shows the same plan without running anything.

import { resolveMaxErrors } from './budget.js';
import { DEFAULT_SHAPE, parseSize, planBatches, resolveConcurrency } from './plan.js';
import type { MachineOs } from './definition.js';
import type { BatchState, RolloutOptions, TargetState } from './types.js';
import { windowProblems } from './window.js';

/** A run refused before it starts: a clear reason, and its failure type. */
export class PlanRefusal extends Error {
  constructor(
    message: string,
    readonly type: 'BadOptions' | 'NoTargets' | 'TargetsOffline' | 'UnknownTargets',
  ) {
    super(message);
  }
}

export const noTargets = (): PlanRefusal =>
  new PlanRefusal('no targets: the selector matched no instance', 'NoTargets');

/** Options from a Temporal client never went through the CLI's checks: refuse bad ones clearly. */
export function checkOptions(o: RolloutOptions): void {
  const bad = (why: string) => new PlanRefusal(`invalid rollout options: ${why}`, 'BadOptions');
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
  const w = o.maintenanceWindow && windowProblems(o.maintenanceWindow);
  if (w && w.length > 0) throw bad(w.join('; '));
}

/** What the TAT API said of the resolved targets at plan time. */
export interface Fleet {
  ids: string[];
  offline: string[];
  unknown: string[];
  /** Targets whose agent runs Windows (the rest: Linux). */
  windows?: string[];
}

export interface Plan {
  targets: Record<string, TargetState>;
  /** Lock-step batches; empty in window shapes, whose waves form as the run goes. */
  batches: BatchState[];
  /** Targets whose agent is online: the ones the run dispatches to. */
  live: string[];
  /** Skipped at plan time: agent offline or unknown. */
  away: string[];
  /** Skipped at plan time: their OS cannot run the runbook's scripts. */
  unsupported: string[];
  maxErrors: number;
  /** In window shapes, the most targets in flight (the ramp-up's ceiling). */
  concurrency?: number;
}

/**
 * The plan of a run whose scripts run on `os`; throws a PlanRefusal when the run would not start.
 * Targets on the other OS are skipped (`unsupported OS`), like agents that are offline: a SHELL
 * script cannot run on Windows, nor a POWERSHELL or BAT one on Linux (TAT refuses the call). With
 * `refuseUnknown` (runs under the `truthful-status` patch, and `tatflow preview`), an instance id
 * the TAT endpoint does not know at all (a typo) refuses the run, naming it; an offline agent stays
 * a skip.
 */
export function planRun(
  o: RolloutOptions,
  fleet: Fleet,
  os: MachineOs = 'Linux',
  rules: { refuseUnknown?: boolean } = {},
): Plan {
  checkOptions(o);
  const { ids } = fleet;
  if (ids.length === 0) throw noTargets();
  if (rules.refuseUnknown && fleet.unknown.length > 0)
    throw new PlanRefusal(
      `unknown instance id(s): ${fleet.unknown.join(', ')}: the TAT endpoint does not know them ` +
        `(check the ids with \`tatflow instances\`)`,
      'UnknownTargets',
    );
  const away = new Set([...fleet.offline, ...fleet.unknown]);
  if (away.size > 0 && o.offline === 'refuse')
    throw new PlanRefusal(
      `agents offline or unknown: ${[...away].join(', ')} (run with offline targets skipped, or bring them online)`,
      'TargetsOffline',
    );
  const windows = new Set(fleet.windows ?? []);
  const misfit = new Set(ids.filter((id) => !away.has(id) && windows.has(id) !== (os === 'Windows')));
  const other = os === 'Windows' ? 'Linux' : 'Windows';
  const types = os === 'Windows' ? 'POWERSHELL or BAT' : 'SHELL';
  if (misfit.size === ids.length - away.size && misfit.size > 0)
    throw new PlanRefusal(
      `no target can run this runbook: its scripts are ${types}, and every online target runs ${other}`,
      'NoTargets',
    );
  const live = ids.filter((id) => !away.has(id) && !misfit.has(id));
  const targets: Record<string, TargetState> = {};
  for (const id of ids)
    targets[id] = away.has(id)
      ? {
          id,
          batch: -1,
          phase: 'skipped',
          reason: fleet.unknown.includes(id) ? 'unknown instance' : 'agent offline',
        }
      : misfit.has(id)
        ? { id, batch: -1, phase: 'skipped', reason: `unsupported OS: ${other} cannot run ${types} scripts` }
        : { id, batch: -1, phase: 'pending' };
  const shape = o.shape ?? DEFAULT_SHAPE;
  let batches: BatchState[] = [];
  if (shape.kind === 'batches') {
    batches = planBatches(live, shape.batches, ids.length).map((batch, index) => {
      for (const t of batch) targets[t]!.batch = index;
      return { index, targets: batch, status: 'pending' };
    });
  } else if (o.approval?.everyBatch) {
    throw new PlanRefusal('approval before every batch needs the batches shape', 'BadOptions');
  }
  return {
    targets,
    batches,
    live,
    away: [...away],
    unsupported: [...misfit],
    maxErrors: resolveMaxErrors(o.maxErrors ?? 0, ids.length),
    ...(shape.kind !== 'batches'
      ? { concurrency: resolveConcurrency(shape.maxConcurrency, ids.length) }
      : {}),
  };
}
