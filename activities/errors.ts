// How a TAT API call is made and how its failure reaches Temporal. Every call waits for its turn
// on the process's rate lane of its action (rate-limit.ts), heartbeating meanwhile, and is sent
// again after a pause when TAT answers RequestLimitExceeded. A request the API refuses for what it
// is (bad parameters, unknown resources, missing rights, an operation TAT denies or cannot do)
// fails the same way on every retry, so it becomes a non-retryable ApplicationFailure whose type is
// the TAT error code. Everything else (network errors, InternalError, a resource that is busy for
// now) is thrown as it is, and Temporal retries it with back-off, within the activity's
// schedule-to-close bound (workflows/engine/activities.ts).

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import sdkException from 'tencentcloud-sdk-nodejs/tencentcloud/common/exception/tencent_cloud_sdk_exception.js';
import { isAgentUnreachableCode } from '../tat/agent-reachability.js';
import type { TatClient } from '../tat/node/client.js';
import { laneOf } from './clients.js';

const TencentCloudSDKHttpException = sdkException.default;

/**
 * Codes that look permanent by their prefix but are not: tatd refuses a changing call identical to
 * one it accepted within the same second as a replay (AuthFailure.SignatureExpire); re-signed a
 * second later, by the retry, it goes through. (Clock skew is the same code and waits likewise.)
 */
const TRANSIENT_CODES = new Set(['AuthFailure.SignatureExpire']);

/** Code prefixes that name a permanent refusal. `LimitExceeded` does not match `RequestLimitExceeded`. */
const PERMANENT_PREFIXES = [
  'InvalidParameter', // and InvalidParameterValue
  'ResourceNotFound',
  'UnauthorizedOperation',
  'AuthFailure',
  'LimitExceeded',
  'UnsupportedOperation',
  // FailedOperation.CVMError, .LighthouseError, .TagOperationFailed: TAT tried and another
  // service refused; the same request is refused again.
  'FailedOperation',
];
/** Whole codes that are permanent too: the request itself is wrong, or the quota is used up. */
const PERMANENT_CODES = new Set([
  'MissingParameter',
  'UnknownParameter',
  'InvalidAction',
  'UnsupportedRegion',
  'ResourceUnavailable.UserHasNoQuotaCode',
  'OperationDenied',
]);

/** TAT's over-limit answer (RequestLimitExceeded and its `.UinLimitExceeded`-like refinements). */
export const isRateLimited = (code: string | undefined): boolean =>
  code === 'RequestLimitExceeded' || !!code?.startsWith('RequestLimitExceeded.');
/** How often one call is sent again after RequestLimitExceeded before it is left to Temporal. */
const RATE_LIMIT_TRIES = 6;

/** The TAT error code of an API error answered by the server; undefined for network errors. */
export function tatErrorCode(e: unknown): string | undefined {
  if (!(e instanceof TencentCloudSDKHttpException)) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** The TAT error code of a failed call, raw (SDK error) or classified (ApplicationFailure). */
export function errorCode(e: unknown): string | undefined {
  if (e instanceof ApplicationFailure) return e.type ?? undefined;
  return tatErrorCode(e);
}

export function isPermanentCode(code: string): boolean {
  if (isRateLimited(code) || TRANSIENT_CODES.has(code)) return false;
  return (
    PERMANENT_CODES.has(code) ||
    PERMANENT_PREFIXES.some((p) => code.startsWith(p)) ||
    // Decided per instance at the call: the engine takes such targets out and goes on with the rest.
    isAgentUnreachableCode(code)
  );
}

/** The error to throw for a failed call: a non-retryable failure for a permanent refusal, else `e`. */
export function classifyTatError(e: unknown, what: string): unknown {
  const code = tatErrorCode(e);
  if (code === undefined || !isPermanentCode(code)) return e;
  return ApplicationFailure.nonRetryable(`${what}: ${code}: ${(e as Error).message}`, code);
}

/** The activity the code runs in; undefined outside one (the CLI's preview uses the same calls). */
function activity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Until when (local clock) each activity attempt is certainly still the current one. Temporal gives
 * an attempt up only when no heartbeat reached it for the heartbeat timeout, and a heartbeat called
 * at t reaches it by t + the timeout at the latest (the SDK throttles heartbeats, it never drops
 * the last one). So an attempt alive at t that heartbeats at t stays alive until t + the timeout;
 * a heartbeat called after that revives nothing. It starts at the attempt's first heartbeat (its
 * start, for the activities that ask), and without a heartbeat timeout it is the start-to-close
 * timeout from there.
 */
