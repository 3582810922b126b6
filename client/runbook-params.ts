// A runbook's parameters from the command line, as the registry describes them: each runbook's own
// flags (declared with the runbook), the script settings (--timeout, --username,
// --working-directory), then --params and --param; checked against the runbook's schema. Every
// bad value gets an error that names its flag, and a flag the runbook does not take is refused.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { buildChecked, RunbookRefusal } from '../workflows/engine/define.js';
import type { RunbookFlag } from '../workflows/engine/flags.js';
import type { CommandSpec } from '../workflows/engine/types.js';
import type { RegisteredRunbook, RunbookRegistry } from '../workflows/registry.js';

/** Flags as commander gives them: camelCase keys, strings (or lists, or true). */
export type FlagValues = Record<string, string | string[] | boolean | undefined>;

/** Script settings: they apply to every script given by a flag. */
export const SCRIPT_SETTINGS: RunbookFlag[] = [
  {
    name: 'timeout',
    arg: '<seconds>',
    help: 'seconds each task of the scripts given here may run (TAT default 60)',
    param: '',
    value: { kind: 'int', min: 1 },
  },
  {
    name: 'username',
    arg: '<user>',
    help: 'run the scripts given here as this user',
    param: '',
    value: { kind: 'text' },
  },
  {
    name: 'working-directory',
    arg: '<dir>',
    help: 'run the scripts given here in this directory',
    param: '',
    value: { kind: 'text' },
  },
];

export const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const INSTANCE_ID = /^(ins|lhins|rins)-[0-9a-z]+$/;

export function positiveInt(flag: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min)
    throw new Error(`--${flag}: expected a whole number ≥ ${min}, got "${v}"`);
  return Number(v);
}

function text(f: FlagValues, name: string): string | undefined {
  const v = f[camel(name)];
  return v === undefined ? undefined : String(v);
}

function script(flag: string, content: string, f: FlagValues): CommandSpec {
  if (content.trim() === '') throw new Error(`--${flag}: the script is empty`);
  const timeout = positiveInt('timeout', text(f, 'timeout'));
  const username = text(f, 'username');
  const dir = text(f, 'working-directory');
  return {
    content,
    ...(timeout ? { timeout } : {}),
    ...(username ? { username } : {}),
    ...(dir ? { workingDirectory: dir } : {}),
  };
}

function valueOf(flag: RunbookFlag, raw: string, f: FlagValues): unknown {
  const v = flag.value;
  switch (v.kind) {
    case 'script':
      return script(flag.name, raw, f);
    case 'scriptFile': {
      let content: string;
      try {
        content = readFileSync(raw, 'utf8');
      } catch (e) {
        throw new Error(`--${flag.name}: ${(e as Error).message}`);
      }
      return script(flag.name, content, f);
    }
    case 'text':
      if (raw.trim() === '') throw new Error(`--${flag.name}: the value is empty`);
      return raw;
    case 'int':
      return positiveInt(flag.name, raw, v.min);
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'choice':
      if (!v.choices.includes(raw))
        throw new Error(
          `--${flag.name}: expected ${v.choices.slice(0, -1).join(', ')} or ${v.choices.at(-1)}, got "${raw}"`,
        );
      return raw;
    case 'instance':
      if (!INSTANCE_ID.test(raw)) throw new Error(`--${flag.name}: not an instance id: "${raw}"`);
      return raw;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys.at(-1)!] = value;
}

/** Every runbook flag of the registry, once each, with the runbooks that take it. */
export function registryFlags(
  registry: RunbookRegistry,
): Map<string, { flag: RunbookFlag; runbooks: string[] }> {
  const out = new Map<string, { flag: RunbookFlag; runbooks: string[] }>();
  for (const r of registry.list())
    for (const flag of r.spec.flags ?? []) {
      const had = out.get(flag.name);
      if (had) had.runbooks.push(r.name);
      else out.set(flag.name, { flag, runbooks: [r.name] });
    }
  return out;
}

/** The parameter names whose schema is text: a --param value stays text there, even `1.10`. */
function textParams(schema: z.ZodType): Set<string> {
  try {
    const js = z.toJSONSchema(schema, { unrepresentable: 'any' }) as {
      properties?: Record<string, { type?: string }>;
    };
    return new Set(
      Object.entries(js.properties ?? {})
        .filter(([, p]) => p.type === 'string')
        .map(([k]) => k),
    );
  } catch {
    return new Set();
  }
}

/** --params (a JSON object), then each --param key=value (JSON values, else text). */
function extraParams(f: FlagValues, strings: Set<string>): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  const params = text(f, 'params');
  if (params !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(params);
    } catch (e) {
      throw new Error(`--params: not JSON: ${(e as Error).message}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new Error('--params: expected a JSON object');
    out = { ...(v as Record<string, unknown>) };
  }
  const list = f.param;
  for (const kv of Array.isArray(list) ? list : list === undefined ? [] : [String(list)]) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--param: expected key=value, got "${kv}"`);
    const key = kv.slice(0, eq);
    const raw = kv.slice(eq + 1);
    let value: unknown = raw;
    if (!strings.has(key))
      try {
        value = JSON.parse(raw);
      } catch {
        // plain text
      }
    out[key] = value;
  }
  return out;
}

