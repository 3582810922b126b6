// DescribeRegions: the regions this tatd serves, with their state (from its configuration).

import type { CallContext } from '../context.js';
import type { RegionInfo } from '../../tat/index.js';

export function describeRegions(ctx: CallContext): Promise<{ TotalCount: number; RegionSet: RegionInfo[] }> {
  const RegionSet = ctx.server.config.regions.map((r): RegionInfo => ({
    Region: r.Region,
    RegionName: r.RegionName,
    RegionState: r.RegionState,
  }));
  return Promise.resolve({ TotalCount: RegionSet.length, RegionSet });
}
