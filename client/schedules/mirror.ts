// `tatflow schedule mirror-invokers`: each TAT invoker of an endpoint (tatd, or Tencent Cloud)
// becomes the runbook schedule `tatflow-<invoker id>`: `rollingCommand` with the invoker's command
// (its content, type, directory, timeout, default parameters), the invoker's parameters, user and
// instances, its crontab read in Asia/Shanghai as TAT reads it, and the rollout options given on the
// mirror command (batches, error budget, health check …). So "run this every night on 200 machines"
// becomes a canary, batched, budgeted, rollback-able nightly run.
//
// Decisions (docs/schedules.md, "Mirroring TAT invokers"):
// - A ONCE invoker whose time is ahead becomes a one-off schedule (a calendar pinned to that
//   second, in UTC); one whose time has passed is skipped, saying so.
// - A disabled invoker becomes a paused schedule, when its schedule is created; afterwards pausing
//   is the schedule's own business (so `--disable-originals`, which disables the invokers, changes
//   nothing on a second run).
// - Idempotent: a schedule that already does what the invoker and these options say is left alone
//   (`unchanged`); one that differs is updated (`update`, saying what differs); a Schedule of that
//   id that tatflow did not make is left alone (`skip`).
// - `--disable-originals` disables an invoker only once its schedule exists.

import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Invoker } from '../../tat/schemas/types.js';
import { instantCalendar } from '../../tat/cron.js';
import { parseInvokeTime, TAT_CRON_ZONE } from '../../tat/schedule.js';
import { allPages } from '../../activities/pages.js';
import type { TatClient } from '../../tat/node/client.js';
import type { RolloutOptions, RunbookInput } from '../../workflows/engine/types.js';
import { digest, partsOf, type ScheduleParts } from './definition.js';
import { createSchedule, updateSchedule } from './install.js';
import { scheduleIdOf } from './ids.js';
import { checkCron } from './spec.js';

/** What a mirrored command runs, from DescribeCommands. */
export interface CommandFacts {
  CommandId: string;
  Content: string;
  CommandType?: string;
  WorkingDirectory?: string;
  Timeout?: number;
  Username?: string;
  EnableParameter?: boolean;
  DefaultParameters?: string;
}

export interface MirrorOptions {
  region: string;
  endpoint?: string;
  taskQueue: string;
  /** Rollout options from the mirror command's flags; targets are each invoker's instances. */
  rollout: Omit<RolloutOptions, 'targets' | 'region'>;
  /** rollingCommand parameters from the flags (health check, rollback): laid over each invoker's. */
  params: Record<string, unknown>;
  overlap: ScheduleParts['def']['overlap'];
  catchupWindowSeconds: number;
  jitterSeconds?: number;
  nowMs: number;
  /** Checks a schedule's parameters against the runbook's schema (throws saying what is wrong). */
  check?: (params: Record<string, unknown>) => void;
}

export type MirrorAction = 'create' | 'update' | 'unchanged' | 'skip';

export interface MirrorItem {
  invokerId: string;
  invokerName: string;
  /** The schedule's name (its id is tatflow-<name>). */
  schedule: string;
  action: MirrorAction;
  /** Why skipped, or what differs for an update. */
  reason?: string;
  parts?: ScheduleParts;
  /** Created paused (the invoker is disabled). */
  paused?: boolean;
  /** The invoker was (with --dry-run: would be) disabled. */
  disabled?: boolean;
}

const b64decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');