/** The schema's complaints, each naming the flag that sets the value when there is one. */
function schemaErrors(r: RegisteredRunbook, params: unknown): string | undefined {
  const res = r.spec.params.safeParse(params);
  if (res.success) return undefined;
  const flags = r.spec.flags ?? [];
  const flagsOf = (path: string) =>
    flags.filter((fl) => fl.param === path || fl.param.startsWith(`${path}.`)).map((fl) => `--${fl.name}`);
  const missing: string[] = [];
  const other: string[] = [];
  for (const i of res.error.issues) {
    const path = i.path.join('.');
    const top = String(i.path[0] ?? '');
    const absent =
      i.code === 'invalid_type' &&
      i.path.length === 1 &&
      (params as Record<string, unknown>)[top] === undefined;
    if (absent) {
      const via = flagsOf(top);
      missing.push(via.length ? via.join(' or ') : `--param ${top}=…`);
    } else if (i.code === 'unrecognized_keys') {
      const known = Object.keys((r.spec.params as unknown as { shape?: object }).shape ?? {});
      other.push(
        `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}${path ? ` in ${path}` : ''} (${r.name} takes ${known.join(', ') || 'none'})`,
      );
    } else {
      const exact = flags.find((fl) => fl.param === path);
      other.push(`parameter ${path || '(all)'}${exact ? ` (--${exact.name})` : ''}: ${i.message}`);
    }
  }
  if (missing.length) return `${r.name} needs ${missing.join(', ')}`;
  return other.join('; ');
}

/** The parameters of a run of `runbook` from the flags; throws an Error naming the bad flag. */
export function paramsFromFlags(
  r: RegisteredRunbook,
  f: FlagValues,
  registry: RunbookRegistry,
): Record<string, unknown> {
  const p = paramsGiven(r, f, registry);
  checkParams(r, p);
  return p;
}

/**
 * The parameters the flags give, each flag checked, but not yet the whole against the schema
 * (`schedule update` lays them over the schedule's, then checks with {@link checkParams}).
 */
export function paramsGiven(
  r: RegisteredRunbook,
  f: FlagValues,
  registry: RunbookRegistry,
): Record<string, unknown> {
  const declared = new Map((r.spec.flags ?? []).map((fl) => [fl.name, fl]));
  const given = (name: string) => f[camel(name)] !== undefined;
  for (const [name] of registryFlags(registry))
    if (given(name) && !declared.has(name) && !SCRIPT_SETTINGS.some((s) => s.name === name))
      throw new Error(
        `--${name}: ${r.name} does not take it (${[...declared.keys()].map((n) => `--${n}`).join(', ') || 'no flags of its own'}; any parameter with --param)`,
      );
  for (const fl of declared.values())
    if (fl.needs && given(fl.name) && !given(fl.needs)) throw new Error(`--${fl.name}: needs --${fl.needs}`);
  const p: Record<string, unknown> = {};
  const setBy = new Map<string, string>();
  let scripts = 0;
  for (const fl of declared.values()) {
    if (!given(fl.name)) continue;
    const other = setBy.get(fl.param);
    if (other) throw new Error(`give --${other} or --${fl.name}, not both`);
    setBy.set(fl.param, fl.name);
    setPath(p, fl.param, valueOf(fl, text(f, fl.name)!, f));
    if (fl.value.kind === 'script' || fl.value.kind === 'scriptFile') scripts++;
  }
  for (const s of SCRIPT_SETTINGS)
    if (given(s.name) && !declared.has(s.name)) {
      if (scripts === 0)
        throw new Error(
          `--${s.name}: applies to scripts given on the command line, and ${r.name} was given none`,
        );
      valueOf(s, text(f, s.name)!, f); // checked even where no script flag uses it
    }
  Object.assign(p, extraParams(f, textParams(r.spec.params)));
  return p;
}

/** Parameters checked against the runbook's schema and the definition they build. */
export function checkParams(r: RegisteredRunbook, p: Record<string, unknown>): void {
  const bad = schemaErrors(r, p);
  if (bad) throw new Error(bad);
  checkDefinition(r, p);
}

/** The definition the runbook builds from these parameters, checked as the run will check it. */
function checkDefinition(r: RegisteredRunbook, params: Record<string, unknown>): void {
  try {
    buildChecked(r.spec, params);
  } catch (e) {
    if (!(e instanceof RunbookRefusal)) throw e;
    if (e.type === 'BadParams') throw new Error(e.message);
    throw new Error(
      e.message.startsWith('the runbook ')
        ? e.message.replace(/^the runbook /, `${r.name} `)
        : `${r.name}: ${e.message}`,
    );
  }
}
