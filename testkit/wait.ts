// Polling until a condition holds: tests wait for states, never for fixed times.

export async function waitFor<T>(
  probe: () => Promise<T | false | undefined | null> | T | false | undefined | null,
  o: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${o.what ?? 'a condition'}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
