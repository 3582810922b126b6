// DescribeAutomationAgentStatus: the agents of the caller's account and region, Online while
// their WebSocket is open.

import {
  TatError,
  apiTime,
  checkFilterValues,
  checkListRequest,
  instanceKindOf,
  type AutomationAgentInfo,
  type RequestOf,
} from '../../tat/index.js';
import type { CallContext } from '../context.js';

const AGENT_FILTERS = {
  filters: ['agent-status', 'environment', 'instance-id'],
  idsField: 'InstanceIds',
} as const;

export async function describeAutomationAgentStatus(
  ctx: CallContext,
  req: RequestOf<'DescribeAutomationAgentStatus'>,
) {
  const page = checkListRequest(AGENT_FILTERS, req.InstanceIds, req.Filters, req.Limit, req.Offset);
  const checkIds = (ids: string[]) => {
    const bad = ids.filter((id) => instanceKindOf(id) === undefined);
    if (bad.length > 0)
      throw new TatError('InvalidParameterValue.InvalidInstanceId', `Not instance ids: ${bad.join(', ')}.`);
  };
  if (req.InstanceIds) checkIds(req.InstanceIds);
  for (const f of req.Filters ?? []) {
    if (f.Name === 'agent-status') checkFilterValues(f, ['Online', 'Offline']);
    if (f.Name === 'environment') checkFilterValues(f, ['Linux', 'Windows']);
    if (f.Name === 'instance-id') checkIds(f.Values);
  }
  const { hub } = ctx.server;
  const rows = await ctx.server.db
    .selectFrom('instances')
    .select(['id', 'agent_version', 'environment', 'last_seen_at'])
    .where('account', '=', ctx.account)
    .where('region', '=', ctx.region)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const agents: AutomationAgentInfo[] = rows.map((r) => ({
    InstanceId: r.id,
    Version: r.agent_version,
    LastHeartbeatTime: apiTime(hub.lastHeartbeat(r.id) ?? r.last_seen_at),
    AgentStatus: hub.isOnline(r.id) ? 'Online' : 'Offline',
    Environment: r.environment === 'Windows' ? 'Windows' : 'Linux',
    SupportFeatures: [],
  }));
  const ids = req.InstanceIds ? new Set(req.InstanceIds) : undefined;
  const matching = agents.filter(
    (a) =>
      (!ids || ids.has(a.InstanceId)) &&
      (req.Filters ?? []).every((f) => {
        if (f.Name === 'agent-status') return f.Values.includes(a.AgentStatus);
        if (f.Name === 'environment') return f.Values.includes(a.Environment);
        return f.Values.includes(a.InstanceId);
      }),
  );
  return {
    TotalCount: matching.length,
    AutomationAgentSet: matching.slice(page.offset, page.offset + page.limit),
  };
}
