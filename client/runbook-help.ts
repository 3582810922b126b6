// Runbooks in words, from the registry: the list `tatflow run --help` shows (and docs/runbooks.md
// carries), and what a run of a runbook would do, for `tatflow preview`.

import { z } from 'zod';
import { findPlaceholders } from '../tat/params.js';
import type { RunbookDefinition } from '../workflows/engine/types.js';
import {
  BUILT_IN,
  taskQueueOf,
  type RegisteredRunbook,
  type RunbookRegistry,
} from '../workflows/registry.js';
import type { RunbooksJson } from './json-output.js';

interface JsonProp {
  type?: string | string[];
  properties?: Record<string, unknown>;
  items?: JsonProp;
  description?: string;
  enum?: unknown[];
  anyOf?: JsonProp[];
}

function typeOf(p: JsonProp): string {
  if (p.enum) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (p.anyOf) return p.anyOf.map(typeOf).join(' | ');
  // The engine's own shapes, by what they hold (commandSpecSchema, healthCheckSchema).
  if (p.properties?.content) return 'script';
  if (p.properties?.command) return 'health check';
  if (p.type === 'array' && p.items) return `${typeOf(p.items)}[]`;
  return Array.isArray(p.type) ? p.type.join(' | ') : (p.type ?? 'any');
}

/** A runbook's parameters: name, type, whether required, description. */
export function paramsOf(
  r: RegisteredRunbook,
): { name: string; type: string; required: boolean; description: string }[] {
  let js: { properties?: Record<string, JsonProp>; required?: string[] };
  try {
    js = z.toJSONSchema(r.spec.params, { unrepresentable: 'any' }) as typeof js;
  } catch {
    return [];
  }
  return Object.entries(js.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeOf(p),
    required: js.required?.includes(name) ?? false,
    description: p.description ?? '',
  }));
}

/** The flags that set a parameter (or a field of it). */
function flagsOf(r: RegisteredRunbook, param: string): string[] {
  return (r.spec.flags ?? [])
    .filter((f) => f.param === param || f.param.startsWith(`${param}.`))
    .map((f) => `--${f.name}`);
}

/** `tatflow runbooks --json`: every runbook with its queue and parameters. */
export function runbooksJson(registry: RunbookRegistry, defaultQueue: string): RunbooksJson {
  return {
    runbooks: registry.list().map((r) => ({
      name: r.name,
      source: r.source,
      taskQueue: taskQueueOf(r, defaultQueue),
      description: r.spec.description,
      parameters: paramsOf(r).map((p) => ({ ...p, flags: flagsOf(r, p.name) })),
    })),
  };
}

/** `tatflow runbooks`: each runbook, where its runs go, and its parameters, as aligned text. */
export function runbooksListing(list: RunbooksJson): string {
  const out: string[] = [];
  for (const r of list.runbooks) {
    out.push(
      `${r.name}  (${r.source === BUILT_IN ? 'built-in' : r.source}; task queue ${r.taskQueue})`,
      `  ${r.description || '(no description)'}`,
    );
    const rows = r.parameters.map((p) => [
      `${p.name}${p.required ? '' : '?'}`,
      p.type,
      p.flags.join(', ') || `--param ${p.name}=…`,
      p.description,
    ]);
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]!.length), 0));
    for (const row of rows)
      out.push(`    ${row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  ')}`.trimEnd());
    out.push('');
  }
  out.push(
    '`?`: optional. Start a run with `tatflow run <runbook> …`; `tatflow run --help` lists the flags.',
  );
  return out.join('\n');
}

/** Markdown: each runbook, what it does, its parameters and the flags that set them. */
export function runbookReference(registry: RunbookRegistry): string {
  const out: string[] = [];
  for (const r of registry.list()) {
    out.push(`### \`${r.name}\``, '', r.spec.description || '(no description)', '');
    const params = paramsOf(r);
    if (params.length) {
      out.push('| parameter | type | flag | description |', '|---|---|---|---|');
      for (const p of params) {
        const flags = flagsOf(r, p.name)
          .map((f) => `\`${f}\``)
          .join(', ');
        out.push(
          `| \`${p.name}\`${p.required ? '' : '?'} | ${p.type.replaceAll('|', '\\|')} | ${flags} | ${p.description.replaceAll('|', '\\|')} |`,
        );
      }
      out.push('');
    }
  }
  return out.join('\n');
}

