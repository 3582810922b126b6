// Turning `tatflow run` / `tatflow preview` flags into a runbook's input: which runbook (from the
// registry), its parameters (client/runbook-params.ts), and the rollout options, which every
// runbook shares. Every bad flag gets an error that names it.

import type { Command } from 'commander';
import { parseSelector, SelectorError } from '../activities/selector.js';
import { collect } from './flags.js';
import { parseSize, type Shape, type Size } from '../workflows/engine/plan.js';
import type { RolloutOptions, RunbookInput, TargetSelector } from '../workflows/engine/types.js';
import { builtInRunbooks, type RunbookRegistry } from '../workflows/registry.js';
import { parseDuration } from './durations.js';
import {
  paramsFromFlags,
  positiveInt,
  registryFlags,
  SCRIPT_SETTINGS,
  type FlagValues,
} from './runbook-params.js';

/** The rollout flags every run has; the runbooks' own flags come from the registry. */
export interface RolloutFlags {
  targets?: string;
  online?: boolean;
  managedName?: string;
  select?: string[];
  batches?: string;
  window?: string;
  rampUp?: string;
  maxErrors?: string;
  strictBudget?: boolean;
  countUndeliverable?: boolean;
  refuseOffline?: boolean;
  offlineGrace?: string;
  approveBeforeStart?: boolean;
  approveAfterCanary?: boolean;
  approveEveryBatch?: boolean;
  approvalTimeout?: string;
  onApprovalTimeout?: string;
  bake?: string;
  progressDeadline?: string;
  pollInterval?: string;
  maintenanceWindow?: string;
  maintenanceCutoff?: string;
  param?: string[];
  params?: string;
  runbooks?: string[];
}

export type RunFlags = RolloutFlags & FlagValues;

/**
 * The rollout flags, the script settings, every runbook flag of the registry, --param and --params;
 * and the `<runbook>` argument, unless `runbookArgument` is false (`schedule update` keeps its own).
 */
export function runOptions(
  cmd: Command,
  registry: RunbookRegistry = builtInRunbooks,
  o: { runbookArgument?: boolean } = {},
): Command {
  if (o.runbookArgument !== false)
    cmd.argument('<runbook>', `runbook: ${registry.names().join(', ')} (see "runbooks:" below)`);
  cmd
    .option('--targets <ids>', 'instance ids, comma-separated (ins-…, lhins-…, rins-…)')
    .option('--online', 'every instance whose agent is online in the region')
    .option('--managed-name <text>', 'managed instances whose name contains the text')
    .option(
      '--select <terms>',
      'instances matching every term, e.g. tag:env=prod,os=linux,kind=rins,name=web-*,online (repeat for OR)',
      collect,
    )
    .option('--batches <sizes>', 'lock-step batches, e.g. 1,10%,50% (the last repeats); default 1,10%,50%')
    .option('--window <n|pct>', 'sliding window: at most this many targets in flight')
    .option('--ramp-up <n|pct>', 'ramp-up: 1, 2, 4 … up to this many in flight')
    .option('--max-errors <n|pct>', 'errors allowed before the run breaches (default 0)')
    .option('--strict-budget', 'cap in-flight targets at remaining budget + 1: never overshoot maxErrors')
    .option('--count-undeliverable', 'DELIVER_FAILED and START_FAILED count against the budget')
    .option('--refuse-offline', 'refuse to start when a target agent is offline (default: skip it)')
    .option(
      '--offline-grace <seconds>',
      'how long an agent offline at its batch may take to come back (default 150)',
    )
    .option('--approve-before-start', 'approval gate before the first batch')
    .option('--approve-after-canary', 'approval gate after the first batch')
    .option('--approve-every-batch', 'approval gate before every batch')
    .option('--approval-timeout <seconds>', 'how long a gate waits (default 86400)')
    .option('--on-approval-timeout <fail|continue>', 'what a gate does when it times out (default fail)')
    .option('--bake <seconds>', 'wait after each batch before its health check')
    .option('--progress-deadline <seconds>', 'breach when no batch turned healthy for this long')
    .option('--poll-interval <ms>', 'how often task results are polled (default 1000)')
    .option(
      '--maintenance-window <duration>',
      'batches start only inside this window from the run’s (scheduled) start, e.g. 2h',
    )
    .option(
      '--maintenance-cutoff <duration>',
      'no batch starts in the last part of the window, e.g. 15m (default 0)',
    );
  const flags = registryFlags(registry);
  for (const s of SCRIPT_SETTINGS) {
    const own = flags.get(s.name);
    const also = own ? `; ${own.runbooks.join(', ')}: ${own.flag.help}` : '';
    cmd.option(`--${s.name} ${s.arg}`, `${s.help}${also}`);
    flags.delete(s.name);
  }
  for (const { flag, runbooks } of flags.values())
    cmd.option(`--${flag.name} ${flag.arg}`, `${runbooks.join(', ')}: ${flag.help}`);
  return cmd
    .option('--param <key=value...>', 'a runbook parameter (repeatable; JSON values allowed)')
    .option('--params <json>', 'all runbook parameters as a JSON object')
    .option(
      '--runbooks <file>',
      'a runbook file the worker loads, for its parameters and flags (repeatable; env TATFLOW_RUNBOOKS)',
      collect,
    );
}

/** The `--select` values, each parsed once so a bad term is refused here, naming it. */
export function checkSelectors(select: string[]): string[] {
  for (const s of select) {
    try {
      parseSelector(s);
    } catch (e) {
      if (e instanceof SelectorError) throw new Error(`--select "${s}": ${e.message}`);
      throw e;
    }
  }
  return select;
}

