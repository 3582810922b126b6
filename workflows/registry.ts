// The runbook registry: every runbook a worker runs, by workflow type (its export name), with its
// description, parameter schema and flags. The built-in runbooks are in it from the start; user
// runbook files join it when loaded (worker/runbook-files.ts), by the worker that runs them and by
// the CLI that starts them (`--runbooks`, or TATFLOW_RUNBOOKS), so both read the same descriptions.
// Not workflow code: the CLI, the worker and the docs read it.
//
// Each runbook has a task queue: the built-in ones the default queue (`tatflow`, or --task-queue);
// a runbook file's the one its runbook declares (`defineRunbook({ taskQueue })`), else one derived
// from the file's name, `<default queue>-<file name>` (`tatflow-rotate-logs` for rotate-logs.ts).
// A worker polls the queues of what it loaded and `tatflow run` starts a run on its runbook's
// queue, so a worker that lacks a runbook never receives its runs (the workflow task would fail
// there, and be retried only after a timeout).

import * as builtIns from './index.js';
import { isRunbook, type RunbookSpec } from './engine/define.js';

export const BUILT_IN = 'built-in';

export interface RegisteredRunbook {
  /** The workflow type: the name it is exported under. */
  name: string;
  /** `built-in`, or the file it was loaded from. */
  source: string;
  spec: RunbookSpec;
}

/** The runbooks a module exports (made by `defineRunbook`), in export order. */
export function runbooksIn(exports: Record<string, unknown>, source: string): RegisteredRunbook[] {
  return Object.entries(exports)
    .filter(([, v]) => isRunbook(v))
    .map(([name, v]) => ({ name, source, spec: (v as { runbook: RunbookSpec }).runbook }));
}

/** A runbook file's part of a derived queue name: its name without extension, as [a-z0-9._-]. */
export function fileQueueSuffix(source: string): string {
  const base = source
    .split(/[\\/]/)
    .pop()!
    .replace(/\.[cm]?[jt]s$/, '');
  return (
    base
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'runbooks'
  );
}

/** The task queue of a runbook's runs, given the default queue of the built-in runbooks. */
export function taskQueueOf(r: RegisteredRunbook, defaultQueue: string): string {
  if (r.spec.taskQueue) return r.spec.taskQueue;
  return r.source === BUILT_IN ? defaultQueue : `${defaultQueue}-${fileQueueSuffix(r.source)}`;
}

export class RunbookRegistry {
  private readonly byName = new Map<string, RegisteredRunbook>();

  constructor(entries: Iterable<RegisteredRunbook> = []) {
    for (const e of entries) this.add(e);
  }

  /** Adds a runbook; a second one of the same name is refused (the worker could run only one). */
  add(e: RegisteredRunbook): void {
    const had = this.byName.get(e.name);
    if (had)
      throw new Error(
        `two runbooks are named ${e.name} (${had.source} and ${e.source}): rename the export of one`,
      );
    this.byName.set(e.name, e);
  }

  get(name: string): RegisteredRunbook | undefined {
    return this.byName.get(name);
  }

  /** The runbook of that name, or an error that says which there are and how to add one. */
  require(name: string): RegisteredRunbook {
    const e = this.byName.get(name);
    if (e) return e;
    throw new Error(
      `unknown runbook "${name}": the runbooks are ${this.names().join(', ')}; a runbook of your own ` +
        'needs its file, as the worker has it: --runbooks <file> (or TATFLOW_RUNBOOKS)',
    );
  }

  list(): RegisteredRunbook[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The task queue of the runbook's runs (an unknown runbook is refused as `require` does). */
  taskQueue(name: string, defaultQueue: string): string {
    return taskQueueOf(this.require(name), defaultQueue);
  }

  /** Every queue a worker running these runbooks polls: the default one first. */
  taskQueues(defaultQueue: string): string[] {
    return [...new Set([defaultQueue, ...this.list().map((r) => taskQueueOf(r, defaultQueue))])];
  }

  /** This registry and more runbooks. */
  with(more: Iterable<RegisteredRunbook>): RunbookRegistry {
    const r = new RunbookRegistry(this.list());
    for (const e of more) r.add(e);
    return r;
  }
}

/** The built-in runbooks: what every worker runs. */
export const builtInRunbooks = new RunbookRegistry(runbooksIn(builtIns, BUILT_IN));
