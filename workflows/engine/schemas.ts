// zod schemas of the values runbook parameters are made of (a script, a health check), for the
// built-in runbooks and for users' own (exported by `tatflow/runbook`). A run's parameters are
// checked against its runbook's schema by the CLI and again when the run starts.

import { z } from 'zod';
import type { CommandSpec, HealthCheck } from './types.js';

const INSTANCE_ID = /^(ins|lhins|rins)-[0-9a-z]+$/;

export const instanceIdSchema = z
  .string()
  .regex(INSTANCE_ID, 'not an instance id (ins-…, lhins-… or rins-…)')
  .describe('an instance id (ins-…, lhins-…, rins-…)');

export const commandSpecSchema = z
  .strictObject({
    content: z
      .string()
      .refine((s) => s.trim() !== '', 'the script is empty')
      .describe('the script, in plain text'),
    commandType: z.enum(['SHELL', 'POWERSHELL', 'BAT']).optional().describe('default SHELL'),
    workingDirectory: z.string().optional(),
    timeout: z
      .number()
      .int()
      .min(1)
      .max(86400)
      .optional()
      .describe('seconds the task may run (TAT default 60)'),
    username: z.string().optional().describe('run as this user'),
    defaultParameters: z
      .record(z.string(), z.string())
      .optional()
      .describe('custom parameters {{name}} the script uses, with their default values'),
  })
  .describe('a script to run on each target') satisfies z.ZodType<CommandSpec>;

export const healthCheckSchema = z
  .strictObject({
    command: commandSpecSchema,
    retries: z.number().int().min(0).optional().describe('extra attempts after a failed check (default 0)'),
    intervalSeconds: z.number().int().min(1).optional().describe('seconds between attempts (default 10)'),
    onInstance: instanceIdSchema
      .optional()
      .describe('run the check once per batch on this instance instead of on every target'),
  })
  .describe('a health check run after each batch (exit 0 = healthy)') satisfies z.ZodType<HealthCheck>;

/** Parameters of a runbook that declares none: any JSON object. */
export const anyParamsSchema = z.record(z.string(), z.unknown()).describe('any parameters (not declared)');
