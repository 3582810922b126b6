// Watches every invocation of a run with one poll at a time (not one per batch or wave), so a run
// costs the TAT API one DescribeInvocations per poll interval whatever its concurrency. When an
// invocation is added while a poll runs, that poll is cancelled and a new one covers the new set.
// An invocation whose tasks all ended while invokeChunk watched them never needs a poll.

import * as wf from '@temporalio/workflow';
import type { OutputCapture, TaskResult } from '../../activities/types.js';
import type { Activities } from './activities.js';

interface Watched {
  expected: number;
  results: Map<string, TaskResult>;
  output: OutputCapture;
}

export class TaskTracker {
  private readonly watched = new Map<string, Watched>();
  private polling?: { scope: wf.CancellationScope; ids: Set<string> };
  private stopped = false;

  constructor(
    private readonly acts: Activities,
    private readonly region: string,
    private readonly pollIntervalMs: number,
    private readonly onResult: (r: TaskResult) => void,
  ) {}

  /** Follows an invocation; `finished`: its tasks that ended already (seen by invokeChunk). */
  watch(invocationId: string, expected: number, output: OutputCapture, finished: TaskResult[] = []): void {
    if (this.watched.has(invocationId)) return;
    this.watched.set(invocationId, { expected, results: new Map(), output });
    this.absorb(finished);
    // A running poll does not cover the new invocation: restart it (unless it has ended already).
    if (this.polling && !this.polling.ids.has(invocationId) && !this.settled(invocationId))
      this.polling.scope.cancel();
  }

  /** Results given by another path (CancelInvocation's wait) count as if polled. */
  absorb(results: TaskResult[]): void {
    for (const r of results) {
      const w = this.watched.get(r.invocationId);
      if (!w || w.results.has(r.taskId)) continue;
      w.results.set(r.taskId, r);
      this.onResult(r);
    }
  }

  settled(invocationId: string): boolean {
    const w = this.watched.get(invocationId);
    return !!w && w.results.size >= w.expected;
  }

  results(invocationId: string): TaskResult[] {
    return [...(this.watched.get(invocationId)?.results.values() ?? [])];
  }

  /** Invocations not settled yet. */
  open(): string[] {
    return [...this.watched.keys()].filter((id) => !this.settled(id));
  }

  stop(): void {
    this.stopped = true;
    this.polling?.scope.cancel();
  }

  /** The poll loop; runs until `stop()`, unaffected by the cancellation of the run. */
  run(): Promise<void> {
    return wf.CancellationScope.nonCancellable(async () => {
      while (!this.stopped) {
        await wf.condition(() => this.stopped || this.open().length > 0);
        if (this.stopped) return;
        const ids = this.open().slice(0, 100);
        const known = ids.flatMap((id) => [...this.watched.get(id)!.results.keys()]);
        const output = ids.some((id) => this.watched.get(id)!.output === 'all') ? 'all' : 'failures';
        const scope = new wf.CancellationScope();
        this.polling = { scope, ids: new Set(ids) };
        try {
          const res = await scope.run(() =>
            this.acts.polling.pollTasks({
              region: this.region,
              invocationIds: ids,
              known,
              returnWhen: 'any',
              output,
              pollIntervalMs: this.pollIntervalMs,
            }),
          );
          this.absorb(res.finished);
        } catch (e) {
          if (!wf.isCancellation(e)) throw e;
        } finally {
          this.polling = undefined;
        }
      }
    });
  }
}
