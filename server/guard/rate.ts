// Rate limits (`rateLimit` in the configuration): counts of events per key in fixed windows, in
// memory. TAT allows 20 API calls per second of one action by one account (RequestLimitExceeded
// beyond); tatd also throttles failed authentications and RegisterInstance per source address,
// and ReportAgentLog per instance. One tatd process counts its own requests.

import { TatError } from '../../tat/errors.js';
import type { ServerConfig } from '../config.js';

/** Keys kept at most per counter; past it, expired windows are dropped, then the oldest keys. */
const MAX_KEYS = 100_000;

/** At most `limit` events per key in each window of `windowMs`. */
export class WindowCounter {
  private readonly windows = new Map<string, { start: number; n: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  private current(key: string): { start: number; n: number } | undefined {
    const w = this.windows.get(key);
    return w && this.now() - w.start < this.windowMs ? w : undefined;
  }

  /** Counts one event; false when it is beyond the limit of its window. */
  hit(key: string): boolean {
    let w = this.current(key);
    if (!w) {
      if (this.windows.size >= MAX_KEYS) this.prune();
      w = { start: this.now(), n: 0 };
      this.windows.delete(key);
      this.windows.set(key, w);
    }
    w.n++;
    return w.n <= this.limit;
  }

  /** Whether the key's window is already over the limit (nothing counted). */
  exceeded(key: string): boolean {
    return (this.current(key)?.n ?? 0) >= this.limit;
  }

  /** Seconds until the key's window ends. */
  retryAfterSeconds(key: string): number {
    const w = this.current(key);
    return w ? Math.max(1, Math.ceil((w.start + this.windowMs - this.now()) / 1000)) : 0;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    // Insertion order is window-start order: the first keys are the oldest.
    for (const k of this.windows.keys()) {
      if (this.windows.size < MAX_KEYS) break;
      this.windows.delete(k);
    }
  }
}

/** The limits of one tatd, from `rateLimit`; every check passes when it is turned off. */
export class RateLimits {
  private readonly api: WindowCounter;
  private readonly failedAuth: WindowCounter;
  private readonly register: WindowCounter;
  private readonly agentLog: WindowCounter;
  private readonly enabled: boolean;

  constructor(config: ServerConfig['rateLimit'], now: () => number) {
    this.enabled = config.enabled;
    this.api = new WindowCounter(config.apiPerActionPerSecond, 1000, now);
    this.failedAuth = new WindowCounter(config.failedAuthPerMinute, 60_000, now);
    this.register = new WindowCounter(config.registerPerMinute, 60_000, now);
    this.agentLog = new WindowCounter(config.agentLogPerMinute, 60_000, now);
  }

  /** One API call of `action` by `account` (TAT's limit per action and account). */
  apiCall(account: string, action: string): void {
    if (!this.enabled || this.api.hit(`${account}\0${action}`)) return;
    throw new TatError(
      'RequestLimitExceeded',
      `More than ${this.api.limit} ${action} calls in one second by this account; slow down and retry.`,
    );
  }

  /** Refuses an address that failed to authenticate too often in the current minute. */
  checkAddress(address: string): void {
    if (!this.enabled || !this.failedAuth.exceeded(address)) return;
    throw new TatError(
      'RequestLimitExceeded',
      `More than ${this.failedAuth.limit} failed authentications from ${address} in one minute; ` +
        `it is refused for ${this.failedAuth.retryAfterSeconds(address)} s. Check the key pair or the agent's registration.`,
    );
  }

  /** Counts a failed authentication from `address`. */
  authFailed(address: string): void {
    if (this.enabled) this.failedAuth.hit(address);
  }

  /** One RegisterInstance from `address`. */
  registration(address: string): void {
    if (!this.enabled || this.register.hit(address)) return;
    throw new TatError(
      'RequestLimitExceeded',
      `More than ${this.register.limit} registrations from ${address} in one minute; retry in ` +
        `${this.register.retryAfterSeconds(address)} s.`,
    );
  }

  /** One ReportAgentLog of `instanceId`. */
  agentLogReport(instanceId: string): void {
    if (!this.enabled || this.agentLog.hit(instanceId)) return;
    throw new TatError(
      'RequestLimitExceeded',
      `More than ${this.agentLog.limit} ReportAgentLog calls from ${instanceId} in one minute; the report is dropped.`,
    );
  }
}
