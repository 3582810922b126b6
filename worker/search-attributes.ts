// Registering the runs' custom search attributes (workflows/engine/visibility.ts) in a namespace:
// the worker at start (so `tatflow dev`'s too) and `tatflow run` before it starts a run do it, since
// Temporal refuses a run (and fails a workflow task) that sets an attribute the namespace lacks.
// Idempotent: what is there already is left alone; a name registered with another type is an error.

import { RUN_ATTRIBUTE_DEFINITIONS } from '../workflows/engine/visibility.js';

/** Temporal's IndexedValueType numbers (temporal.api.enums.v1). */
const TYPES = { Keyword: 2, Int: 3 } as const;
const TYPE_NAMES: Record<number, string> = {
  1: 'Text',
  2: 'Keyword',
  3: 'Int',
  4: 'Double',
  5: 'Bool',
  6: 'Datetime',
  7: 'KeywordList',
};

/** The two calls of Temporal's OperatorService used here (the client's and the worker's connection have it). */
interface OperatorService {
  listSearchAttributes(r: { namespace: string }): Promise<{
    customAttributes?: Record<string, number> | null;
  }>;
  addSearchAttributes(r: { namespace: string; searchAttributes: Record<string, number> }): Promise<unknown>;
}

/** Adds the run attributes the namespace lacks; returns the names it added. */
export async function ensureRunSearchAttributes(
  operator: OperatorService,
  namespace: string,
): Promise<string[]> {
  const have = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  const missing: Record<string, number> = {};
  for (const { name, type } of RUN_ATTRIBUTE_DEFINITIONS) {
    const now = have[name];
    if (now === undefined || now === null) missing[name] = TYPES[type];
    else if (now !== TYPES[type])
      throw new Error(
        `the search attribute ${name} is registered in namespace ${namespace} with another type ` +
          `(${TYPE_NAMES[now] ?? now}); tatflow needs ${type}`,
      );
  }
  const names = Object.keys(missing);
  if (names.length > 0) {
    try {
      await operator.addSearchAttributes({ namespace, searchAttributes: missing });
    } catch (e) {
      // Another process registered them in the meantime.
      if (!/already exists/i.test((e as Error).message)) throw e;
    }
  }
  return names;
}

/**
 * Like `ensureRunSearchAttributes`, for the worker and `tatflow run`: a namespace that cannot take
 * them (no operator rights, a Temporal service without the operator call, no free slot of a type)
 * is not a reason to stop. Runs then set none and `tatflow runs` does not list them; `why` says so
 * and how to register them by hand.
 */
export async function registerRunSearchAttributes(
  operator: OperatorService,
  namespace: string,
): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    await ensureRunSearchAttributes(operator, namespace);
    return { ok: true };
  } catch (e) {
    const names = RUN_ATTRIBUTE_DEFINITIONS.map((d) => `${d.name} (${d.type})`).join(', ');
    return {
      ok: false,
      why:
        `the runs' search attributes could not be registered in namespace ${namespace}: ` +
        `${(e as Error).message}. Runs will set none and \`tatflow runs\` will not list them; ` +
        `register ${names} (e.g. \`temporal operator search-attribute create --namespace ${namespace} ` +
        `--name TatflowRunbook --type Keyword\`), then restart the worker`,
    };
  }
}
