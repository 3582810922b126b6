// The `--json` output of the CLI, one zod schema per command: what docs/cli.md documents and what
// the tests check every output against (strict objects: a field added here must be documented
// there). Every field is always present (null when unknown), so scripts need no existence checks.
// The commands build their output through these types and print it with `printJson`.

import { z } from 'zod';

const tag = z.strictObject({ key: z.string(), value: z.string() });

export const InstancesJson = z.strictObject({
  region: z.string(),
  /** False when the endpoint has no DescribeRegisterInstances there: no names or tags then. */
  managedListed: z.boolean(),
  /** The `--select` values given (none: the whole fleet). */
  select: z.array(z.string()),
  instances: z.array(
    z.strictObject({
      id: z.string(),
      kind: z.enum(['cvm', 'lighthouse', 'managed']),
      name: z.string().nullable(),
      online: z.boolean(),
      agentVersion: z.string().nullable(),
      os: z.enum(['Linux', 'Windows']).nullable(),
      tags: z.array(tag),
      hostname: z.string().nullable(),
      localIp: z.string().nullable(),
      lastHeartbeat: z.string().nullable(),
      registeredAt: z.string().nullable(),
    }),
  ),
});
export type InstancesJson = z.infer<typeof InstancesJson>;

export const RunbooksJson = z.strictObject({
  runbooks: z.array(
    z.strictObject({
      name: z.string(),
      /** `built-in`, or the runbook file it comes from. */
      source: z.string(),
      taskQueue: z.string(),
      description: z.string(),
      parameters: z.array(
        z.strictObject({
          name: z.string(),
          type: z.string(),
          required: z.boolean(),
          description: z.string(),
          /** The flags that set it (`--command`), besides `--param name=value`. */
          flags: z.array(z.string()),
        }),
      ),
    }),
  ),
});
export type RunbooksJson = z.infer<typeof RunbooksJson>;

const selector = z.union([
  z.strictObject({ instanceIds: z.array(z.string()) }),
  z.strictObject({ online: z.literal(true) }),
  z.strictObject({ managedName: z.string() }),
  z.strictObject({ select: z.array(z.string()) }),
]);

export const PreviewJson = z.strictObject({
  runbook: z.string(),
  region: z.string(),
  taskQueue: z.string(),
  targets: z.strictObject({
    selector,
    ids: z.array(z.string()),
    online: z.array(z.string()),
    offline: z.array(z.string()),
    unknown: z.array(z.string()),
    /** Of `ids`, those whose agents run Windows (the others: Linux, or not known). */
    windows: z.array(z.string()),
  }),
  /** Why the run would refuse to start; null when it would start. */
  refused: z.string().nullable(),
  /** The engine's plan (null when refused). */
  plan: z
    .strictObject({
      shape: z.enum(['batches', 'window', 'rampUp']),
      /** Lock-step batches (1-based); empty in the window and ramp-up shapes. */
      batches: z.array(z.strictObject({ batch: z.number().int(), targets: z.array(z.string()) })),
      /** Window and ramp-up: the most targets in flight; null for batches. */
      concurrency: z.number().int().nullable(),
      /** Targets skipped at the start: agent offline or unknown. */
      skipped: z.array(z.string()),
      /** Targets skipped at the start: their OS cannot run the runbook's scripts (SHELL on Windows, …). */
      unsupported: z.array(z.string()),
      maxErrors: z.number().int(),
      /** What counts against the budget. */
      counted: z.array(z.enum(['failed', 'timed out', 'agent lost', 'undeliverable'])),
      strictBudget: z.boolean(),
      approval: z
        .strictObject({
          beforeStart: z.boolean(),
          afterCanary: z.boolean(),
          everyBatch: z.boolean(),
          timeoutSeconds: z.number().int(),
          onTimeout: z.enum(['fail', 'continue']),
        })
        .nullable(),
      /** The run's maintenance window (docs/schedules.md), from its start; null when it has none. */
      maintenanceWindow: z
        .strictObject({ durationSeconds: z.number(), cutoffSeconds: z.number() })
        .nullable(),
    })
    .nullable(),
  /** What runs on each target, built from the parameters; `error` when it does not build. */
  definition: z.union([
    z.strictObject({
      probe: z.boolean(),
      steps: z.array(z.strictObject({ name: z.string(), kind: z.enum(['command', 'reboot']) })),
      healthCheck: z
        .strictObject({
          onInstance: z.string().nullable(),
          retries: z.number().int(),
          intervalSeconds: z.number(),
        })
        .nullable(),
      rollback: z.strictObject({ versionParameter: z.string().nullable() }).nullable(),
    }),
    z.strictObject({ error: z.string() }),
  ]),
});
export type PreviewJson = z.infer<typeof PreviewJson>;

