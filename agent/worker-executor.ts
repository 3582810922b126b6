// The main-thread side of the task worker: one worker per agent process, shared by every
// identity of a fleet; each identity gets an executor bound to its script directory and report
// sink. Reports arrive in the order the worker posted them.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AgentTaskMessage } from '../tat/agent-protocol.js';
import type { AgentResult } from '../tat/status.js';
import type { TaskSink } from './executor.js';
import type { FromWorker, ToWorker } from './task-worker-messages.js';

/** What a session needs from whatever runs its tasks. */
export interface Executor {
  /** Runs the task and reports it through the sink; resolves with its result. */
  run(task: AgentTaskMessage): Promise<AgentResult>;
  /** Kills a running task (→ TERMINATED); false when this executor is not running it. */
  cancel(taskId: string): boolean;
  /** Kills every running task; resolves when all have reported. */
  killAll(): Promise<void>;
}

interface Running {
  sink: TaskSink;
  done: (r: AgentResult) => void;
  fail: (e: Error) => void;
}

export class TaskWorker {
  private worker: Worker;
  private readonly running = new Map<string, Running>();
  private readonly killWaiters = new Map<string, (() => void)[]>();
  private closing = false;

  constructor(private readonly log: Logger) {
    this.worker = this.start();
  }

  private start(): Worker {
    const w = new Worker(new URL('./task-worker.js', import.meta.url));
    w.on('message', (m: FromWorker) => this.receive(m));
    w.on('error', (err) => this.log.error({ err }, 'task worker failed'));
    w.on('exit', (code) => {
      if (this.closing) return;
      // Tasks it ran are lost to us; tatd will see them as TASK_TIMEOUT. Start a fresh worker.
      this.log.error({ code, tasks: this.running.size }, 'task worker exited; starting a new one');
      for (const [id, r] of this.running) r.fail(new Error(`task worker exited while running ${id}`));
      this.running.clear();
      this.worker = this.start();
    });
    return w;
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private receive(m: FromWorker): void {
    switch (m.kind) {
      case 'chunk':
        this.running.get(m.taskId)?.sink.chunk(m.taskId, m.chunk);
        break;
      case 'finish':
        this.running.get(m.taskId)?.sink.finish(m.taskId, m.fields, m.full);
        break;
      case 'done':
        this.running.get(m.taskId)?.done(m.result);
        this.running.delete(m.taskId);
        break;
      case 'failed':
        this.running.get(m.taskId)?.fail(new Error(m.message));
        this.running.delete(m.taskId);
        break;
      case 'killedAll':
        for (const w of this.killWaiters.get(m.scriptDir)?.splice(0) ?? []) w();
        break;
    }
  }

  /** `env`: variables every task of this identity sees (TATFLOW_MACHINE_ID). */
  executor(scriptDir: string, sink: TaskSink, env: Record<string, string> = {}): Executor {
    const mine = new Set<string>();
    return {
      run: (task) =>
        new Promise<AgentResult>((done, fail) => {
          const id = task.InvocationTaskId;
          mine.add(id);
          const end = () => mine.delete(id);
          this.running.set(id, {
            sink,
            done: (r) => {
              end();
              done(r);
            },
            fail: (e) => {
              end();
              fail(e);
            },
          });
          this.send({ kind: 'run', scriptDir, task, env });
        }),
      cancel: (taskId) => {
        if (!mine.has(taskId)) return false;
        this.send({ kind: 'cancel', scriptDir, taskId });
        return true;
      },
      killAll: () =>
        new Promise<void>((resolve) => {
          const waiters = this.killWaiters.get(scriptDir) ?? [];
          waiters.push(resolve);
          this.killWaiters.set(scriptDir, waiters);
          this.send({ kind: 'killAll', scriptDir });
        }),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}
