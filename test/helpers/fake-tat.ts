// Fake activities for the engine's logic tests on the time-skipping server: a fleet in memory whose
// tasks end at once with the status a test decides per (step key, instance). It records every
// saved command, invocation and cancellation, and how many tasks were in flight (invoked, result
// not yet handed to the workflow) at the most, so tests check budget, shapes and rollback order
// without tatd or agents. Shaped like `createActivities` (activities/index.ts).

import type { createActivities } from '../../activities/index.js';
import type {
  AgentStatusResult,
  CommandSpec,
  InvokeChunkInput,
  OutputCapture,
  PollTasksInput,
  PrepareStepInput,
  TaskResult,
} from '../../activities/types.js';
import { outcomeOf } from '../../tat/outcome.js';
import type { TaskStatus } from '../../tat/status.js';

export interface TaskEnd {
  status: TaskStatus;
  output?: string;
}

/** How a task ends: by the step's saved-command key, the instance and the invocation parameters. */
export type Behaviour = (step: string, instance: string, parameters: Record<string, string>) => TaskEnd;

export interface Invocation {
  id: string;
  step: string;
  instances: string[];
  parameters: Record<string, string>;
}

const STARTED = new Set<TaskStatus>(['SUCCESS', 'FAILED', 'TIMEOUT', 'TASK_TIMEOUT', 'TERMINATED']);

export class FakeTat {
  readonly commands = new Map<string, { step: string; command: CommandSpec; parameters: boolean }>();
  /** Give a new invocation's results with it (as invokeChunk does when its tasks end while it watches). */
  finishOnInvoke = false;
  /** Instances whose agent runs Windows. */
  windows: string[] = [];
  /** agentStatus answers something the engine cannot read (for its error path). */
  brokenAgentStatus = false;
  readonly invocations: Invocation[] = [];
  readonly deleted: string[] = [];
  /** Results not handed to the workflow yet, by invocation. */
  private readonly unreported = new Map<string, TaskResult[]>();
  private inFlight = 0;
  maxInFlight = 0;
  private n = 0;

  constructor(
    readonly ids: string[],
    private readonly behaviour: Behaviour = () => ({ status: 'SUCCESS' }),
    /** Instances whose agent is offline at plan time. */
    private readonly offline: string[] = [],
  ) {}

  /** Invocations of one step key, in the order they were made. */
  of(step: string): Invocation[] {
    return this.invocations.filter((i) => i.step === step);
  }

  /** How many times each instance got a task of `step`. */
  runs(step: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const i of this.of(step)) for (const id of i.instances) out.set(id, (out.get(id) ?? 0) + 1);
    return out;
  }

  private result(inv: Invocation, instance: string, capture: OutputCapture): TaskResult {
    const end = this.behaviour(inv.step, instance, inv.parameters);
    const r: TaskResult = {
      instanceId: instance,
      invocationId: inv.id,
      taskId: `${inv.id}-${instance}`,
      status: end.status,
      outcome: outcomeOf(end.status)!,
      exitCode: end.status === 'SUCCESS' ? 0 : end.status === 'FAILED' ? 1 : null,
      started: STARTED.has(end.status),
      startTime: null,
      endTime: null,
    };
    const keep = capture === 'all' || (capture === 'failures' && end.status !== 'SUCCESS');
    if (keep && end.output !== undefined) r.output = end.output;
    return r;
  }

  activities(): ReturnType<typeof createActivities> {
    return {
      // Temporal's time-skipping test server cannot register search attributes: runs set none.
      runVisibility: async () => ({ account: 'AKIDfake', searchAttributes: false }),
      prepareStep: async (i: PrepareStepInput) => {
        const commandId = `cmd-${i.step}`;
        this.commands.set(commandId, { step: i.step, command: i.command, parameters: i.parameters === true });
        return { commandId };
      },
      invokeChunk: async (i: InvokeChunkInput) => {
        const step = this.commands.get(i.commandId)!.step;
        const inv: Invocation = {
          id: `inv-${++this.n}`,
          step,
          instances: i.instanceIds,
          parameters: i.parameters ?? {},
        };
        this.invocations.push(inv);
        this.inFlight += i.instanceIds.length;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        if (this.finishOnInvoke && i.watch) {
          this.inFlight -= i.instanceIds.length;
          const finished = inv.instances.map((id) => this.result(inv, id, i.watch!.output));
          return { invocationId: inv.id, reused: false, finished };
        }
        this.unreported.set(inv.id, []);
        return { invocationId: inv.id, reused: false };
      },
      pollTasks: async (i: PollTasksInput) => {
        const known = new Set(i.known);
        const finished: TaskResult[] = [];
        for (const id of i.invocationIds) {
          const inv = this.invocations.find((v) => v.id === id)!;
          for (const instance of inv.instances) {
            const r = this.result(inv, instance, i.output);
            if (known.has(r.taskId)) continue;
            finished.push(r);
          }
          if (this.unreported.delete(id)) this.inFlight -= inv.instances.length;
        }
        return { finished, pending: {} };
      },
      cancelInvocations: async () => ({ settled: true, results: [] }),
      agentStatus: async (i) =>
        this.brokenAgentStatus
          ? ({ online: [] } as unknown as AgentStatusResult)
          : {
              online: i.instanceIds.filter((id) => this.ids.includes(id) && !this.offline.includes(id)),
              offline: i.instanceIds.filter((id) => this.offline.includes(id)),
              unknown: i.instanceIds.filter((id) => !this.ids.includes(id)),
              windows: i.instanceIds.filter((id) => this.windows.includes(id)),
            },
      resolveTargets: async (i) => ('instanceIds' in i.selector ? i.selector.instanceIds : this.ids),
      waitReboot: async (i) => ({ back: i.instanceIds, notRebooted: [], notBack: [] }),
      openInvocations: async () => [],
      deleteCommands: async (i) => {
        this.deleted.push(...i.commandIds);
      },
    };
  }
}

/** `n` instance ids. */
export const fleet = (n: number): string[] => Array.from({ length: n }, (_, i) => `ins-fake${i}`);
