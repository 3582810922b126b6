// Request rates towards the TAT API. Tencent Cloud allows 20 requests per second per action (and
// answers RequestLimitExceeded beyond), counted per account and region, whatever the number of runs
// a worker carries: so the worker keeps one limiter lane per (account, region, action), shared by
// every activity of the process. A lane lets at most `perSecond` requests start in any window of
// 1.1 s (a 10% margin for the time between taking a slot and the request's arrival), in the order
// they asked. RequestLimitExceeded (another client of the account, or a lower limit than ours)
// pauses the lane with a growing back-off; the call is then retried (tatCall, errors.ts).

/** TAT's documented default: 20 requests per second per action. */
export const DEFAULT_REQUESTS_PER_SECOND = 20;
/** The window the per-second count applies to, with its margin. */
export const WINDOW_MS = 1100;

export class Lane {
  /** Start times of the requests of the last window, oldest first. */
  private readonly sent: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pausedUntil = 0;
  private strikes = 0;

  constructor(
    readonly perSecond: number,
    private readonly clock: () => number = Date.now,
    private readonly wait: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms).unref?.()),
  ) {}

  /** Resolves when this caller may send its request (callers are served in order). */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.next());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async next(): Promise<void> {
    for (;;) {
      const now = this.clock();
      while (this.sent.length > 0 && this.sent[0]! <= now - WINDOW_MS) this.sent.shift();
      let wait = this.pausedUntil - now;
      if (this.sent.length >= this.perSecond) wait = Math.max(wait, this.sent[0]! + WINDOW_MS - now);
      if (wait <= 0) {
        this.sent.push(now);
        return;
      }
      await this.wait(wait);
    }
  }

  /**
   * TAT answered RequestLimitExceeded: nobody on this lane sends for a while (1 s, doubling with
   * each refusal in a row up to 16 s, with ±20% jitter so that workers sharing an account spread).
   * Returns the pause.
   */
  refused(): number {
    this.strikes = Math.min(this.strikes + 1, 5);
    const base = 1000 * 2 ** (this.strikes - 1);
    const pause = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.pausedUntil = Math.max(this.pausedUntil, this.clock() + pause);
    return pause;
  }

  /** A request went through: the back-off starts again from 1 s. */
  accepted(): void {
    this.strikes = 0;
  }
}

/** The lanes of one process, by (account, region, action). */
export class RateLimiter {
  private readonly lanes = new Map<string, Lane>();

  constructor(readonly perSecond: number = DEFAULT_REQUESTS_PER_SECOND) {
    if (!Number.isInteger(perSecond) || perSecond < 1)
      throw new Error(`the TAT request rate must be a whole number ≥ 1 per second, not ${perSecond}`);
  }

  lane(account: string, region: string, action: string): Lane {
    const key = `${account}\u0000${region}\u0000${action}`;
    let l = this.lanes.get(key);
    if (!l) this.lanes.set(key, (l = new Lane(this.perSecond)));
    return l;
  }
}

const shared = new Map<number, RateLimiter>();

/**
 * The process's limiter for this rate: every worker (and every run) of a process that calls with
 * the same rate shares its lanes, so two workers of one account stay within the account's limit.
 */
export function processLimiter(perSecond: number = DEFAULT_REQUESTS_PER_SECOND): RateLimiter {
  let l = shared.get(perSecond);
  if (!l) shared.set(perSecond, (l = new RateLimiter(perSecond)));
  return l;
}
