// rollingCommand: any command or script over the fleet, batch by batch, with an optional health
// check and rollback command.

import { defineRunbook } from './engine/define.js';
import type { CommandSpec, HealthCheck } from './engine/types.js';

export interface RollingCommandParams {
  command: CommandSpec;
  /** Values for the command's custom parameters. */
  parameters?: Record<string, string>;
  healthCheck?: HealthCheck;
  rollback?: CommandSpec;
}

export const rollingCommand = defineRunbook<RollingCommandParams>((p) => ({
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
}));
