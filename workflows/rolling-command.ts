// rollingCommand: any command or script over the fleet, batch by batch, with an optional health
// check and rollback command.

import { z } from 'zod';
import { defineRunbook } from './engine/define.js';
import { healthCheckFlags, rollbackFlag } from './engine/flags.js';
import { commandSpecSchema, healthCheckSchema } from './engine/schemas.js';

export const rollingCommandParams = z.strictObject({
  command: commandSpecSchema.describe('the script to run on every target'),
  parameters: z
    .record(z.string(), z.string())
    .optional()
    .describe("values for the script's custom parameters {{name}}"),
  healthCheck: healthCheckSchema.optional(),
  rollback: commandSpecSchema
    .optional()
    .describe('run on every changed target, in reverse batch order, on breach or abort'),
});

export type RollingCommandParams = z.input<typeof rollingCommandParams>;

export const rollingCommand = defineRunbook({
  description:
    'Any command or script over the fleet, batch by batch, with an optional health check and rollback',
  params: rollingCommandParams,
  flags: [
    {
      name: 'command',
      arg: '<script>',
      help: 'the script to run',
      param: 'command',
      value: { kind: 'script' },
    },
    {
      name: 'command-file',
      arg: '<file>',
      help: 'read the script from a file',
      param: 'command',
      value: { kind: 'scriptFile' },
    },
    ...healthCheckFlags({
      command: 'healthCheck.command',
      retries: 'healthCheck.retries',
      interval: 'healthCheck.intervalSeconds',
      on: 'healthCheck.onInstance',
      needCommand: true,
    }),
    rollbackFlag('rollback run on changed targets on breach or abort'),
  ],
  build: (p) => ({
    steps: [
      {
        kind: 'command',
        name: 'command',
        command: p.command,
        ...(p.parameters ? { parameters: p.parameters } : {}),
      },
    ],
    ...(p.healthCheck ? { healthCheck: p.healthCheck } : {}),
    ...(p.rollback ? { rollback: { command: p.rollback } } : {}),
  }),
});