/** Plain text for `--help`: each runbook and its flags. */
export function runbooksHelp(registry: RunbookRegistry): string {
  const lines = ['', 'runbooks:'];
  for (const r of registry.list()) {
    lines.push(`  ${r.name}${r.source === BUILT_IN ? '' : ` (${r.source})`}: ${r.spec.description}`);
    const flags = (r.spec.flags ?? []).map((f) => `--${f.name}`);
    if (flags.length) lines.push(`    flags: ${flags.join(' ')}`);
    const params = paramsOf(r).map((p) => `${p.name}${p.required ? '' : '?'}`);
    if (params.length) lines.push(`    parameters (--param key=value): ${params.join(', ')}`);
  }
  return lines.join('\n');
}

/** What the runbook does to each target, in a few lines. */
export function describeDefinition(def: RunbookDefinition): string[] {
  const lines: string[] = [];
  if (def.probe)
    lines.push('probe: reads each target’s current version first; targets already there are left alone');
  lines.push(
    `steps: ${def.steps.map((s) => (s.kind === 'reboot' ? `${s.name} (reboot, then waits for the agent)` : s.name)).join(' → ')}`,
  );
  const hc = def.healthCheck;
  lines.push(
    hc
      ? `health check: after each batch, ${hc.onInstance ? `once on ${hc.onInstance}` : 'on every target'}; ${hc.retries ?? 0} retr${(hc.retries ?? 0) === 1 ? 'y' : 'ies'}, ${hc.intervalSeconds ?? 10} s apart`
      : 'health check: none',
  );
  const rb = def.rollback;
  lines.push(
    rb
      ? `rollback: on breach or abort, on changed targets in reverse batch order${rb.versionParameter ? `, each back to the version the probe read ({{${rb.versionParameter}}})` : ''}`
      : 'rollback: none',
  );
  lines.push(...placeholderNotes(def));
  return lines;
}

/**
 * Which scripts take TAT custom parameters (and which `{{name}}`s TAT fills), and which run as
 * written although they hold something that looks like one: a `{{version}}` meant as a parameter
 * in a script that takes none reaches the machine as it is.
 */
function placeholderNotes(def: RunbookDefinition): string[] {
  const scripts: { what: string; content: string; values?: string[] }[] = [
    ...def.steps.map((s) => ({
      what: `step ${s.name}`,
      content: s.command.content,
      ...(s.kind === 'command' && s.parameters
        ? { values: [...Object.keys(s.parameters), ...Object.keys(s.command.defaultParameters ?? {})] }
        : s.command.defaultParameters
          ? { values: Object.keys(s.command.defaultParameters) }
          : {}),
    })),
    ...(def.probe ? [{ what: 'the probe', content: def.probe.content }] : []),
    ...(def.healthCheck ? [{ what: 'the health check', content: def.healthCheck.command.content }] : []),
    ...(def.rollback
      ? [
          {
            what: 'the rollback',
            content: def.rollback.command.content,
            ...(def.rollback.versionParameter ? { values: [def.rollback.versionParameter] } : {}),
          },
        ]
      : []),
  ];
  const out: string[] = [];
  for (const s of scripts) {
    const names = findPlaceholders(s.content).map((p) => `{{${p.name}}}`);
    if (s.values) out.push(`custom parameters: ${s.what} gets ${s.values.map((v) => `{{${v}}}`).join(', ')}`);
    else if (names.length)
      out.push(
        `runs as written: ${s.what} takes no custom parameters, so ${names.join(', ')} ${names.length > 1 ? 'reach the machine as they are' : 'reaches the machine as it is'}`,
      );
  }
  return out;
}