const lives = new WeakMap<Context, number>();

/** The timeout an attempt's life is reckoned by. */
const lifespan = (ctx: Context) => ctx.info.heartbeatTimeoutMs || ctx.info.startToCloseTimeoutMs || Infinity;

function life(ctx: Context, now: number): number {
  let until = lives.get(ctx);
  if (until === undefined) {
    until = now + lifespan(ctx);
    lives.set(ctx, until);
  }
  return until;
}

/** Inside an activity, a heartbeat (which extends `aliveUntil` while alive); outside, nothing. */
export function heartbeat(details?: unknown): void {
  const ctx = activity();
  if (!ctx) return;
  if (!ctx.info.isLocal) ctx.heartbeat(details); // local activities have no heartbeat
  const now = Date.now();
  const until = life(ctx, now);
  const timeout = ctx.info.heartbeatTimeoutMs;
  if (timeout && now < until) lives.set(ctx, now + timeout);
}

/**
 * Until when (local ms) this attempt is certainly the current one, less a margin for the
 * heartbeat's trip to Temporal and timer slack (2 s, or a tenth of a short timeout); Infinity
 * outside an activity.
 */
export function aliveUntil(): number {
  const ctx = activity();
  if (!ctx) return Infinity;
  return life(ctx, Date.now()) - Math.min(LIVENESS_MARGIN_MS, lifespan(ctx) / 10);
}

/** Taken off an attempt's certain liveness (see aliveUntil). */
export const LIVENESS_MARGIN_MS = 2000;

/** Waits for `p`, heartbeating every few seconds meanwhile (and ending if the activity is cancelled). */
async function heartbeatWhile<T>(p: Promise<T>): Promise<T> {
  const ctx = activity();
  if (!ctx) return p;
  let timer: NodeJS.Timeout | undefined;
  const beats = new Promise<never>((_, reject) => {
    const beat = () => {
      try {
        heartbeat();
      } catch (e) {
        reject(e);
        return;
      }
      timer = setTimeout(beat, 2000);
    };
    timer = setTimeout(beat, 2000);
  });
  try {
    return await Promise.race([p, beats, ctx.cancelled]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CallOptions {
  /** Called right before the request goes out, after its turn on the rate lane came. */
  beforeSend?: () => void;
}

/**
 * Runs one API call of `action` on `tat`: in its turn on the rate lane, sent again after a pause
 * on RequestLimitExceeded, and a permanent refusal comes out as a non-retryable failure. Each call
 * heartbeats, so even short activities can have a heartbeat timeout and a dead worker is noticed
 * in seconds.
 */
export async function tatCall<T>(
  tat: TatClient,
  action: string,
  call: () => Promise<T>,
  o: CallOptions = {},
): Promise<T> {
  const lane = laneOf(tat, action);
  for (let tries = 1; ; tries++) {
    heartbeat();
    if (lane) await heartbeatWhile(lane.take());
    o.beforeSend?.();
    try {
      const r = await call();
      lane?.accepted();
      return r;
    } catch (e) {
      const code = tatErrorCode(e);
      if (lane && isRateLimited(code) && tries < RATE_LIMIT_TRIES) {
        lane.refused();
        continue;
      }
      throw classifyTatError(e, action);
    }
  }
}

/** A non-retryable failure for a request that is wrong on our side (before any API call). */
export function badInput(message: string, type = 'tatflow.BadInput'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}
