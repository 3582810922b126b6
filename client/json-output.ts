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

/** Prints a `--json` answer: one JSON document, then a newline. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
