// The workflow bundle a worker runs: the built-in runbooks plus the user's runbook files, which may
// be TypeScript anywhere on disk and import `tatflow/runbook` (the engine's building blocks).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/workflows */
const workflowsDir = join(here, '..', 'workflows');
/** The repository (or installed package) root, whose node_modules user runbooks resolve against. */
const packageRoot = join(here, '..', '..');

export interface BundleOptions {
  /**
   * Modules of the engine to replace: a path under workflows/ (`engine/versioning.js`) → the file
   * that stands in for it. Tests build a worker of an older engine this way.
   */
  replace?: Record<string, string>;
}

/** Bundles the built-in runbooks and the given user runbook files into one workflow bundle. */
export async function bundleRunbooks(
  userRunbooks: string[] = [],
  o: BundleOptions = {},
): Promise<WorkflowBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'tatflow-bundle-'));
  try {
    const entry = join(dir, 'workflows.js');
    const lines = [join(workflowsDir, 'index.js'), ...userRunbooks.map((p) => resolve(p))].map(
      (p) => `export * from ${JSON.stringify(p)};`,
    );
    // A workflow type the bundle does not have fails at once, naming the runbooks there are.
    lines.push(
      `export { unknownRunbook as default } from ${JSON.stringify(join(workflowsDir, 'engine', 'define.js'))};`,
    );
    writeFileSync(entry, lines.join('\n') + '\n');
    return await bundleWorkflowCode({
      workflowsPath: entry,
      logger: quietLogger,
      webpackConfigHook: (config) => {
        const r = (config.resolve ??= {});
        r.alias = { ...(r.alias as object), 'tatflow/runbook$': join(workflowsDir, 'runbook.js') };
        r.modules = [...(r.modules ?? []), join(packageRoot, 'node_modules')];
        if (o.replace) config.plugins = [...(config.plugins ?? []), replaceModules(o.replace)];
        return config;
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A webpack plugin: requests that resolve to one of the engine's modules get the stand-in instead. */
function replaceModules(replace: Record<string, string>) {
  const by = new Map(Object.entries(replace).map(([mod, file]) => [join(workflowsDir, mod), resolve(file)]));
  interface Data {
    request: string;
    context: string;
  }
  interface Compiler {
    hooks: {
      normalModuleFactory: {
        tap(
          name: string,
          f: (nmf: { hooks: { beforeResolve: { tap(n: string, g: (d: Data) => void): void } } }) => void,
        ): void;
      };
    };
  }
  return {
    apply(compiler: Compiler) {
      compiler.hooks.normalModuleFactory.tap('tatflow-replace', (nmf) => {
        nmf.hooks.beforeResolve.tap('tatflow-replace', (data) => {
          if (!data.request.startsWith('.')) return;
          const file = by.get(resolve(data.context, data.request));
          if (file) data.request = file;
        });
      });
    },
  };
}

/** webpack's report is long; keep errors only (they carry the reason a user runbook did not build). */
const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string) => process.stderr.write(`${message}\n`),
};
