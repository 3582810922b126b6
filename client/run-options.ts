// Turning `tatflow run` / `tatflow preview` flags into a runbook's input: which runbook, its
// parameters, and the rollout options. Every bad flag gets an error that names it.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseSize, type Shape, type Size } from '../workflows/engine/plan.js';
import type { CommandSpec, RolloutOptions, RunbookInput, TargetSelector } from '../workflows/engine/types.js';

export const BUILT_IN_RUNBOOKS = ['rollingCommand', 'patchFleet', 'rollingAppUpdate'] as const;

export interface RunFlags {
  targets?: string;
  online?: boolean;
  managedName?: string;
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
  command?: string;
  commandFile?: string;
  timeout?: string;
  username?: string;
  workingDirectory?: string;
  healthCheck?: string;
  healthRetries?: string;
  healthInterval?: string;
  healthOn?: string;
  rollback?: string;
  probe?: string;
  deploy?: string;
  appVersion?: string;
  packages?: string;
  reboot?: string;
  param?: string[];
  params?: string;
}

export function runOptions(cmd: Command): Command {
  return cmd
    .argument('<runbook>', `runbook: ${BUILT_IN_RUNBOOKS.join(', ')}, or one a worker loaded with --runbooks`)
    .option('--targets <ids>', 'instance ids, comma-separated (ins-…, lhins-…, rins-…)')
    .option('--online', 'every instance whose agent is online in the region')
    .option('--managed-name <text>', 'managed instances whose name contains the text')
    .option('--batches <sizes>', 'lock-step batches, e.g. 1,10%,50% (the last repeats); default 1,10%,50%')
    .option('--window <n|pct>', 'sliding window: at most this many targets in flight')
    .option('--ramp-up <n|pct>', 'ramp-up: 1, 2, 4 … up to this many in flight')
    .option('--max-errors <n|pct>', 'errors allowed before the run breaches (default 0)')
    .option('--strict-budget', 'cap in-flight targets at remaining budget + 1: never overshoot maxErrors')
    .option('--count-undeliverable', 'DELIVER_FAILED and START_FAILED count against the budget')
    .option('--refuse-offline', 'refuse to start when a target agent is offline (default: skip it)')
    .option(
      '--offline-grace <seconds>',
      'how long an agent offline at its batch may take to come back (default 60)',
    )
    .option('--approve-before-start', 'approval gate before the first batch')
    .option('--approve-after-canary', 'approval gate after the first batch')
    .option('--approve-every-batch', 'approval gate before every batch')
    .option('--approval-timeout <seconds>', 'how long a gate waits (default 86400)')
    .option('--on-approval-timeout <fail|continue>', 'what a gate does when it times out (default fail)')
    .option('--bake <seconds>', 'wait after each batch before its health check')
    .option('--progress-deadline <seconds>', 'breach when no batch turned healthy for this long')
    .option('--poll-interval <ms>', 'how often task results are polled (default 1000)')
    .option('--command <script>', 'rollingCommand: the script to run')
    .option('--command-file <file>', 'rollingCommand: read the script from a file')
    .option('--timeout <seconds>', 'seconds each task may run (TAT default 60)')
    .option('--username <user>', 'run as this user')
    .option('--working-directory <dir>', 'run in this directory')
    .option('--health-check <script>', 'health check run after each batch (exit 0 = healthy)')
    .option('--health-retries <n>', 'extra attempts of a failing health check (default 0)')
    .option('--health-interval <seconds>', 'between health check attempts (default 10)')
    .option('--health-on <instance>', 'run the health check once per batch on this instance instead')
    .option(
      '--rollback <script>',
      'rollback run on changed targets on breach or abort ({{version}}: the version before)',
    )
    .option('--probe <script>', 'rollingAppUpdate: prints the current version')
    .option('--deploy <script>', 'rollingAppUpdate: deploys {{version}}')
    .option('--app-version <version>', 'rollingAppUpdate: the version to deploy')
    .option('--packages <names>', 'patchFleet: packages to upgrade, comma-separated (default: all)')
    .option('--reboot <never|always|if-required>', 'patchFleet: reboot after the upgrade (default never)')
    .option('--param <key=value...>', 'a runbook parameter (repeatable; JSON values allowed)')
    .option('--params <json>', 'all runbook parameters as a JSON object');
}

function positiveInt(flag: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min)
    throw new Error(`--${flag}: expected a whole number ≥ ${min}, got "${v}"`);
  return Number(v);
}

function size(flag: string, v: string): Size {
  try {
    return parseSize(v);
  } catch (e) {
    throw new Error(`--${flag}: ${(e as Error).message}`);
  }
}

