// `tatflow logs`: the output of every task a run made, successful ones too, read from the TAT
// endpoint (DescribeInvocationTasks with HideOutput false), not from the run: a run keeps only
// excerpts of failures in its state. Which invocations a run made is in its history (each
// `invokeChunk` activity's input names the command and targets, its result the invocation id),
// across a continue-as-new chain (each run's start names the run before it), so this needs no
// worker and works on a run that ended. The step comes from the task's command name, which names
// the run and the step (`tatflow-<run hash>-<step key>`, activities/commands.ts); runs that made
// their commands in (remote) `prepareStep` activities also say it in their history.

import { defaultPayloadConverter } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type {
  InvokeChunkInput,
  InvokedChunk,
  PrepareStepInput,
  PreparedStep,
} from '../../activities/types.js';
import { allPages, slices } from '../../activities/pages.js';
import { tatCall } from '../../activities/errors.js';
import type { TatClient } from '../../tat/node/client.js';
import type { RunbookInput } from '../../workflows/engine/types.js';
import type { LogTaskJson } from '../json-output.js';

/** One invocation the run made: a step on some targets. */
export interface RunInvocation {
  invocationId: string;
  commandId: string;
  /** The runbook step's name, or `probe`, `health`, `rollback`, when the history says it. */
  step?: string;
  instanceIds: string[];
}

export interface RunRecord {
  /** The run's region (from its input); undefined when the history has no input. */
  region?: string;
  invocations: RunInvocation[];
  /** The run (the last of its chain) has ended. */
  closed: boolean;
}

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
const first = <T>(p: Payloads): T | undefined => {
  const payload = p?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
};

/** The step of a saved command's key (`step.deploy` → `deploy`; `health`, `rollback`, `probe` as they are). */
export function stepOfKey(key: string): string {
  return key.startsWith('step.') ? key.slice('step.'.length) : key;
}

/** The step of a command tatflow made for a run (`tatflow-<12 hex>-<step key>`), if it is one. */
export function stepOfCommandName(name: string | undefined): string | undefined {
  const m = /^tatflow-[0-9a-f]{12}-(.+)$/.exec(name ?? '');
  return m ? stepOfKey(m[1]!) : undefined;
}

/** What one execution's history says: its input, the run before it, its invocations, whether it ended. */
function readHistory(events: temporal.api.history.v1.IHistoryEvent[]) {
  const scheduled = new Map<string, InvokeChunkInput>();
  const preparing = new Map<string, PrepareStepInput>();
  const stepOfCommand = new Map<string, string>();
  const invocations: RunInvocation[] = [];
  let input: RunbookInput | undefined;
  let previous: string | undefined;
  let closed = false;
  for (const e of events) {
    const started = e.workflowExecutionStartedEventAttributes;
    if (started) {
      input = first<RunbookInput>(started.input);
      previous = started.continuedExecutionRunId || undefined;
    }
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === 'invokeChunk') {
      const i = first<InvokeChunkInput>(s.input);
      if (i) scheduled.set(String(e.eventId), i);
    }
    if (s?.activityType?.name === 'prepareStep') {
      const i = first<PrepareStepInput>(s.input);
      if (i) preparing.set(String(e.eventId), i);
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const p = preparing.get(String(c.scheduledEventId));
      const made = p && first<PreparedStep>(c.result);
      if (p && made) stepOfCommand.set(made.commandId, stepOfKey(p.step));
      const i = scheduled.get(String(c.scheduledEventId));
      const r = i && first<InvokedChunk>(c.result);
      if (i && r) {
        const step = stepOfCommand.get(i.commandId);
        invocations.push({
          invocationId: r.invocationId,
          commandId: i.commandId,
          ...(step ? { step } : {}),
          instanceIds: i.instanceIds,
        });
      }
    }
    if (
      e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes
    )
      closed = true;
  }
  return { input, previous, invocations, closed };
}

