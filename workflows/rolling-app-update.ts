// rollingAppUpdate: read each target's current version, deploy version X, check health; on breach
// or abort roll every changed target back to the version it had.

import { z } from 'zod';
import { defineRunbook } from './engine/define.js';
import { healthCheckFlags, rollbackFlag } from './engine/flags.js';
import { commandSpecSchema, healthCheckSchema } from './engine/schemas.js';

export const rollingAppUpdateParams = z.strictObject({
  version: z
    .string()
    .refine((s) => s.trim() !== '', 'the version is empty')
    .describe('the version to deploy'),
  probe: commandSpecSchema.describe("prints the target's current version on standard output"),
  deploy: commandSpecSchema.describe('deploys the version given in the custom parameter {{version}}'),
  healthCheck: healthCheckSchema.optional(),
  rollback: commandSpecSchema
    .optional()
    .describe('goes back to {{version}}, the one the probe read (default: the deploy script)'),
});

export type RollingAppUpdateParams = z.input<typeof rollingAppUpdateParams>;

export const rollingAppUpdate = defineRunbook({
  description:
    "Deploys a version where it is not there yet (a probe reads each target's); on breach or abort every changed target goes back to the version it had",
  params: rollingAppUpdateParams,
  flags: [
    {
      name: 'probe',
      arg: '<script>',
      help: 'prints the current version',
      param: 'probe',
      value: { kind: 'script' },
    },
    {
      name: 'deploy',
      arg: '<script>',
      help: 'deploys {{version}}',
      param: 'deploy',
      value: { kind: 'script' },
    },
    {
      name: 'app-version',
      arg: '<version>',
      help: 'the version to deploy',
      param: 'version',
      value: { kind: 'text' },
    },
    ...healthCheckFlags({
      command: 'healthCheck.command',
      retries: 'healthCheck.retries',
      interval: 'healthCheck.intervalSeconds',
      on: 'healthCheck.onInstance',
      needCommand: true,
    }),
    rollbackFlag('rollback run on changed targets on breach or abort ({{version}}: the version before)'),
  ],
  build: (p) => ({
    probe: p.probe,
    alreadyDone: { probeReads: p.version },
    steps: [{ kind: 'command', name: 'deploy', command: p.deploy, parameters: { version: p.version } }],
    ...(p.healthCheck ? { healthCheck: p.healthCheck } : {}),
    rollback: { command: p.rollback ?? p.deploy, versionParameter: 'version' },
  }),
});
