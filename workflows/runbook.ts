// What a user-written runbook imports (as `tatflow/runbook`): the engine's building blocks, the
// schemas of scripts and health checks, and zod itself (so a runbook's parameter schema and the
// engine's share one zod).

export { defineRunbook, type Runbook, type RunbookSpec } from './engine/define.js';
export { healthCheckFlags, rollbackFlag, type RunbookFlag, type FlagValue } from './engine/flags.js';
export { commandSpecSchema, healthCheckSchema, instanceIdSchema } from './engine/schemas.js';
export * from './engine/messages.js';
export type * from './engine/types.js';
export type { Shape, Size } from './engine/plan.js';
export { z } from 'zod';