function size(flag: string, v: string): Size {
  try {
    return parseSize(v);
  } catch (e) {
    throw new Error(`--${flag}: ${(e as Error).message}`);
  }
}

function selector(f: RolloutFlags): TargetSelector {
  const given = [f.targets !== undefined, !!f.online, f.managedName !== undefined, !!f.select?.length].filter(
    Boolean,
  ).length;
  if (given !== 1)
    throw new Error('give the targets with exactly one of --targets, --online, --managed-name or --select');
  if (f.select?.length) return { select: checkSelectors(f.select) };
  if (f.online) return { online: true };
  if (f.managedName !== undefined) return { managedName: f.managedName };
  const ids = f
    .targets!.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = ids.filter((id) => !/^(ins|lhins|rins)-[0-9a-z]+$/.test(id));
  if (ids.length === 0) throw new Error('--targets: no instance id given');
  if (bad.length)
    throw new Error(`--targets: not instance ids: ${bad.join(', ')} (expected ins-…, lhins-… or rins-…)`);
  return { instanceIds: ids };
}

function shape(f: RolloutFlags): Shape | undefined {
  const given = [f.batches, f.window, f.rampUp].filter((v) => v !== undefined).length;
  if (given > 1) throw new Error('give at most one of --batches, --window and --ramp-up');
  if (f.window !== undefined) return { kind: 'window', maxConcurrency: size('window', f.window) };
  if (f.rampUp !== undefined) return { kind: 'rampUp', maxConcurrency: size('ramp-up', f.rampUp) };
  if (f.batches !== undefined) {
    const parts = f.batches.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) throw new Error(`--batches: empty size in "${f.batches}"`);
    return { kind: 'batches', batches: parts.map((p) => size('batches', p)) };
  }
  return undefined;
}

function maxErrors(v: string | undefined): Size | 0 | undefined {
  if (v === undefined) return undefined;
  if (/^0+(\.0+)?%?$/.test(v.trim())) return 0;
  return size('max-errors', v);
}

export function rolloutOptions(f: RolloutFlags, region: string): RolloutOptions {
  const onTimeout = f.onApprovalTimeout;
  if (onTimeout !== undefined && onTimeout !== 'fail' && onTimeout !== 'continue')
    throw new Error(`--on-approval-timeout: expected fail or continue, got "${onTimeout}"`);
  const o: RolloutOptions = { region, targets: selector(f) };
  const sh = shape(f);
  if (sh) o.shape = sh;
  const me = maxErrors(f.maxErrors);
  if (me !== undefined) o.maxErrors = me;
  if (f.strictBudget) o.strictBudget = true;
  if (f.countUndeliverable) o.countUndeliverable = true;
  if (f.refuseOffline) o.offline = 'refuse';
  const grace = positiveInt('offline-grace', f.offlineGrace, 0);
  if (grace !== undefined) o.offlineGraceSeconds = grace;
  const approvalTimeout = positiveInt('approval-timeout', f.approvalTimeout);
  if (f.approveBeforeStart || f.approveAfterCanary || f.approveEveryBatch || approvalTimeout || onTimeout) {
    o.approval = {
      ...(f.approveBeforeStart ? { beforeStart: true } : {}),
      ...(f.approveAfterCanary ? { afterCanary: true } : {}),
      ...(f.approveEveryBatch ? { everyBatch: true } : {}),
      ...(approvalTimeout ? { timeoutSeconds: approvalTimeout } : {}),
      ...(onTimeout ? { onTimeout } : {}),
    };
  }
  const bake = positiveInt('bake', f.bake, 0);
  if (bake) o.bakeSeconds = bake;
  const pd = positiveInt('progress-deadline', f.progressDeadline);
  if (pd) o.progressDeadlineSeconds = pd;
  const pi = positiveInt('poll-interval', f.pollInterval, 50);
  if (pi) o.pollIntervalMs = pi;
  const mw = maintenanceWindow(f);
  if (mw) o.maintenanceWindow = mw;
  return o;
}

function maintenanceWindow(f: RolloutFlags): RolloutOptions['maintenanceWindow'] {
  if (f.maintenanceWindow === undefined) {
    if (f.maintenanceCutoff !== undefined)
      throw new Error('--maintenance-cutoff: needs --maintenance-window');
    return undefined;
  }
  const durationSeconds = parseDuration('maintenance-window', f.maintenanceWindow);
  if (f.maintenanceCutoff === undefined) return { durationSeconds };
  const cutoffSeconds = parseDuration('maintenance-cutoff', f.maintenanceCutoff, { min: 0 });
  if (cutoffSeconds >= durationSeconds)
    throw new Error(
      `--maintenance-cutoff: ${f.maintenanceCutoff} leaves no time in a ${f.maintenanceWindow} window; give a shorter cutoff`,
    );
  return { durationSeconds, cutoffSeconds };
}

/** The parameters of a run of `runbook` from its flags, checked against its schema. */
export function runbookParams(
  runbook: string,
  f: RunFlags,
  registry: RunbookRegistry = builtInRunbooks,
): Record<string, unknown> {
  return paramsFromFlags(registry.require(runbook), f, registry);
}

export function runbookInput(
  runbook: string,
  f: RunFlags,
  region: string,
  registry: RunbookRegistry = builtInRunbooks,
): RunbookInput {
  return { params: runbookParams(runbook, f, registry), rollout: rolloutOptions(f, region) };
}