/** The invocations of a run, over its whole continue-as-new chain, oldest first. */
export async function runRecord(client: Client, runId: string): Promise<RunRecord> {
  const chain: ReturnType<typeof readHistory>[] = [];
  let handle = client.workflow.getHandle(runId);
  for (;;) {
    const h = readHistory((await handle.fetchHistory()).events ?? []);
    chain.unshift(h);
    if (!h.previous) break;
    handle = client.workflow.getHandle(runId, h.previous);
  }
  const region = chain.find((h) => h.input)?.input?.rollout.region;
  return {
    ...(region ? { region } : {}),
    invocations: chain.flatMap((h) => h.invocations),
    closed: chain[chain.length - 1]!.closed,
  };
}

const FINAL = new Set([
  'SUCCESS',
  'FAILED',
  'TIMEOUT',
  'TASK_TIMEOUT',
  'DELIVER_FAILED',
  'START_FAILED',
  'CANCELLED',
  'TERMINATED',
]);

/** The tasks of these invocations with their outputs; `final` tells whether each has ended. */
export async function invocationTasks(
  tat: TatClient,
  invocations: RunInvocation[],
): Promise<{ task: LogTaskJson; final: boolean }[]> {
  const stepOf = new Map(invocations.map((i) => [i.invocationId, i.step]));
  const out: { task: LogTaskJson; final: boolean }[] = [];
  for (const ids of slices(
    invocations.map((i) => i.invocationId),
    10,
  )) {
    const tasks = await allPages(async (Offset, Limit) => {
      const r = await tatCall(tat, 'DescribeInvocationTasks', () =>
        tat.DescribeInvocationTasks({
          Filters: [{ Name: 'invocation-id', Values: ids }],
          HideOutput: false,
          Offset,
          Limit,
        }),
      );
      return { items: r.InvocationTaskSet ?? [], total: r.TotalCount ?? 0 };
    });
    for (const t of tasks) {
      const r = t.TaskResult;
      const status = t.TaskStatus ?? '';
      out.push({
        final: FINAL.has(status),
        task: {
          instance: t.InstanceId ?? '',
          // CommandName is in TAT's InvocationTask, not in the Node SDK's type of it.
          step:
            stepOf.get(t.InvocationId ?? '') ??
            stepOfCommandName((t as { CommandName?: string }).CommandName) ??
            '',
          invocationId: t.InvocationId ?? '',
          taskId: t.InvocationTaskId ?? '',
          status,
          exitCode: r && r.ExitCode !== undefined && FINAL.has(status) ? r.ExitCode : null,
          output: Buffer.from(r?.Output ?? '', 'base64').toString('utf8'),
          dropped: r?.Dropped ?? 0,
          outputUrl: r?.OutputUrl || null,
          startTime: r?.ExecStartTime || t.StartTime || null,
          endTime: r?.ExecEndTime || t.EndTime || null,
        },
      });
    }
  }
  // In the order the run made them, then by instance.
  const order = new Map(invocations.map((i, n) => [i.invocationId, n]));
  return out.sort(
    (a, b) =>
      (order.get(a.task.invocationId) ?? 0) - (order.get(b.task.invocationId) ?? 0) ||
      a.task.instance.localeCompare(b.task.instance),
  );
}

/** One task as text: a header line, then its output indented. */
export function renderTask(t: LogTaskJson): string {
  const exit = t.exitCode !== null ? `, exit ${t.exitCode}` : '';
  const head = `── ${t.instance} · ${t.step} · ${t.status}${exit} · ${t.taskId}`;
  const lines = [head];
  const body = t.output.replace(/\n$/, '');
  if (body) lines.push(body.replace(/^/gm, '  '));
  if (t.dropped > 0) lines.push(`  [${t.dropped} more bytes not kept by the TAT endpoint]`);
  if (t.outputUrl) lines.push(`  full output: ${t.outputUrl}`);
  return lines.join('\n');
}
