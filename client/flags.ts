// CLI flags are validated with zod like every other boundary; errors name the flag.

import type { z } from 'zod';

const flagName = (key: PropertyKey) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function parseFlags<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success)
    throw new Error(r.error.issues.map((i) => `${flagName(i.path[0] ?? '')}: ${i.message}`).join('; '));
  return r.data;
}

/** Commander's accumulator for a repeatable option (`--tag a=1 --tag b=2`). */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
