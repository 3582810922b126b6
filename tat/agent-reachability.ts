// The InvokeCommand / RunCommand refusals that are about some instances of the call rather than the
// request itself: the agent is not there (offline, never installed, or the machine is not running).
// The TAT API decides them per instance at the call. One list, used by the activities (such a
// refusal is permanent for that call, so it is not retried as it is) and by the engine (it takes
// those targets out, waits a grace period for their agents, and invokes the rest).

import type { TatErrorCode } from './error-codes.js';

export const AGENT_UNREACHABLE_CODES = [
  'ResourceUnavailable.AgentStatusNotOnline',
  'ResourceUnavailable.AgentNotInstalled',
  'ResourceUnavailable.InstanceStateNotRunning',
] as const satisfies readonly TatErrorCode[];

export type AgentUnreachableCode = (typeof AGENT_UNREACHABLE_CODES)[number];

const UNREACHABLE = new Set<string>(AGENT_UNREACHABLE_CODES);

/** True for a refusal that says the agent of some target is not reachable now. */
export function isAgentUnreachableCode(code: string | undefined): code is AgentUnreachableCode {
  return code !== undefined && UNREACHABLE.has(code);
}
