// Turning flattened form/query parameters (v1 signature, TC3 GET) into the JSON shape of an
// action: `Filters.0.Values.1=x` → {Filters:[{Values:[, 'x']}]}, then strings coerced to the
// numbers and booleans the action's schema expects (docs/tat-api-reference.md, "Requests").

import type { z } from 'zod';
import { TatError } from '../../tat/errors.js';

/** API 3.0 common parameters of the v1 style; they are not action parameters. */
export const V1_COMMON_PARAMS = new Set([
  'Action',
  'Version',
  'Region',
  'Timestamp',
  'Nonce',
  'SecretId',
  'SignatureMethod',
  'Signature',
  'Token',
  'Language',
  'RequestClient',
]);

type Tree = Record<string, unknown> | unknown[];

/** Key parts that would reach Object.prototype when used on a plain object; no TAT name is one. */
const UNSAFE_PARTS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * Highest list index accepted. No TAT list comes near it (InstanceIds: 200); without a cap one
 * `CommandIds.99999999=x` makes a list of a hundred million holes that exhausts the heap.
 */
const MAX_INDEX = 10_000;

function listIndex(key: string, part: string): number {
  if (!/^\d+$/.test(part) || Number(part) > MAX_INDEX)
    throw new TatError(
      'InvalidParameter',
      `The parameter ${key} needs list indexes from 0 to ${MAX_INDEX} ("${part.slice(0, 20)}" is none).`,
    );
  return Number(part);
}

export function unflatten(params: Record<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (V1_COMMON_PARAMS.has(key)) continue;
    const parts = key.split('.');
    // Not a parameter of any action; as a key it could change Object.prototype for the server.
    if (parts.some((p) => UNSAFE_PARTS.has(p))) continue;
    let node: Tree = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      const slot: string | number = Array.isArray(node) ? listIndex(key, part) : part;
      const holder = node as Record<string | number, unknown>;
      if (last) {
        holder[slot] = value;
      } else {
        const nextIsIndex = /^\d+$/.test(parts[i + 1]!);
        holder[slot] ??= nextIsIndex ? [] : {};
        const next = holder[slot];
        if (next === null || typeof next !== 'object')
          throw new TatError(
            'InvalidParameter',
            `The parameter ${parts.slice(0, i + 1).join('.')} is given both as a value and as a list or structure.`,
          );
        node = next as Tree;
      }
    }
  }
  return root;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
}

const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;

/** Coerces string leaves to the types `schema` expects; anything else is left for zod to judge. */
export function coerceToSchema(schema: z.ZodType, value: unknown): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
      return coerceToSchema(def.innerType!, value);
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const [k, s] of Object.entries(def.shape ?? {})) if (k in out) out[k] = coerceToSchema(s, out[k]);
      return out;
    }
    case 'array': {
      // A form list arrives as an array; a lone `Name=x` (no index) means a one-element list.
      const list = Array.isArray(value) ? value : [value];
      return list.map((v) => coerceToSchema(def.element!, v));
    }
    case 'number':
      return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    case 'boolean':
      if (value === 'true') return true;
      if (value === 'false') return false;
      return value;
    default:
      return value;
  }
}
