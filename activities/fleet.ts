// The fleet as the TAT endpoint reports it: every instance with an agent
// (DescribeAutomationAgentStatus: id, agent status and version, OS) joined with the managed
// instances (DescribeRegisterInstances: name, tags, host name, address, OS). That is all the TAT
// API says of instances: the names and tags of CVM and Lighthouse instances live in the CVM and
// Lighthouse APIs, which tatflow does not call (it speaks only the TAT API), so for those only the
// id, kind, agent status, version and OS are known. `tatflow instances` lists this, and selectors
// (activities/selector.ts) are matched against it.

import { instanceKindOf } from '../tat/ids.js';
import type { TatClient } from '../tat/node/client.js';
import { badInput, errorCode, tatCall } from './errors.js';
import { allPages } from './pages.js';
import {
  matchesAny,
  needsManagedDetails,
  type InstanceKind,
  type Selectable,
  type Selector,
} from './selector.js';

export interface FleetInstance extends Selectable {
  /** The agent's version; absent for a managed instance whose agent never reported one. */
  agentVersion?: string;
  lastHeartbeat?: string;
  /** Managed instances: what the machine reported when it registered or last validated. */
  hostname?: string;
  localIp?: string;
  registerCodeId?: string;
  registeredAt?: string;
}

export interface Fleet {
  instances: FleetInstance[];
  /**
   * False when the endpoint does not offer DescribeRegisterInstances in the region
   * (UnsupportedOperation): no names or tags are known then.
   */
  managedListed: boolean;
}

const KIND: Record<'CVM' | 'LIGHTHOUSE' | 'MANAGED', InstanceKind> = {
  CVM: 'cvm',
  LIGHTHOUSE: 'lighthouse',
  MANAGED: 'managed',
};

const osOf = (v: string | undefined): 'Linux' | 'Windows' | undefined =>
  v === 'Linux' || v === 'Windows' ? v : undefined;

/** Every instance of the region the TAT endpoint knows: agents first, in the API's order. */
export async function describeFleet(tat: TatClient): Promise<Fleet> {
  const agents = await allPages(async (Offset, Limit) => {
    const r = await tatCall(tat, 'DescribeAutomationAgentStatus', () =>
      tat.DescribeAutomationAgentStatus({ Offset, Limit }),
    );
    return { items: r.AutomationAgentSet ?? [], total: r.TotalCount ?? 0 };
  });
  let managedListed = true;
  const managed = await allPages(async (Offset, Limit) => {
    const r = await tatCall(tat, 'DescribeRegisterInstances', () =>
      tat.DescribeRegisterInstances({ Offset, Limit }),
    );
    return { items: r.RegisterInstanceSet ?? [], total: r.TotalCount ?? 0 };
  }).catch((e: unknown) => {
    if (errorCode(e) !== 'UnsupportedOperation') throw e;
    managedListed = false;
    return [];
  });
  const byId = new Map<string, FleetInstance>();
  for (const a of agents) {
    const id = a.InstanceId ?? '';
    const kind = instanceKindOf(id);
    if (!kind || byId.has(id)) continue;
    const os = osOf(a.Environment);
    byId.set(id, {
      id,
      kind: KIND[kind],
      online: a.AgentStatus === 'Online',
      tags: [],
      ...(a.Version ? { agentVersion: a.Version } : {}),
      ...(os ? { os } : {}),
      ...(a.LastHeartbeatTime ? { lastHeartbeat: a.LastHeartbeatTime } : {}),
    });
  }
  for (const m of managed) {
    const id = m.InstanceId ?? '';
    if (!instanceKindOf(id)) continue;
    const known = byId.get(id);
    const os = osOf(m.SystemName);
    const details: FleetInstance = {
      id,
      kind: 'managed',
      // The agent status is the truth when there is one; a registered machine whose agent never
      // called in is only in this list.
      online: known ? known.online : m.Status === 'Online',
      tags: (m.Tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
      ...(m.InstanceName ? { name: m.InstanceName } : {}),
      ...(os ? { os } : {}),
      ...(m.HostName ? { hostname: m.HostName } : {}),
      ...(m.LocalIp ? { localIp: m.LocalIp } : {}),
      ...(m.RegisterCodeId ? { registerCodeId: m.RegisterCodeId } : {}),
      ...(m.CreatedTime ? { registeredAt: m.CreatedTime } : {}),
    };
    byId.set(id, known ? { ...known, ...details, ...(known.os ? { os: known.os } : {}) } : details);
  }
  return { instances: [...byId.values()], managedListed };
}

/** The instances matching any of the selectors (every one without selectors), in the fleet's order. */
export function selectFrom(fleet: Fleet, selectors: Selector[], region: string): FleetInstance[] {
  if (!fleet.managedListed && needsManagedDetails(selectors))
    throw badInput(
      `Selecting by name or tag needs DescribeRegisterInstances, which the TAT endpoint does not ` +
        `support in ${region} (UnsupportedOperation). Select by id, kind, os or status instead.`,
      'UnsupportedOperation',
    );
  return selectors.length ? fleet.instances.filter((i) => matchesAny(selectors, i)) : fleet.instances;
}
