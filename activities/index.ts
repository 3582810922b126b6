// The activities the worker registers: thin adapters from workflow steps to TAT API calls, each
// against the client of the region its input names. Workflows take the types with
// `proxyActivities<ReturnType<typeof createActivities>>` and import nothing else from here.

import { agentStatus, resolveTargets, waitReboot } from './agents.js';
import { cancelInvocations } from './cancel.js';
import { clientsFor, type ActivitiesConfig } from './clients.js';
import { deleteCommands, prepareStep } from './commands.js';
import { invokeChunk, openInvocations, type InvokeHooks } from './invoke.js';
import { pollTasks } from './poll.js';
import type {
  AgentStatusInput,
  AgentStatusResult,
  CancelInput,
  CancelResult,
  CleanupInput,
  InvokeChunkInput,
  InvokedChunk,
  PollTasksInput,
  PollTasksResult,
  PreparedStep,
  PrepareStepInput,
  ResolveTargetsInput,
  WaitRebootInput,
  WaitRebootResult,
} from './types.js';

export type { ActivitiesConfig } from './clients.js';
export type { InvokeHooks } from './invoke.js';

/** What a run asks its worker once, for its search attributes (workflows/engine/visibility.ts). */
export interface RunVisibilityInfo {
  /** The key id (SecretId) the worker calls the TAT API with: the run's account. */
  account: string;
  /** The worker registered the runs' search attributes in its namespace: runs may set them. */
  searchAttributes: boolean;
}

/**
 * `o.searchAttributes`: the worker registered the runs' search attributes; `o.invoke`: test seams
 * for fault injection (never set in production).
 */
export function createActivities(
  config: ActivitiesConfig,
  o: { searchAttributes?: boolean; invoke?: InvokeHooks } = {},
) {
  const tat = clientsFor(config);
  return {
    /** The saved command of a (run, step), created once and found again by name. */
    prepareStep: (i: PrepareStepInput): Promise<PreparedStep> => prepareStep(tat(i.region), i),
    /** One invocation of a step on ≤100 instances of one kind, made once whatever the retries. */
    invokeChunk: (i: InvokeChunkInput): Promise<InvokedChunk> => invokeChunk(tat(i.region), i, o.invoke),
    /** Waits until one more task (`any`) or every task (`all`) is final; heartbeats. */
    pollTasks: (i: PollTasksInput): Promise<PollTasksResult> => pollTasks(tat(i.region), i),
    /** Cancels invocations and waits (bounded) until their tasks are final; heartbeats. */
    cancelInvocations: (i: CancelInput): Promise<CancelResult> => cancelInvocations(tat(i.region), i),
    agentStatus: (i: AgentStatusInput): Promise<AgentStatusResult> => agentStatus(tat(i.region), i),
    resolveTargets: (i: ResolveTargetsInput): Promise<string[]> => resolveTargets(tat(i.region), i),
    /** Waits for each agent to go offline and come back; heartbeats. */
    waitReboot: (i: WaitRebootInput): Promise<WaitRebootResult> => waitReboot(tat(i.region), i),
    /** Invocations of the run's commands not final yet (found again after a lost answer). */
    openInvocations: (i: CleanupInput): Promise<string[]> => openInvocations(tat(i.region), i.commandIds),
    /** Deletes the run's commands; ones already gone are fine. */
    deleteCommands: (i: CleanupInput): Promise<void> => deleteCommands(tat(i.region), i),
    /** The account a run shows (the key id, or the name given for rotating credentials). */
    runVisibility: (): Promise<RunVisibilityInfo> =>
      Promise.resolve({
        account: config.account ?? config.secretId ?? 'temporary credentials',
        searchAttributes: o.searchAttributes === true,
      }),
  };
}
