// The runbook registry: every runbook a worker runs, by workflow type (its export name), with its
// description, parameter schema and flags. The built-in runbooks are in it from the start; user
// runbook files join it when loaded (worker/runbook-files.ts), by the worker that runs them and by
// the CLI that starts them (`--runbooks`, or TATFLOW_RUNBOOKS), so both read the same descriptions.
// Not workflow code: the CLI, the worker and the docs read it.

import * as builtIns from './index.js';
import { isRunbook, type RunbookSpec } from './engine/define.js';

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

  /** This registry and more runbooks. */
  with(more: Iterable<RegisteredRunbook>): RunbookRegistry {
    const r = new RunbookRegistry(this.list());
    for (const e of more) r.add(e);
    return r;
  }
}

/** The built-in runbooks: what every worker runs. */
export const builtInRunbooks = new RunbookRegistry(runbooksIn(builtIns, 'built-in'));
