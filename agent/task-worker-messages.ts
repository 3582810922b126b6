// Messages between the agent's main thread and its task worker (task-worker.ts).

import type { AgentTaskMessage } from '../tat/agent-protocol.js';
import type { AgentResult } from '../tat/status.js';
import type { FinishFields, FullOutput } from './executor.js';
import type { OutputChunk } from './output.js';

export type ToWorker =
  | { kind: 'run'; scriptDir: string; task: AgentTaskMessage; env: Record<string, string> }
  | { kind: 'cancel'; scriptDir: string; taskId: string }
  | { kind: 'killAll'; scriptDir: string };

export type FromWorker =
  | { kind: 'chunk'; taskId: string; chunk: OutputChunk }
  | { kind: 'finish'; taskId: string; fields: FinishFields; full?: FullOutput }
  | { kind: 'done'; taskId: string; result: AgentResult }
  | { kind: 'failed'; taskId: string; message: string }
  | { kind: 'killedAll'; scriptDir: string };
