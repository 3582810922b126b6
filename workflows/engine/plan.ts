// Planning a rollout: targets into batches (lock-step), or the concurrency of a sliding window or a
// ramp-up. Pure: the workflow and `tatflow preview` both use it.

/** A batch size: a count, or a percentage of all targets like `"10%"`. */
export type Size = number | `${number}%`;

export type Shape =
  | { kind: 'batches'; batches: Size[] }
  | { kind: 'window'; maxConcurrency: Size }
  | { kind: 'rampUp'; maxConcurrency: Size };

/** A canary, then 10%, then 50% of the targets at a time: the shape of a run that names none. */
export const DEFAULT_SHAPE: Shape = { kind: 'batches', batches: [1, '10%', '50%'] };

/** Largest number of invocations TAT accepts per call on every API model (runbooks.md). */
export const MAX_INSTANCES_PER_INVOCATION = 100;

export function parseSize(s: string | number): Size {
  if (typeof s === 'number') {
    if (!Number.isInteger(s) || s < 1) throw new Error(`a size must be a whole number ≥ 1, not ${s}`);
    return s;
  }
  const t = s.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pct) {
    const v = Number(pct[1]);
    if (!(v > 0 && v <= 100)) throw new Error(`a percentage must be in (0, 100], not ${t}`);
    return `${v}%`;
  }
  if (/^\d+$/.test(t)) return parseSize(Number(t));
  throw new Error(`"${s}" is neither a count (like 5) nor a percentage (like 10%)`);
}

/** A size resolved against `total` targets: a percentage is `max(1, floor(pct × total))`. */
export function resolveSize(size: Size, total: number): number {
  if (typeof size === 'number') return size;
  const pct = Number(size.slice(0, -1));
  // Rounded to 1e-9 first so 29% of 100 is 29, not 28 (0.29 × 100 = 28.999999999999996).
  return Math.max(1, Math.floor(Math.round(((pct * total) / 100) * 1e9) / 1e9));
}

/**
 * Targets into lock-step batches; the last size repeats until every target is planned. Percentages
 * are of `total`: all targets of the run, offline ones included (default: the targets given).
 */
export function planBatches<T>(targets: readonly T[], sizes: readonly Size[], total = targets.length): T[][] {
  if (sizes.length === 0) throw new Error('batches: give at least one size');
  for (const s of sizes) parseSize(s); // sizes from a Temporal client never went through the CLI
  const out: T[][] = [];
  let i = 0;
  let k = 0;
  while (i < targets.length) {
    const n = resolveSize(sizes[Math.min(k, sizes.length - 1)]!, total);
    out.push(targets.slice(i, i + n));
    i += n;
    k++;
  }
  return out;
}

/** Concurrency of the window (or the ramp-up's ceiling) for `total` targets, at least 1. */
export function resolveConcurrency(size: Size, total: number): number {
  return Math.max(1, resolveSize(size, total));
}

/** How many may be in flight in ramp-up after `finished` targets ended: 1, 2, 4 … up to the ceiling. */
export function rampUpLimit(step: number, ceiling: number): number {
  return Math.min(ceiling, 2 ** Math.min(step, 30));
}

/** Splits ids into invocations of at most `MAX_INSTANCES_PER_INVOCATION`. */
export function chunk<T>(ids: readonly T[], size = MAX_INSTANCES_PER_INVOCATION): T[][] {
  if (!(size >= 1)) throw new Error(`chunk size must be ≥ 1, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** The kind of instance an id names, by its prefix (`ins`, `lhins`, `rins`). */
export const idKind = (id: string): string => id.slice(0, Math.max(0, id.indexOf('-')));

/**
 * Splits ids into invocations of at most `MAX_INSTANCES_PER_INVOCATION` of one kind each (TAT
 * refuses CVM and Lighthouse instances in one call), kinds in the order they first appear.
 */
export function chunkByKind(ids: readonly string[], size = MAX_INSTANCES_PER_INVOCATION): string[][] {
  const byKind = new Map<string, string[]>();
  for (const id of ids) {
    const k = idKind(id);
    const list = byKind.get(k);
    if (list) list.push(id);
    else byKind.set(k, [id]);
  }
  return [...byKind.values()].flatMap((group) => chunk(group, size));
}