function jsonObject(text: string | undefined, what: string): Record<string, string> {
  if (!text) return {};
  const v: unknown = JSON.parse(text);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} is not a JSON object`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

/** The schedule an invoker stands for, or why it has none. */
export function mirroredParts(
  inv: Invoker,
  cmd: CommandFacts | undefined,
  o: MirrorOptions,
): ScheduleParts | string {
  if (!cmd) return `its command ${inv.CommandId} was not found`;
  if (
    cmd.CommandType &&
    cmd.CommandType !== 'SHELL' &&
    cmd.CommandType !== 'POWERSHELL' &&
    cmd.CommandType !== 'BAT'
  )
    return `its command type ${cmd.CommandType} is not one the engine runs`;
  const s = inv.ScheduleSettings;
  let timing: ScheduleParts['def']['timing'];
  if (s.Policy === 'RECURRENCE') {
    try {
      timing = { when: { cron: checkCron(s.Recurrence) }, timezone: TAT_CRON_ZONE };
    } catch (e) {
      return `its crontab "${s.Recurrence}" cannot be mirrored: ${(e as Error).message}`;
    }
  } else {
    const at = parseInvokeTime(s.InvokeTime);
    if (at <= o.nowMs) return `a ONCE invoker whose time (${s.InvokeTime}) has passed`;
    timing = {
      when: { calendars: [instantCalendar(at, `once at ${s.InvokeTime}, as TAT invoker ${inv.InvokerId}`)] },
      timezone: 'UTC',
    };
  }
  if (o.jitterSeconds) timing.jitterSeconds = o.jitterSeconds;
  let defaults: Record<string, string>;
  let parameters: Record<string, string>;
  try {
    defaults = cmd.EnableParameter
      ? jsonObject(cmd.DefaultParameters, 'its command’s DefaultParameters')
      : {};
    parameters = jsonObject(inv.Parameters, 'its Parameters');
  } catch (e) {
    return (e as Error).message;
  }
  const username = inv.Username || cmd.Username;
  const command = {
    content: b64decode(cmd.Content),
    ...(cmd.CommandType && cmd.CommandType !== 'SHELL'
      ? { commandType: cmd.CommandType as 'POWERSHELL' | 'BAT' }
      : {}),
    ...(cmd.WorkingDirectory ? { workingDirectory: cmd.WorkingDirectory } : {}),
    ...(cmd.Timeout ? { timeout: cmd.Timeout } : {}),
    ...(username ? { username } : {}),
    ...(Object.keys(defaults).length ? { defaultParameters: defaults } : {}),
  };
  const input: RunbookInput = {
    params: {
      command,
      ...(Object.keys(parameters).length ? { parameters } : {}),
      ...o.params,
    },
    rollout: { ...o.rollout, region: o.region, targets: { instanceIds: [...inv.InstanceIds] } },
  };
  return {
    def: {
      version: 1,
      name: inv.InvokerId.toLowerCase(),
      runbook: 'rollingCommand',
      timing,
      overlap: o.overlap,
      catchupWindowSeconds: o.catchupWindowSeconds,
      mirroredFrom: {
        invokerId: inv.InvokerId,
        region: o.region,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      },
    },
    taskQueue: o.taskQueue,
    input,
  };
}

/** Every invoker of the region, and the commands they run. */
export async function readInvokers(
  tat: TatClient,
): Promise<{ invokers: Invoker[]; commands: Map<string, CommandFacts> }> {
  const invokers = (await allPages(async (Offset, Limit) => {
    const r = await tat.DescribeInvokers({ Offset, Limit });
    return { items: r.InvokerSet ?? [], total: r.TotalCount ?? 0 };
  })) as unknown as Invoker[];
  const commands = new Map<string, CommandFacts>();
  const ids = [...new Set(invokers.map((i) => i.CommandId))];
  for (let i = 0; i < ids.length; i += 100) {
    const r = await tat.DescribeCommands({ CommandIds: ids.slice(i, i + 100), Limit: 100 });
    for (const c of r.CommandSet ?? []) commands.set(c.CommandId!, c as unknown as CommandFacts);
  }
  return { invokers, commands };
}

/** What differs between two schedules' parts, in words. */
function differences(a: ScheduleParts, b: ScheduleParts): string {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const out: string[] = [];
  if (!same(a.def.timing, b.def.timing)) out.push('when it fires');
  if (!same(a.input.params, b.input.params)) out.push('the command or its parameters');
  if (!same(a.input.rollout.targets, b.input.rollout.targets)) out.push('the instances');
  const { targets: _t1, ...ra } = a.input.rollout;
  const { targets: _t2, ...rb } = b.input.rollout;
  void _t1;
  void _t2;
  if (!same(ra, rb) || a.taskQueue !== b.taskQueue) out.push('the rollout options');
  if (a.def.overlap !== b.def.overlap || a.def.catchupWindowSeconds !== b.def.catchupWindowSeconds)
    out.push('the policies');
  return out.length ? `differs in ${out.join(', ')}` : 'differs';
}

/** The plan: what each invoker's schedule needs, against what Temporal has now. */
export async function planMirror(
  client: Client,
  found: { invokers: Invoker[]; commands: Map<string, CommandFacts> },
  o: MirrorOptions,
): Promise<MirrorItem[]> {
  const out: MirrorItem[] = [];
  for (const inv of found.invokers) {
    const base = { invokerId: inv.InvokerId, invokerName: inv.Name, schedule: inv.InvokerId.toLowerCase() };
    let want = mirroredParts(inv, found.commands.get(inv.CommandId), o);
    if (typeof want !== 'string' && o.check)
      try {
        o.check(want.input.params as Record<string, unknown>);
      } catch (e) {
        want = `rollingCommand refuses its parameters: ${(e as Error).message}`;
      }
    if (typeof want === 'string') {
      out.push({ ...base, action: 'skip', reason: want });
      continue;
    }
    let have: ScheduleParts | undefined;
    let foreign = false;
    try {
      have = partsOf(await client.schedule.getHandle(scheduleIdOf(base.schedule)).describe());
    } catch (e) {
      if (e instanceof ScheduleNotFoundError) have = undefined;
      else if ((e as Error).message.includes('was not made by tatflow')) foreign = true;
      else throw e;
    }
    if (foreign) {
      out.push({
        ...base,
        action: 'skip',
        reason: `a Schedule ${scheduleIdOf(base.schedule)} exists that tatflow did not make`,
      });
      continue;
    }
    if (!have) out.push({ ...base, action: 'create', parts: want, ...(inv.Enable ? {} : { paused: true }) });
    else if (digest(have) === digest(want)) out.push({ ...base, action: 'unchanged', parts: want });
    else out.push({ ...base, action: 'update', parts: want, reason: differences(have, want) });
  }
  return out;
}

/** Carries the plan out; with `disableOriginals`, disables each enabled invoker once its schedule exists. */
export async function applyMirror(
  client: Client,
  tat: TatClient,
  plan: MirrorItem[],
  found: { invokers: Invoker[] },
  o: { nowMs: number; disableOriginals: boolean; dryRun: boolean },
): Promise<void> {
  for (const item of plan) {
    if (item.action === 'skip') continue;
    const p = item.parts!;
    if (!o.dryRun) {
      if (item.action === 'create')
        await createSchedule(
          client,
          p,
          o.nowMs,
          item.paused
            ? { paused: true, note: `mirrored from TAT invoker ${item.invokerId}, which was disabled` }
            : {},
        );
      else if (item.action === 'update') await updateSchedule(client, p, o.nowMs);
    }
    const inv = found.invokers.find((i) => i.InvokerId === item.invokerId)!;
    if (o.disableOriginals && inv.Enable) {
      if (!o.dryRun) await tat.DisableInvoker({ InvokerId: item.invokerId });
      item.disabled = true;
    }
  }
}
