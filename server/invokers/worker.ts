// The Temporal worker inside tatd: serves task queue `tatd-invokers` with the invoker workflow
// and its activity (./fire.ts), which uses tatd's store directly (no HTTP round trip). The
// workflow code is bundled once per process, the first time it is needed. While Temporal cannot
// be reached the worker is created again with back-off (the link logs the outage).

import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { ServerContext } from '../context.js';
import { createFireActivities } from './fire.js';
import { TASK_QUEUE } from './names.js';
import type { TemporalLink } from './temporal.js';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
let bundle: Promise<WorkflowBundle> | undefined;

/** The invoker workflow's bundle (webpack, about a second), made once per process. */
function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflow.js', import.meta.url)),
    logger: quiet,
  }).catch((e: unknown) => {
    bundle = undefined;
    throw e;
  });
  return bundle;
}

const BACKOFF_MAX_MS = 30_000;

export class InvokerWorker {
  private stopped = false;
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private wake: () => void = () => {};

  constructor(
    private readonly server: ServerContext,
    private readonly link: TemporalLink,
    /** When tatd started (agents reconnect for a while after it). */
    private readonly startedAt: number,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    const log = this.server.log;
    let backoff = 1_000;
    while (!this.stopped) {
      try {
        const started = performance.now();
        const worker = await Worker.create({
          connection: await this.link.nativeConnection(),
          namespace: this.link.namespace,
          taskQueue: TASK_QUEUE,
          workflowBundle: await workflowBundle(),
          activities: createFireActivities(this.server, this.startedAt),
          maxConcurrentActivityTaskExecutions: 20,
          shutdownGraceTime: '5 seconds',
        });
        if (this.stopped) {
          await worker.runUntil(Promise.resolve());
          return;
        }
        this.worker = worker;
        log.info(
          { taskQueue: TASK_QUEUE, ms: Math.round(performance.now() - started) },
          'invoker worker running',
        );
        // Returns when shut down (by stop(), or by the SDK on a signal); fails when it broke.
        await worker.run();
        return;
      } catch (e) {
        if (this.stopped) return;
        if (this.link.isUp()) log.warn({ err: e }, 'the invoker worker stopped; starting it again');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, backoff);
          this.wake = () => (clearTimeout(t), resolve());
        });
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
  }

  /** Stops polling; fires being handled finish (up to the grace time). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    if (this.worker?.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
  }
}
