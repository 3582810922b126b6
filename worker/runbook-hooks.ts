// Module hooks (node:module register) under which user runbook files load in a plain Node process
// (the CLI, the worker's registry), the way the worker's bundler loads them: TypeScript compiled by
// swc (the SDK's bundler uses it too), `tatflow/runbook` resolved to the engine's entry point, and
// packages the file does not find beside it looked up in tatflow's own node_modules.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from '@swc/core';

interface Data {
  /** URL of dist/workflows/runbook.js */
  runbookUrl: string;
  /** URL of tatflow's package root (with a trailing slash). */
  rootUrl: string;
}

let data: Data;

export function initialize(d: Data): void {
  data = d;
}

type Next<C, R> = (specifier: string, context: C) => Promise<R>;
interface ResolveContext {
  parentURL?: string;
  conditions: string[];
}
interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: Next<ResolveContext, Resolved>,
): Promise<Resolved> {
  if (specifier === 'tatflow/runbook') return { url: data.runbookUrl, shortCircuit: true };
  try {
    return await next(specifier, context);
  } catch (e) {
    // `./lib.js` written for a `./lib.ts` beside it (how TypeScript sources import each other).
    if (/^\.\.?\//.test(specifier) && specifier.endsWith('.js'))
      return next(specifier.replace(/\.js$/, '.ts'), context).catch(() => Promise.reject(e));
    // A package the user's file does not have beside it: tatflow's own (zod, for instance).
    if (!/^(\.|\/|[a-z]+:)/.test(specifier))
      return next(specifier, { ...context, parentURL: data.rootUrl }).catch(() => Promise.reject(e));
    throw e;
  }
}

interface LoadContext {
  format?: string | null;
}
interface Loaded {
  format: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}

export async function load(
  url: string,
  context: LoadContext,
  next: Next<LoadContext, Loaded>,
): Promise<Loaded> {
  if (!/\.(ts|mts)$/.test(url) || !url.startsWith('file:')) return next(url, context);
  const filename = fileURLToPath(url);
  const out = await transform(await readFile(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  });
  return { format: 'module', source: out.code, shortCircuit: true };
}
