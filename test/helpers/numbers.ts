// Reference arithmetic for the planning and budget tests.

/** `floor(pct × n)` in exact integer arithmetic, for a percentage written with decimals (`"33.3%"`). */
export function exactFloor(pct: string, n: number): number {
  const [whole = '', frac = ''] = pct.slice(0, -1).split('.');
  const num = Number(whole + frac) * n; // pct × 10^decimals × n, an integer
  const den = 100 * 10 ** frac.length;
  return (num - (num % den)) / den;
}

/** A small deterministic PRNG (mulberry32), so simulations and property loops are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
