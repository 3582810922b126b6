// What a user-written runbook imports (as `tatflow/runbook`): the engine's building blocks.

export { defineRunbook, type Runbook } from './engine/define.js';
export * from './engine/messages.js';
export type * from './engine/types.js';
export type { Shape, Size } from './engine/plan.js';
