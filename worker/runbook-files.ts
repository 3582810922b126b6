// User runbook files into the registry: each file is imported (TypeScript too, through
// runbook-hooks.ts) and every runbook it exports joins the built-in ones. The worker does this for
// the files it runs, and the CLI for the files it is given (--runbooks, TATFLOW_RUNBOOKS), so a
// runbook's parameters and flags are known on both sides from the one file.

import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtInRunbooks, runbooksIn, type RunbookRegistry } from '../workflows/registry.js';

let hooked = false;

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  register(new URL('./runbook-hooks.js', import.meta.url), {
    data: {
      runbookUrl: new URL('../workflows/runbook.js', import.meta.url).href,
      rootUrl: new URL('../../', import.meta.url).href,
    },
  });
}

/** Runbook files named by TATFLOW_RUNBOOKS (separated like PATH). */
export function runbookFilesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.TATFLOW_RUNBOOKS ?? '').split(delimiter).filter(Boolean);
}

/** The built-in runbooks and those of `files`; a file that cannot load or exports none is refused. */
export async function loadRunbooks(files: readonly string[]): Promise<RunbookRegistry> {
  if (files.length === 0) return builtInRunbooks;
  installHooks();
  let registry = builtInRunbooks;
  for (const f of files) {
    const path = resolve(f);
    if (!existsSync(path)) throw new Error(`runbook file ${f}: not found`);
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`runbook file ${f} does not load: ${(e as Error).message}`);
    }
    const found = runbooksIn(exports, f);
    if (found.length === 0)
      throw new Error(`runbook file ${f} exports no runbook: export what defineRunbook returns`);
    for (const r of found) {
      const q: unknown = r.spec.taskQueue;
      if (q !== undefined && (typeof q !== 'string' || !/^[A-Za-z0-9._:-]{1,200}$/.test(q)))
        throw new Error(
          `runbook ${r.name} in ${f}: taskQueue must be 1-200 letters, digits, ".", "_", ":" or "-"`,
        );
    }
    registry = registry.with(found);
  }
  return registry;
}
