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

/**
 * For a test that proves that something does NOT happen: checks `holds` over `forMs` (every
 * 50 ms) and fails at the first moment it does not. The caller says, in `why`, why that long is
 * enough to have seen it happen (usually: many times the time the thing takes when it does).
 */
export async function stays(
  holds: () => Promise<boolean> | boolean,
  o: { forMs: number; why: string; what: string },
): Promise<void> {
  const end = Date.now() + o.forMs;
  for (;;) {
    if (!(await holds())) throw new Error(`${o.what} stopped holding (watched for ${o.forMs} ms: ${o.why})`);
    if (Date.now() >= end) return;
    await sleep(Math.min(50, end - Date.now()));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the wall clock enters its next second (at most one second). A TC3 signature holds
 * the time in seconds and no nonce, so tatd takes a changing call identical to one it accepted
 * within the same second for a replay (docs/api-coverage.md): a test that sends one twice on
 * purpose waits for this first.
 */
export async function nextSecond(): Promise<void> {
  const now = Date.now();
  await sleep(1000 - (now % 1000) + 5);
}
