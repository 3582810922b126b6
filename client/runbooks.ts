// Which runbook files the CLI loads into its registry, so that `run` and `preview` know a user
// runbook's parameters and flags: the files given with --runbooks (read before the command line is
// parsed, since their flags become options), those in TATFLOW_RUNBOOKS, and those the `tatflow dev`
// worker of this directory loaded.

import { loadRunbooks, runbookFilesFromEnv } from '../worker/runbook-files.js';
import type { RunbookRegistry } from '../workflows/registry.js';
import { devEngine } from './settings.js';

/** The values of every `--runbooks <file>` / `--runbooks=<file>` in argv. */
export function runbookFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--runbooks' && i + 1 < argv.length) out.push(argv[++i]!);
    else if (a.startsWith('--runbooks=')) out.push(a.slice('--runbooks='.length));
  }
  return out;
}

/** The registry `run` and `preview` use: the built-in runbooks and the user's files. */
export function cliRegistry(argv: readonly string[]): Promise<RunbookRegistry> {
  const files = [...runbookFlags(argv), ...runbookFilesFromEnv(), ...(devEngine().runbooks ?? [])];
  return loadRunbooks([...new Set(files)]);
}