function selector(f: RunFlags): TargetSelector {
  const given = [f.targets !== undefined, !!f.online, f.managedName !== undefined].filter(Boolean).length;
  if (given !== 1)
    throw new Error('give the targets with exactly one of --targets, --online or --managed-name');
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

function shape(f: RunFlags): Shape | undefined {
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

export function rolloutOptions(f: RunFlags, region: string): RolloutOptions {
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
  return o;
}

function script(flag: string, content: string | undefined, f: RunFlags): CommandSpec | undefined {
  if (content === undefined) return undefined;
  if (content.trim() === '') throw new Error(`--${flag}: the script is empty`);
  const timeout = positiveInt('timeout', f.timeout);
  return {
    content,
    ...(timeout ? { timeout } : {}),
    ...(f.username ? { username: f.username } : {}),
    ...(f.workingDirectory ? { workingDirectory: f.workingDirectory } : {}),
  };
}

function extraParams(f: RunFlags): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  if (f.params !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(f.params);
    } catch (e) {
      throw new Error(`--params: not JSON: ${(e as Error).message}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new Error('--params: expected a JSON object');
    out = { ...(v as Record<string, unknown>) };
  }
  for (const kv of f.param ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--param: expected key=value, got "${kv}"`);
    const raw = kv.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[kv.slice(0, eq)] = value;
  }
  return out;
}

/** The runbook's parameters from the flags (built-in runbooks) and --param/--params (any runbook). */
export function runbookParams(runbook: string, f: RunFlags): Record<string, unknown> {
  const health = script('health-check', f.healthCheck, f);
  for (const [flag, v] of [
    ['health-retries', f.healthRetries],
    ['health-interval', f.healthInterval],
    ['health-on', f.healthOn],
  ] as const)
    if (v !== undefined && !health) throw new Error(`--${flag}: needs --health-check`);
  const retries = positiveInt('health-retries', f.healthRetries, 0);
  const interval = positiveInt('health-interval', f.healthInterval);
  if (f.healthOn !== undefined && !/^(ins|lhins|rins)-[0-9a-z]+$/.test(f.healthOn))
    throw new Error(`--health-on: not an instance id: "${f.healthOn}"`);
  const healthCheck = health && {
    command: health,
    ...(retries !== undefined ? { retries } : {}),
    ...(interval !== undefined ? { intervalSeconds: interval } : {}),
    ...(f.healthOn ? { onInstance: f.healthOn } : {}),
  };
  const rollback = script('rollback', f.rollback, f);
  const p: Record<string, unknown> = {};
  if (runbook === 'rollingCommand') {
    if (f.command !== undefined && f.commandFile !== undefined)
      throw new Error('give --command or --command-file, not both');
    let content = f.command;
    if (f.commandFile !== undefined) {
      try {
        content = readFileSync(f.commandFile, 'utf8');
      } catch (e) {
        throw new Error(`--command-file: ${(e as Error).message}`);
      }
    }
    const command = script(f.commandFile !== undefined ? 'command-file' : 'command', content, f);
    if (command) p.command = command;
  } else if (runbook === 'rollingAppUpdate') {
    const probe = script('probe', f.probe, f);
    const deploy = script('deploy', f.deploy, f);
    if (probe) p.probe = probe;
    if (deploy) p.deploy = deploy;
    if (f.appVersion !== undefined) {
      if (f.appVersion.trim() === '') throw new Error('--app-version: the version is empty');
      p.version = f.appVersion;
    }
  } else if (runbook === 'patchFleet') {
    if (f.packages !== undefined)
      p.packages = f.packages
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (f.reboot !== undefined) {
      if (!['never', 'always', 'if-required'].includes(f.reboot))
        throw new Error(`--reboot: expected never, always or if-required, got "${f.reboot}"`);
      p.reboot = f.reboot;
    }
    const t = positiveInt('timeout', f.timeout);
    if (t) p.timeoutSeconds = t;
  }
  if (healthCheck)
    p[runbook === 'patchFleet' ? 'postCheck' : 'healthCheck'] =
      runbook === 'patchFleet' ? health : healthCheck;
  if (rollback) p.rollback = rollback;
  Object.assign(p, extraParams(f));
  requireParams(runbook, p);
  return p;
}

function requireParams(runbook: string, p: Record<string, unknown>): void {
  const need: Record<string, [string, string][]> = {
    rollingCommand: [['command', '--command or --command-file']],
    rollingAppUpdate: [
      ['version', '--app-version'],
      ['probe', '--probe'],
      ['deploy', '--deploy'],
    ],
  };
  const missing = (need[runbook] ?? []).filter(([k]) => p[k] === undefined).map(([, flag]) => flag);
  if (missing.length) throw new Error(`${runbook} needs ${missing.join(', ')}`);
}

export function runbookInput(runbook: string, f: RunFlags, region: string): RunbookInput {
  return { params: runbookParams(runbook, f), rollout: rolloutOptions(f, region) };
}
