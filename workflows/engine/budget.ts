// The error budget (runbooks.md, Outcomes and the error budget). Pure.

import type { Size } from './plan.js';

/** `maxErrors` resolved: a count, or `floor(pct × total)` for a percentage (0 allowed). */
export function resolveMaxErrors(maxErrors: Size | 0, total: number): number {
  if (typeof maxErrors === 'number') return maxErrors;
  const pct = Number(maxErrors.slice(0, -1));
  return Math.floor(Math.round(((pct * total) / 100) * 1e9) / 1e9);
}

/** The run breaches when counted errors exceed `maxErrors` (0: the first error breaches). */
export function isBreached(errors: number, maxErrors: number): boolean {
  return errors > maxErrors;
}

/**
 * How many more targets may be started now. Default: `want` (the batch or window size decides).
 * Strict: in flight is capped at remaining budget + 1, so errors can never pass `maxErrors + 1`.
 */
export function admissible(o: {
  want: number;
  inFlight: number;
  errors: number;
  maxErrors: number;
  strict: boolean;
}): number {
  if (isBreached(o.errors, o.maxErrors)) return 0;
  if (!o.strict) return Math.max(0, o.want);
  const cap = o.maxErrors - o.errors + 1 - o.inFlight;
  return Math.max(0, Math.min(o.want, cap));
}