/** A run's status as `status --json`, `run --json` and `runs --json` give it. */
export const RUN_STATUSES = [
  'planning',
  'running',
  'paused',
  'waiting for approval',
  'rolling back',
  'succeeded',
  'failed',
  'aborted',
  'skipped',
  'window closed',
] as const;
const runStatus = z.enum(RUN_STATUSES);
const decision = z.strictObject({ by: z.string(), comment: z.string().nullable(), at: z.string() });
const outcome = z.enum(['succeeded', 'failed', 'timed out', 'agent lost', 'undeliverable', 'cancelled']);

/** `tatflow status --json`, and `tatflow run --json` (the run's end). */
export const StatusJson = z.strictObject({
  run: z.string(),
  runbook: z.string().nullable(),
  status: runStatus,
  /** Why it failed or was aborted (who and why). */
  reason: z.string().nullable(),
  /** Why a run that did not fail did not do everything (skipped, window closed). */
  note: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  errors: z.number().int(),
  maxErrors: z.number().int(),
  gate: z.strictObject({ name: z.string(), since: z.string(), timeoutAt: z.string() }).nullable(),
  paused: decision.nullable(),
  aborted: decision.nullable(),
  decisions: z.array(
    z.strictObject({
      gate: z.string(),
      approved: z.boolean(),
      by: z.string(),
      comment: z.string().nullable(),
      at: z.string(),
    }),
  ),
  counts: z.strictObject({
    targets: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
    skipped: z.number().int(),
    pending: z.number().int(),
    running: z.number().int(),
  }),
  batches: z.array(
    z.strictObject({
      batch: z.number().int(),
      status: z.enum(['pending', 'running', 'healthy', 'failed', 'cancelled', 'skipped']),
      targets: z.array(z.string()),
      startedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
    }),
  ),
  targets: z.array(
    z.strictObject({
      id: z.string(),
      /** 1-based; null when it was never put in a batch (skipped at the start). */
      batch: z.number().int().nullable(),
      phase: z.enum(['pending', 'running', 'done', 'skipped']),
      outcome: outcome.nullable(),
      step: z.string().nullable(),
      taskStatus: z.string().nullable(),
      exitCode: z.number().int().nullable(),
      invocationId: z.string().nullable(),
      taskId: z.string().nullable(),
      changed: z.boolean(),
      unhealthy: z.boolean(),
      version: z.string().nullable(),
      reason: z.string().nullable(),
      rollback: z
        .strictObject({ status: z.string(), outcome, exitCode: z.number().int().nullable() })
        .nullable(),
    }),
  ),
});
export type StatusJson = z.infer<typeof StatusJson>;

/** `tatflow runs --json`. */
export const RunsJson = z.strictObject({
  filters: z.strictObject({
    status: z.array(runStatus),
    runbook: z.string().nullable(),
    since: z.string().nullable(),
  }),
  runs: z.array(
    z.strictObject({
      id: z.string(),
      runbook: z.string(),
      status: runStatus,
      startedBy: z.string().nullable(),
      account: z.string().nullable(),
      /** Progress as of the run's last finished batch (null: a run that does not publish it). */
      targets: z.number().int().nullable(),
      done: z.number().int().nullable(),
      failed: z.number().int().nullable(),
      startedAt: z.string(),
      endedAt: z.string().nullable(),
      ageSeconds: z.number().int(),
      /** Temporal's own execution status (`RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED` …). */
      temporalStatus: z.string(),
    }),
  ),
});
export type RunsJson = z.infer<typeof RunsJson>;

/** One task's output, as `tatflow logs --json` gives it (and, with --follow, one per line). */
export const LogTaskJson = z.strictObject({
  instance: z.string(),
  /** The runbook step's name, or `probe`, `health`, `rollback`. */
  step: z.string(),
  invocationId: z.string(),
  taskId: z.string(),
  status: z.string(),
  exitCode: z.number().int().nullable(),
  /** The output TAT keeps (its first 24 KB on Tencent Cloud). */
  output: z.string(),
  /** Bytes of output the agent dropped (not in `output`). */
  dropped: z.number().int(),
  /** The full output in the object store, when the task uploaded it. */
  outputUrl: z.string().nullable(),
  startTime: z.string().nullable(),
  endTime: z.string().nullable(),
});
export type LogTaskJson = z.infer<typeof LogTaskJson>;

/** `tatflow logs --json`. */
export const LogsJson = z.strictObject({
  run: z.string(),
  region: z.string(),
  tasks: z.array(LogTaskJson),
});
export type LogsJson = z.infer<typeof LogsJson>;

/** Prints a `--json` answer: one JSON document, then a newline. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
