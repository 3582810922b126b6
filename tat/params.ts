// Custom parameters (docs/tat-api-reference.md, "Custom parameters"): `{{name}}` and
// `{{tat-hidden:name}}` placeholders in a command's decoded script, values from the call's
// `Parameters` over the command's defaults. Substitution happens on the server; the API only ever
// returns the template.

import { TatError } from './errors.js';
import { LIMITS } from './limits.js';
import type { DefaultParameterConf } from './schemas/common.js';

export type ParameterValues = Record<string, string>;

const NAME = /^[a-zA-Z0-9_-]+$/;
const PLACEHOLDER = /\{\{(tat-hidden:)?([a-zA-Z0-9_-]{1,64})\}\}/g;
export const HIDDEN_MASK = '******';

function checkName(name: string, what: string): void {
  if (name.length > LIMITS.parameterNameChars)
    throw new TatError(
      'InvalidParameterValue.ParameterKeyLenExceeded',
      `${what}: the parameter name "${name.slice(0, 80)}…" is longer than ${LIMITS.parameterNameChars} characters.`,
    );
  if (!NAME.test(name))
    throw new TatError(
      'InvalidParameterValue.ParameterKeyContainsInvalidChar',
      `${what}: the parameter name "${name}" may only contain letters, digits, "-" and "_".`,
    );
}

function checkCount(n: number, what: string): void {
  if (n > LIMITS.parameters)
    throw new TatError(
      'InvalidParameterValue.ParameterNumberExceeded',
      `${what} holds ${n} parameters; at most ${LIMITS.parameters} are allowed.`,
    );
}

/** The keys of a JSON object text at depth 1, in order, duplicates included. */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

/**
 * Parses a `Parameters` / `DefaultParameters` string: a JSON object whose values are strings,
 * at most 20 keys, names of [a-zA-Z0-9-_] up to 64 characters, no key twice.
 */
export function parseParameterJson(text: string, field: string): ParameterValues {
  // Values are stored with the invocation: no longer than a script may be.
  if (text.length > LIMITS.contentBase64Bytes)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `${field} is ${text.length} characters; at most ${LIMITS.contentBase64Bytes} are allowed.`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TatError(
      'InvalidParameterValue.ParameterInvalidJsonFormat',
      `${field} must be a JSON object text such as {"name": "value"}; it does not parse as JSON.`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new TatError(
      'InvalidParameterValue.ParameterInvalidJsonFormat',
      `${field} must be a JSON object text such as {"name": "value"}.`,
    );
  const keys = topLevelKeys(text);
  checkCount(keys.length, field);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k))
      throw new TatError(
        'InvalidParameterValue.ParameterKeyDuplicated',
        `${field} names "${k}" more than once.`,
      );
    seen.add(k);
    checkName(k, field);
  }
  const values: ParameterValues = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'string')
      throw new TatError(
        'InvalidParameterValue.ParameterValueNotString',
        `${field}: the value of "${k}" must be a string (got ${v === null ? 'null' : typeof v}).`,
      );
    values[k] = v;
  }
  return values;
}

/** Checks `DefaultParameterConfs` and returns the defaults they define. */
export function parseParameterConfs(confs: DefaultParameterConf[]): ParameterValues {
  checkCount(confs.length, 'DefaultParameterConfs');
  const size = JSON.stringify(confs).length;
  if (size > LIMITS.contentBase64Bytes)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `DefaultParameterConfs is ${size} characters as JSON; at most ${LIMITS.contentBase64Bytes} are allowed.`,
    );
  const values: ParameterValues = {};
  for (const c of confs) {
    checkName(c.ParameterName, 'DefaultParameterConfs');
    if (Object.hasOwn(values, c.ParameterName))
      throw new TatError(
        'InvalidParameterValue.ParameterKeyDuplicated',
        `DefaultParameterConfs names "${c.ParameterName}" more than once.`,
      );
    values[c.ParameterName] = c.ParameterValue;
  }
  return values;
}

export interface Placeholder {
  name: string;
  hidden: boolean;
}

/** Placeholders of a decoded script, each name once (hidden if any occurrence is hidden). */
export function findPlaceholders(script: string): Placeholder[] {
  const byName = new Map<string, Placeholder>();
  for (const m of script.matchAll(PLACEHOLDER)) {
    const name = m[2]!;
    const hidden = m[1] !== undefined;
    const prev = byName.get(name);
    byName.set(name, { name, hidden: hidden || (prev?.hidden ?? false) });
  }
  return [...byName.values()];
}

const utf8 = new TextEncoder();

/**
 * The script after substitution is what the agent gets, and it is stored for every task: it must
 * fit the Content limit (64 KB of Base64) like the template, or CommandContentInvalid.
 */
export function checkSubstitutedScript(script: string): void {
  const base64Bytes = Math.ceil(utf8.encode(script).length / 3) * 4;
  if (base64Bytes > LIMITS.contentBase64Bytes)
    throw new TatError(
      'InvalidParameterValue.CommandContentInvalid',
      `With its parameter values the script is ${base64Bytes} bytes of Base64; at most ` +
        `${LIMITS.contentBase64Bytes} are allowed (the Content limit). Pass large data another way ` +
        '(a file the script downloads, for example).',
    );
}

/** Replaces every placeholder that has a value; the others stay as written. */
export function substitute(script: string, values: ParameterValues): string {
  return script.replace(PLACEHOLDER, (whole, _hidden: string | undefined, name: string) =>
    Object.hasOwn(values, name) ? values[name]! : whole,
  );
}

/** `Parameters` as recorded on an invocation: JSON text with hidden values masked, "" when none. */
export function recordedParameters(values: ParameterValues, script: string): string {
  if (Object.keys(values).length === 0) return '';
  const hidden = new Set(
    findPlaceholders(script)
      .filter((p) => p.hidden)
      .map((p) => p.name),
  );
  const shown: ParameterValues = {};
  for (const [k, v] of Object.entries(values)) shown[k] = hidden.has(k) ? HIDDEN_MASK : v;
  return JSON.stringify(shown);
}

/**
 * Values for a run: the call's over the command's defaults. Every placeholder in the script
 * must then have a value (`LackOfParameterInfo` names the ones that do not).
 */
export function resolveRunParameters(
  script: string,
  defaults: ParameterValues,
  given: ParameterValues,
): ParameterValues {
  const values = { ...defaults, ...given };
  const missing = findPlaceholders(script)
    .map((p) => p.name)
    .filter((n) => !Object.hasOwn(values, n));
  if (missing.length > 0)
    throw new TatError(
      'InvalidParameterValue.LackOfParameterInfo',
      `No value and no default for the parameter${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')} used in the command.`,
    );
  return values;
}
