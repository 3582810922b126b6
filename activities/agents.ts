// Agents and targets through the TAT API only: agent status (DescribeAutomationAgentStatus),
// target selectors, and waiting for machines to reboot (their agent goes offline, then online).

import { Context } from '@temporalio/activity';
import { instanceKindOf } from '../tat/ids.js';
import type { TatClient } from '../tat/node/client.js';
import { badInput, errorCode, tatCall } from './errors.js';
import { describeFleet, selectFrom } from './fleet.js';
import { allPages, slices, unique } from './pages.js';
import { parseSelector, SelectorError, type Selector } from './selector.js';
import type {
  AgentStatusInput,
  AgentStatusResult,
  ResolveTargetsInput,
  WaitRebootInput,
  WaitRebootResult,
} from './types.js';

type Presence = 'Online' | 'Offline' | 'unknown';

/** The agent status of each id; ids TAT does not know (or that are no instance ids) are `unknown`. */
async function presenceOf(
  tat: TatClient,
  instanceIds: string[],
  windows?: Set<string>,
): Promise<Map<string, Presence>> {
  const ids = unique(instanceIds);
  const presence = new Map<string, Presence>(ids.map((id) => [id, 'unknown']));
  // A malformed id would fail the whole call: it cannot be known, so it is not asked for.
  for (const chunk of slices(ids.filter((id) => instanceKindOf(id) !== undefined))) {
    const r = await tatCall(tat, 'DescribeAutomationAgentStatus', () =>
      tat.DescribeAutomationAgentStatus({ InstanceIds: chunk, Limit: chunk.length }),
    );
    for (const a of r.AutomationAgentSet ?? [])
      if (presence.has(a.InstanceId!)) {
        presence.set(a.InstanceId!, a.AgentStatus === 'Online' ? 'Online' : 'Offline');
        if (a.Environment === 'Windows') windows?.add(a.InstanceId!);
      }
  }
  return presence;
}

export async function agentStatus(tat: TatClient, input: AgentStatusInput): Promise<AgentStatusResult> {
  const windows = new Set<string>();
  const presence = await presenceOf(tat, input.instanceIds, windows);
  const result: AgentStatusResult = { online: [], offline: [], unknown: [], windows: [...windows] };
  for (const [id, p] of presence) {
    if (p === 'Online') result.online.push(id);
    else if (p === 'Offline') result.offline.push(id);
    else result.unknown.push(id);
  }
  return result;
}

async function onlineInstances(tat: TatClient): Promise<string[]> {
  const agents = await allPages(async (Offset, Limit) => {
    const r = await tatCall(tat, 'DescribeAutomationAgentStatus', () =>
      tat.DescribeAutomationAgentStatus({
        Filters: [{ Name: 'agent-status', Values: ['Online'] }],
        Offset,
        Limit,
      }),
    );
    return { items: r.AutomationAgentSet ?? [], total: r.TotalCount ?? 0 };
  });
  return unique(agents.map((a) => a.InstanceId!));
}

/**
 * Managed instances whose name contains `text`. The `instance-name` filter is documented without
 * saying whether it matches exactly or by substring, so every managed instance is listed and
 * matched here.
 */
async function managedNamed(tat: TatClient, text: string, region: string): Promise<string[]> {
  try {
    const all = await allPages(async (Offset, Limit) => {
      const r = await tatCall(tat, 'DescribeRegisterInstances', () =>
        tat.DescribeRegisterInstances({ Offset, Limit }),
      );
      return { items: r.RegisterInstanceSet ?? [], total: r.TotalCount ?? 0 };
    });
    return unique(all.filter((i) => (i.InstanceName ?? '').includes(text)).map((i) => i.InstanceId!));
  } catch (e) {
    if (errorCode(e) !== 'UnsupportedOperation') throw e;
    throw badInput(
      `Targets by managed-instance name need DescribeRegisterInstances, which the TAT endpoint ` +
        `does not support in ${region} (UnsupportedOperation). Give instance ids instead.`,
      'UnsupportedOperation',
    );
  }
}

/** The instances matching any of the selectors, in the order the TAT API lists them. */
async function selected(tat: TatClient, texts: string[], region: string): Promise<string[]> {
  if (!Array.isArray(texts) || texts.length === 0) throw badInput('select: give at least one selector.');
  const selectors: Selector[] = texts.map((t) => {
    try {
      return parseSelector(t);
    } catch (e) {
      if (e instanceof SelectorError) throw badInput(`select "${t}": ${e.message}`);
      throw e;
    }
  });
  return selectFrom(await describeFleet(tat), selectors, region).map((i) => i.id);
}

export async function resolveTargets(tat: TatClient, input: ResolveTargetsInput): Promise<string[]> {
  const s = input.selector;
  if ('instanceIds' in s) return unique(s.instanceIds);
  if ('online' in s) return onlineInstances(tat);
  if ('managedName' in s) return managedNamed(tat, s.managedName, input.region);
  if ('select' in s) return selected(tat, s.select, input.region);
  throw badInput(`resolveTargets: unknown selector ${JSON.stringify(s)}.`);
}

/**
 * Watches each instance's agent go offline (within `offlineWithinMs` of the start) and come back
 * (within `onlineWithinMs` of being seen offline). A reboot shorter than the poll interval is not
 * seen: keep the interval well under the time a machine takes to restart.
 */
export async function waitReboot(tat: TatClient, input: WaitRebootInput): Promise<WaitRebootResult> {
  const ctx = Context.current();
  const start = Date.now();
  const result: WaitRebootResult = { back: [], notRebooted: [], notBack: [] };
  const waitingOffline = new Set(unique(input.instanceIds));
  const offlineSince = new Map<string, number>();
  for (;;) {
    const presence = await presenceOf(tat, [...waitingOffline, ...offlineSince.keys()]);
    const now = Date.now();
    for (const [id, since] of offlineSince) {
      if (presence.get(id) === 'Online') result.back.push(id);
      else if (now - since > input.onlineWithinMs) result.notBack.push(id);
      else continue;
      offlineSince.delete(id);
    }
    for (const id of waitingOffline) {
      if (presence.get(id) !== 'Online') offlineSince.set(id, now);
      else if (now - start > input.offlineWithinMs) result.notRebooted.push(id);
      else continue;
      waitingOffline.delete(id);
    }
    if (waitingOffline.size + offlineSince.size === 0) return result;
    ctx.heartbeat({ waitingOffline: waitingOffline.size, waitingOnline: offlineSince.size });
    await ctx.sleep(input.pollIntervalMs);
  }
}
